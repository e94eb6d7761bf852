"""IAM documents the scenarios create (DOMAIN.md §6.1, §8)."""

from __future__ import annotations

import json


def service_trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def pod_execution_trust(region: str, account_id: str, cluster: str) -> str:
    """The documented trust policy: eks-fargate-pods.amazonaws.com, limited by aws:SourceArn to this
    cluster's Fargate profiles (confused-deputy protection)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Condition": {
                        "ArnLike": {
                            "aws:SourceArn": f"arn:aws:eks:{region}:{account_id}:fargateprofile/{cluster}/*"
                        }
                    },
                    "Principal": {"Service": "eks-fargate-pods.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def irsa_trust(account_id: str, issuer: str, namespace: str, service_account: str) -> str:
    provider = issuer.removeprefix("https://")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": f"arn:aws:iam::{account_id}:oidc-provider/{provider}"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{provider}:aud": "sts.amazonaws.com",
                            f"{provider}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        }
                    },
                }
            ],
        }
    )


# A condensed form of the controller's published iam_policy.json (v2.7.2): the same services and
# the actions the controller uses on them, grouped; enough for a policy simulator-free sandbox.
LOAD_BALANCER_CONTROLLER_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["iam:CreateServiceLinkedRole"],
                "Resource": "*",
                "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
            },
            {
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
                    "ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections",
                    "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances",
                    "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:GetCoipPoolUsage",
                    "ec2:DescribeCoipPools", "elasticloadbalancing:DescribeLoadBalancers",
                    "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeListenerCertificates", "elasticloadbalancing:DescribeSSLPolicies",
                    "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth",
                    "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTrustStores",
                ],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": [
                    "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
                    "ec2:CreateSecurityGroup", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteSecurityGroup",
                ],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup",
                    "elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule",
                    "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
                    "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType",
                    "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
                    "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
                    "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup",
                    "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets",
                    "elasticloadbalancing:SetWebAcl", "elasticloadbalancing:ModifyListener",
                    "elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:RemoveListenerCertificates",
                    "elasticloadbalancing:ModifyRule",
                ],
                "Resource": "*",
            },
        ],
    }
)
