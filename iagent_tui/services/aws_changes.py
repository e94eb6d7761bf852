"""The AWS calls that change things (IAM roles, policies and OIDC providers; EKS Fargate profiles,
add-ons and node groups), on the clients of an AwsServices (services/aws.py).

Kept apart from the reads so the actions' runner is the only caller and read-only mode has one
place to stop them. Every failure is raised as a ServiceError whose sentence names the call, the
object and the fix (services/errors.py).
"""

from __future__ import annotations

import json
from typing import Any

from .aws import AwsServices
from .errors import ServiceError, from_aws

FARGATE_POD_PRINCIPAL = "eks-fargate-pods.amazonaws.com"  # DOMAIN.md 8.1 (not pods.eks.amazonaws.com)
FARGATE_POD_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"
OIDC_AUDIENCE = "sts.amazonaws.com"


def account_of(arn: str) -> str:
    """The account id in an ARN (arn:aws:eks:<region>:<account>:cluster/<name>)."""
    parts = arn.split(":")
    if len(parts) < 6 or not parts[4]:
        raise ServiceError("invalid", f"Cannot read the AWS account from ARN {arn!r}.")
    return parts[4]


def pod_execution_trust(region: str, account: str, cluster: str) -> dict:
    """Trust for the Fargate pod execution role, with the aws:SourceArn condition AWS recommends
    against the confused-deputy problem (DOMAIN.md 8.1)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:eks:{region}:{account}:fargateprofile/{cluster}/*"}},
            "Principal": {"Service": FARGATE_POD_PRINCIPAL},
            "Action": "sts:AssumeRole",
        }],
    }


def irsa_trust(account: str, issuer_url: str, namespace: str, service_account: str) -> dict:
    """Trust for an IRSA role: the cluster's OIDC provider, audience sts, this service account
    (DOMAIN.md 6.1 / 8.2)."""
    host = issuer_url.removeprefix("https://")
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{account}:oidc-provider/{host}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{host}:aud": OIDC_AUDIENCE,
                f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
            }},
        }],
    }


class AwsChanges:
    """Mutating AWS calls. ``AwsChanges(aws_services)``; the AwsServices owns the clients."""

    def __init__(self, aws: AwsServices) -> None:
        self.aws = aws

    async def _call(self, service: str, op: str, action: str, target: str, **params: Any) -> dict:
        try:
            client = await self.aws.client(service)
            return await getattr(client, op)(**params)
        except ServiceError:
            raise
        except Exception as exc:
            raise from_aws(exc, action, target) from None

    # -- IAM -------------------------------------------------------------------------------------
    async def create_role(self, name: str, trust: dict, description: str) -> dict:
        out = await self._call("iam", "create_role", "create the IAM role", name, RoleName=name,
                               AssumeRolePolicyDocument=json.dumps(trust), Description=description)
        return out["Role"]

    async def update_trust(self, name: str, trust: dict) -> None:
        await self._call("iam", "update_assume_role_policy", "update the trust policy of the IAM role", name,
                         RoleName=name, PolicyDocument=json.dumps(trust))

    async def attach_role_policy(self, role: str, policy_arn: str) -> None:
        await self._call("iam", "attach_role_policy", "attach the policy to the IAM role", f"{policy_arn} -> {role}",
                         RoleName=role, PolicyArn=policy_arn)

    async def policy_exists(self, arn: str) -> bool:
        try:
            await self._call("iam", "get_policy", "read the IAM policy", arn, PolicyArn=arn)
        except ServiceError as err:
            if err.kind == "not_found":
                return False
            raise
        return True

    async def create_policy(self, name: str, document: dict, description: str) -> str:
        out = await self._call("iam", "create_policy", "create the IAM policy", name, PolicyName=name,
                               PolicyDocument=json.dumps(document), Description=description)
        return out["Policy"]["Arn"]

    async def oidc_provider(self, arn: str) -> dict | None:
        try:
            return await self._call("iam", "get_open_id_connect_provider", "read the IAM OIDC provider", arn,
                                    OpenIDConnectProviderArn=arn)
        except ServiceError as err:
            if err.kind == "not_found":
                return None
            raise

    async def create_oidc_provider(self, issuer_url: str, thumbprints: list[str]) -> str:
        params: dict[str, Any] = {"Url": issuer_url, "ClientIDList": [OIDC_AUDIENCE]}
        if thumbprints:
            params["ThumbprintList"] = thumbprints
        out = await self._call("iam", "create_open_id_connect_provider", "create the IAM OIDC provider",
                               issuer_url, **params)
        return out["OpenIDConnectProviderArn"]

    # -- EKS -------------------------------------------------------------------------------------
    async def create_fargate_profile(self, cluster: str, name: str, role_arn: str, subnets: list[str],
                                     selectors: list[dict]) -> dict:
        out = await self._call("eks", "create_fargate_profile", "create the Fargate profile", f"{cluster}/{name}",
                               clusterName=cluster, fargateProfileName=name, podExecutionRoleArn=role_arn,
                               subnets=subnets, selectors=selectors)
        return out["fargateProfile"]

    async def delete_fargate_profile(self, cluster: str, name: str) -> dict:
        out = await self._call("eks", "delete_fargate_profile", "delete the Fargate profile", f"{cluster}/{name}",
                               clusterName=cluster, fargateProfileName=name)
        return out["fargateProfile"]

    async def update_addon_configuration(self, cluster: str, addon: str, configuration: dict) -> dict:
        """Replace the add-on's configurationValues; OVERWRITE so fields edited by hand on the
        managed objects do not block the change (DOMAIN.md 4.3)."""
        out = await self._call("eks", "update_addon", "update the EKS add-on", f"{cluster}/{addon}",
                               clusterName=cluster, addonName=addon, resolveConflicts="OVERWRITE",
                               configurationValues=json.dumps(configuration, sort_keys=True) if configuration else "{}")
        return out["update"]

    async def scale_nodegroup(self, cluster: str, nodegroup: str, minimum: int, desired: int, maximum: int) -> dict:
        out = await self._call("eks", "update_nodegroup_config", "scale the node group", f"{cluster}/{nodegroup}",
                               clusterName=cluster, nodegroupName=nodegroup,
                               scalingConfig={"minSize": minimum, "desiredSize": desired, "maxSize": maximum})
        return out["update"]

    async def describe_nodegroup(self, cluster: str, nodegroup: str) -> dict:
        out = await self._call("eks", "describe_nodegroup", "describe the node group", f"{cluster}/{nodegroup}",
                               clusterName=cluster, nodegroupName=nodegroup)
        return out["nodegroup"]
