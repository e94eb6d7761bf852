"""Fargate profiles through the sandbox gateway: validation texts, lifecycle, one-at-a-time rule."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from iagent_sandbox.aws.iam_documents import pod_execution_trust
from iagent_sandbox.aws.timings import AwsTimings

from .test_aws_fixtures import CLUSTER, Aws, aws, make_sandbox, started, wait_for  # noqa: F401

POD_ROLE = "AmazonEKSFargatePodExecutionRole"


async def pod_role(env: Aws, name: str = POD_ROLE, trust: str | None = None, path: str = "/") -> str:
    document = trust or pod_execution_trust(env.sandbox.region, env.sandbox.account_id, CLUSTER)
    result = await env.call("iam", "create_role", RoleName=name, Path=path, AssumeRolePolicyDocument=document)
    return result["Role"]["Arn"]


async def create_profile(env: Aws, name: str, role: str, **overrides: object) -> dict:
    kwargs = {
        "clusterName": CLUSTER,
        "fargateProfileName": name,
        "podExecutionRoleArn": role,
        "subnets": env.ids["private_subnets"],
        "selectors": [{"namespace": name}],
    }
    kwargs.update(overrides)
    return await env.call("eks", "create_fargate_profile", **kwargs)


async def profile_status(env: Aws, name: str) -> str | None:
    try:
        result = await env.call("eks", "describe_fargate_profile", clusterName=CLUSTER, fargateProfileName=name)
    except env.client("eks").exceptions.ResourceNotFoundException:
        return None
    return result["fargateProfile"]["status"]


async def test_profile_goes_creating_then_active(aws: Aws) -> None:
    role = await pod_role(aws)
    aws.sandbox.clock.set_speed(1)  # real time: the profile stays CREATING while we look
    created = await create_profile(aws, "fp-default", role)
    profile = created["fargateProfile"]
    assert profile["status"] == "CREATING"
    assert profile["subnets"] == aws.ids["private_subnets"]
    assert profile["fargateProfileArn"].startswith(
        f"arn:aws:eks:eu-central-1:123456789012:fargateprofile/{CLUSTER}/fp-default/"
    )
    assert [p["status"] for p in aws.sandbox.fargate_profiles(CLUSTER)] == ["CREATING"]
    aws.sandbox.clock.set_speed(1000)

    async def active() -> bool:
        return await profile_status(aws, "fp-default") == "ACTIVE"

    await wait_for(active, what="fp-default ACTIVE")
    assert aws.sandbox.fargate_profiles(CLUSTER)[0]["status"] == "ACTIVE"


async def test_public_subnet_is_rejected_with_the_exact_message(aws: Aws) -> None:
    role = await pod_role(aws)
    public = aws.ids["public_subnets"][1]
    error = await aws.error(
        "eks", "create_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-x",
        podExecutionRoleArn=role, subnets=[aws.ids["private_subnets"][0], public],
        selectors=[{"namespace": "default"}],
    )
    assert (error["code"], error["status"]) == ("InvalidParameterException", 400)
    assert error["message"] == f"Subnet {public} provided in Fargate Profile is not a private subnet"
    assert error["response"]["fargateProfileName"] == "fp-x"


async def test_subnet_using_the_vpc_main_table_with_an_igw_route_is_public(aws: Aws) -> None:
    """A subnet without an explicit association uses the VPC's main route table."""
    ec2 = aws.ids
    subnet = (await aws.call("ec2", "create_subnet", VpcId=ec2["vpc_id"], CidrBlock="10.0.64.0/24",
                              AvailabilityZone="eu-central-1a"))["Subnet"]["SubnetId"]
    role = await pod_role(aws)
    created = await create_profile(aws, "fp-main", role, subnets=[subnet])  # main table: local only
    assert created["fargateProfile"]["status"] == "CREATING"

    await wait_for(lambda: _is(aws, "fp-main", "ACTIVE"), what="fp-main ACTIVE")
    tables = await aws.call("ec2", "describe_route_tables", Filters=[
        {"Name": "vpc-id", "Values": [ec2["vpc_id"]]}, {"Name": "association.main", "Values": ["true"]}])
    main_table = tables["RouteTables"][0]["RouteTableId"]
    await aws.call("ec2", "create_route", RouteTableId=main_table, DestinationCidrBlock="0.0.0.0/0",
                   GatewayId=ec2["internet_gateway_id"])
    error = await aws.error("eks", "create_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-main2",
                            podExecutionRoleArn=role, subnets=[subnet], selectors=[{"namespace": "a"}])
    assert error["message"] == f"Subnet {subnet} provided in Fargate Profile is not a private subnet"


async def _is(env: Aws, name: str, status: str | None) -> bool:
    return await profile_status(env, name) == status


async def test_omitted_subnets_default_to_the_clusters_private_subnets(aws: Aws) -> None:
    role = await pod_role(aws)
    created = await aws.call("eks", "create_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-auto",
                             podExecutionRoleArn=role, selectors=[{"namespace": "default"}])
    assert sorted(created["fargateProfile"]["subnets"]) == sorted(aws.ids["private_subnets"])


SELECTOR_CASES = [
    ([], "Fargate Profile requires at least one selector."),
    ([{"labels": {"a": "b"}}],
     "Fargate Profile must have at least one selector with at least one namespace value."),
    ([{"namespace": "x", "labels": {f"k{i}": "v" for i in range(6)}}],
     "Request contains Selector with more than 5 Label pairs"),
    ([{"namespace": f"n{i}"} for i in range(6)],
     "Fargate Profile has 6 selectors; a profile can have at most 5 selectors."),
]


async def test_selector_rules(aws: Aws) -> None:
    role = await pod_role(aws)
    for selectors, message in SELECTOR_CASES:
        error = await aws.error("eks", "create_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-sel",
                                podExecutionRoleArn=role, subnets=aws.ids["private_subnets"], selectors=selectors)
        assert (error["code"], error["message"]) == ("InvalidParameterException", message), selectors


async def test_pod_execution_role_rules(aws: Aws) -> None:
    def wrong_principal(principal: str) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}]})

    trust_message = ("Misconfigured PodExecutionRole Trust Policy; Please add the "
                     "eks-fargate-pods.amazonaws.com Service Principal")
    # The principal the brief names (EKS Pod Identity) is not the Fargate one.
    pod_identity = await pod_role(aws, "PodIdentityRole", wrong_principal("pods.eks.amazonaws.com"))
    # A SourceArn condition naming the cluster instead of its Fargate profiles.
    cluster_arn = aws.ids["cluster_arn"]
    bad_condition = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "eks-fargate-pods.amazonaws.com"},
        "Action": "sts:AssumeRole", "Condition": {"ArnLike": {"aws:SourceArn": cluster_arn}}}]})
    cluster_scoped = await pod_role(aws, "ClusterScopedRole", bad_condition)
    with_path = await pod_role(aws, "PathRole", path="/fargate/")
    missing = "arn:aws:iam::123456789012:role/DoesNotExist"

    cases = {pod_identity: trust_message, cluster_scoped: trust_message, missing: trust_message,
             with_path: (f"Invalid Role Arn: '{with_path}'. The pod execution role ARN can't include a "
                         "path other than '/'."),
             "not-an-arn": "Invalid Role Arn: 'not-an-arn'"}
    for arn, message in cases.items():
        error = await aws.error("eks", "create_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-r",
                                podExecutionRoleArn=arn, subnets=aws.ids["private_subnets"],
                                selectors=[{"namespace": "default"}])
        assert (error["code"], error["message"]) == ("InvalidParameterException", message), arn

    good = await pod_role(aws)
    assert (await create_profile(aws, "fp-r", good))["fargateProfile"]["status"] == "CREATING"


async def test_duplicate_name_and_unknown_cluster(aws: Aws) -> None:
    role = await pod_role(aws)
    await create_profile(aws, "fp-dup", role)
    await wait_for(lambda: _is(aws, "fp-dup", "ACTIVE"), what="fp-dup ACTIVE")
    error = await aws.error("eks", "create_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-dup",
                            podExecutionRoleArn=role, subnets=aws.ids["private_subnets"],
                            selectors=[{"namespace": "x"}])
    assert (error["code"], error["status"]) == ("ResourceInUseException", 409)
    assert error["message"] == "A Fargate Profile already exists with this name in this cluster."

    error = await aws.error("eks", "create_fargate_profile", clusterName="nope", fargateProfileName="fp",
                            podExecutionRoleArn=role, selectors=[{"namespace": "x"}])
    assert (error["code"], error["status"], error["message"]) == (
        "ResourceNotFoundException", 404, "No cluster found for name: nope.")


@pytest.fixture
async def slow_aws() -> AsyncIterator[Aws]:
    """Profile transitions long enough (>= 6 s wall) that a test can act while one is in flight."""
    sandbox = make_sandbox(speed=100, timings=AwsTimings(profile_create=(600, 600), profile_delete=(600, 600)))
    env = await started(sandbox)
    try:
        yield env
    finally:
        await sandbox.stop()


async def test_one_profile_in_flight_per_cluster(slow_aws: Aws) -> None:
    env = slow_aws
    role = await pod_role(env)
    await create_profile(env, "fp-a", role)

    def in_use(error: dict, verb: str, profile: str, other: str, status: str) -> None:
        assert (error["code"], error["status"]) == ("ResourceInUseException", 409)
        assert error["message"] == (
            f"Cannot {verb} Fargate Profile {profile} because cluster {CLUSTER} currently has "
            f"Fargate profile {other} in status {status}"
        )

    error = await env.error("eks", "create_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-b",
                            podExecutionRoleArn=role, subnets=env.ids["private_subnets"],
                            selectors=[{"namespace": "b"}])
    in_use(error, "create", "fp-b", "fp-a", "CREATING")
    error = await env.error("eks", "delete_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-a")
    in_use(error, "delete", "fp-a", "fp-a", "CREATING")

    # Let fp-a finish: a faster clock (no jump in simulated time) instead of a long wait.
    env.sandbox.clock.set_speed(100_000)
    await wait_for(lambda: _is(env, "fp-a", "ACTIVE"), what="fp-a ACTIVE")
    env.sandbox.clock.set_speed(100)
    await create_profile(env, "fp-b", role)
    env.sandbox.clock.set_speed(100_000)
    await wait_for(lambda: _is(env, "fp-b", "ACTIVE"), what="fp-b ACTIVE")
    env.sandbox.clock.set_speed(100)

    deleted = await env.call("eks", "delete_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-a")
    assert deleted["fargateProfile"]["status"] == "DELETING"
    error = await env.error("eks", "delete_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-b")
    in_use(error, "delete", "fp-b", "fp-a", "DELETING")
    error = await env.error("eks", "create_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-c",
                            podExecutionRoleArn=role, subnets=env.ids["private_subnets"],
                            selectors=[{"namespace": "c"}])
    in_use(error, "create", "fp-c", "fp-a", "DELETING")
    error = await env.error("eks", "delete_cluster", name=CLUSTER)
    assert (error["code"], error["message"]) == (
        "ResourceInUseException",
        f"Cannot delete because cluster {CLUSTER} currently has Fargate profile fp-a in status DELETING")

    env.sandbox.clock.set_speed(100_000)
    await wait_for(lambda: _is(env, "fp-a", None), what="fp-a deleted")
    error = await env.error("eks", "describe_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-a")
    assert (error["code"], error["message"]) == ("ResourceNotFoundException", "No Fargate Profile found with name: fp-a.")
    listed = await env.call("eks", "list_fargate_profiles", clusterName=CLUSTER)
    assert listed["fargateProfileNames"] == ["fp-b"]


async def test_ten_profiles_per_cluster() -> None:
    sandbox = make_sandbox(timings=AwsTimings(profile_create=(20, 20)))
    env = await started(sandbox)
    try:
        role = await pod_role(env)
        for i in range(10):
            await create_profile(env, f"fp-{i}", role)
            await wait_for(lambda i=i: _is(env, f"fp-{i}", "ACTIVE"), what=f"fp-{i} ACTIVE")
        error = await env.error("eks", "create_fargate_profile", clusterName=CLUSTER, fargateProfileName="fp-10",
                                podExecutionRoleArn=role, subnets=env.ids["private_subnets"],
                                selectors=[{"namespace": "ten"}])
        assert (error["code"], error["status"], error["message"]) == (
            "ResourceLimitExceededException", 400, "Fargate Profile limit exceeded for cluster.")
    finally:
        await sandbox.stop()


async def test_botocore_waiter_and_aws_cli(aws: Aws) -> None:
    """The modeled waiter (DescribeFargateProfile until ACTIVE) and the CLI see the same thing."""
    role = await pod_role(aws)
    code, out, err = await aws.cli(
        "eks", "create-fargate-profile", "--cluster-name", CLUSTER, "--fargate-profile-name", "fp-cli",
        "--pod-execution-role-arn", role, "--selectors", "namespace=prod",
        "--subnets", *aws.ids["private_subnets"],
    )
    assert out["fargateProfile"]["status"] == "CREATING"
    waiter = aws.client("eks").get_waiter("fargate_profile_active")
    await asyncio.to_thread(
        waiter.wait, clusterName=CLUSTER, fargateProfileName="fp-cli", WaiterConfig={"Delay": 0.05, "MaxAttempts": 400}
    )
    listed = await aws.call("eks", "list_fargate_profiles", clusterName=CLUSTER)
    assert listed["fargateProfileNames"] == ["fp-cli"]

    code, out, err = await aws.cli(
        "eks", "create-fargate-profile", "--cluster-name", CLUSTER, "--fargate-profile-name", "fp-pub",
        "--pod-execution-role-arn", role, "--selectors", "namespace=prod",
        "--subnets", aws.ids["public_subnets"][0], check=False,
    )
    assert code != 0
    assert "InvalidParameterException" in err
    assert f"Subnet {aws.ids['public_subnets'][0]} provided in Fargate Profile is not a private subnet" in err
