"""AwsServices (aiobotocore) against moto's server, checked against what boto3 wrote and reads."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config

from iagent_tui.services.aws import AwsServices
from iagent_tui.services.connection import AwsTarget
from iagent_tui.services.errors import ServiceError

REGION = "eu-central-1"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks-fargate-pods.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _boto(moto: str, service: str):
    return boto3.client(service, region_name=REGION, endpoint_url=moto)


def _seed_cluster(moto: str) -> dict:
    ec2, iam, eks = _boto(moto, "ec2"), _boto(moto, "iam"), _boto(moto, "eks")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
        for i, az in enumerate("ab")
    ]
    ec2.create_tags(Resources=[subnets[0]], Tags=[{"Key": "kubernetes.io/role/internal-elb", "Value": "1"}])
    role = iam.create_role(RoleName="AmazonEKSFargatePodExecutionRole", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    eks.create_cluster(name="iagent-cluster", roleArn=role, resourcesVpcConfig={"subnetIds": subnets})
    eks.create_fargate_profile(
        fargateProfileName="fp-prod", clusterName="iagent-cluster", podExecutionRoleArn=role,
        subnets=subnets[:1], selectors=[{"namespace": "prod", "labels": {"app": "iagent"}}],
    )
    eks.create_fargate_profile(
        fargateProfileName="fp-default", clusterName="iagent-cluster", podExecutionRoleArn=role,
        subnets=subnets[:1], selectors=[{"namespace": "default"}],
    )
    eks.create_nodegroup(
        clusterName="iagent-cluster", nodegroupName="ng-1", nodeRole=role, subnets=subnets,
        scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 2}, instanceTypes=["t3.medium"],
    )
    return {"vpc": vpc, "subnets": subnets, "role": role}


async def test_eks_reads_match_what_boto3_sees(moto):
    seeded = _seed_cluster(moto)
    async with AwsServices(AwsTarget(REGION, endpoint_url=moto)) as aws:
        cluster = await aws.describe_cluster("iagent-cluster")
        profiles = await aws.fargate_profiles("iagent-cluster")
        groups = await aws.nodegroups("iagent-cluster")
    truth = _boto(moto, "eks").describe_cluster(name="iagent-cluster")["cluster"]
    assert (cluster.name, cluster.region, cluster.status, cluster.version, cluster.arn) == (
        "iagent-cluster", REGION, truth["status"], truth["version"], truth["arn"],
    )
    assert cluster.endpoint == truth["endpoint"]
    assert [p.name for p in profiles] == ["fp-default", "fp-prod"]  # sorted by name
    prod = profiles[1]
    assert prod.status == "ACTIVE"
    assert prod.subnets == (seeded["subnets"][0],)
    assert prod.pod_execution_role_arn == seeded["role"]
    assert [(s.namespace, dict(s.labels)) for s in prod.selectors] == [("prod", {"app": "iagent"})]
    assert prod.arn.startswith(f"arn:aws:eks:{REGION}:") and "fargateprofile/iagent-cluster/fp-prod/" in prod.arn
    assert profiles[0].created_at is not None
    assert len(groups) == 1
    assert (groups[0].name, groups[0].desired, groups[0].min, groups[0].max, groups[0].instance_types) == ("ng-1", 2, 1, 4, ("t3.medium",))


async def test_missing_cluster_is_not_found_with_a_sentence(moto):
    async with AwsServices(AwsTarget(REGION, endpoint_url=moto)) as aws:
        with pytest.raises(ServiceError) as err:
            await aws.describe_cluster("no-such-cluster")
    assert err.value.kind == "not_found"
    assert "no-such-cluster" in err.value.message
    assert err.value.code == "ResourceNotFoundException"


async def test_target_groups_with_health_and_load_balancer_name(moto):
    seeded = _seed_cluster(moto)
    elb = _boto(moto, "elbv2")
    lb = elb.create_load_balancer(Name="k8s-default-web-0123456789", Subnets=seeded["subnets"], Scheme="internet-facing")["LoadBalancers"][0]
    tg = elb.create_target_group(Name="k8s-default-web-abcdef0123", Protocol="HTTP", Port=80, VpcId=seeded["vpc"], TargetType="ip")["TargetGroups"][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "10.0.0.12", "Port": 80}, {"Id": "10.0.0.11", "Port": 80}])
    truth = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]

    async with AwsServices(AwsTarget(REGION, endpoint_url=moto)) as aws:
        lbs = await aws.load_balancers()
        groups = await aws.target_groups()
    assert [(x.name, x.arn, x.dns_name, x.scheme) for x in lbs] == [(lb["LoadBalancerName"], lb["LoadBalancerArn"], lb["DNSName"], "internet-facing")]
    (group,) = groups
    assert (group.name, group.arn, group.lb_name, group.target_type) == (tg["TargetGroupName"], tg["TargetGroupArn"], lb["LoadBalancerName"], "ip")
    assert [t.id for t in group.targets] == ["10.0.0.11", "10.0.0.12"]
    assert {(t.id, t.state) for t in group.targets} == {(d["Target"]["Id"], d["TargetHealth"]["State"]) for d in truth}


async def test_iam_role_lookup_decodes_trust_and_missing_role_is_none(moto):
    _seed_cluster(moto)
    iam = _boto(moto, "iam")
    # moto's server does not load AWS managed policies by default: attach a customer one instead
    ecr = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"}]}
    policy = iam.create_policy(PolicyName="EcrPull", PolicyDocument=json.dumps(ecr))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="AmazonEKSFargatePodExecutionRole", PolicyArn=policy)
    async with AwsServices(AwsTarget(REGION, endpoint_url=moto)) as aws:
        role = await aws.role("AmazonEKSFargatePodExecutionRole")
        policies = await aws.attached_role_policies("AmazonEKSFargatePodExecutionRole")
        missing = await aws.role("NoSuchRole")
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "eks-fargate-pods.amazonaws.com"}
    assert policies == (policy,)
    assert missing is None


async def test_private_subnets_are_the_internal_elb_tagged_ones(moto):
    seeded = _seed_cluster(moto)
    async with AwsServices(AwsTarget(REGION, endpoint_url=moto)) as aws:
        assert await aws.private_subnets(seeded["vpc"]) == (seeded["subnets"][0],)


async def test_unreachable_endpoint_is_reported_as_unreachable(aws_env):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    no_retries = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2)
    async with AwsServices(AwsTarget(REGION, endpoint_url=f"http://127.0.0.1:{port}"), config=no_retries) as aws:
        with pytest.raises(ServiceError) as err:
            await aws.describe_cluster("iagent-cluster")
    assert err.value.kind == "unreachable"
    assert "describe the EKS cluster" in err.value.message
