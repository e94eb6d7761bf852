"""The three AWS scenarios, checked with the aws CLI and boto3 as an operator would."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncIterator
from urllib.parse import unquote

import pytest
import pytest_asyncio

from iagent_sandbox.aws.scenarios import oidc_id

from .test_aws_fixtures import CLUSTER, SEED, Aws, make_sandbox, started

# The pre-migration checks only read, so they share one sandbox (and one event loop).
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def aws() -> AsyncIterator[Aws]:
    sandbox = make_sandbox()
    env = await started(sandbox)
    try:
        yield env
    finally:
        await sandbox.stop()


async def test_pre_migration_with_the_aws_cli(aws: Aws) -> None:
    # The four CLI processes are independent; run them side by side (CLI start-up dominates).
    (_, subnets_out, _), (_, cluster_out, _), (_, profiles_out, _), (_, addon_out, _) = await asyncio.gather(
        aws.cli("ec2", "describe-subnets", "--filters", f"Name=tag:kubernetes.io/cluster/{CLUSTER},Values=shared"),
        aws.cli("eks", "describe-cluster", "--name", CLUSTER),
        aws.cli("eks", "list-fargate-profiles", "--cluster-name", CLUSTER),
        aws.cli("eks", "describe-addon", "--cluster-name", CLUSTER, "--addon-name", "coredns"),
    )
    subnets = {s["SubnetId"]: s for s in subnets_out["Subnets"]}
    assert len(subnets) == 4
    private = [s for s in subnets.values() if {"Key": "kubernetes.io/role/internal-elb", "Value": "1"} in s["Tags"]]
    public = [s for s in subnets.values() if {"Key": "kubernetes.io/role/elb", "Value": "1"} in s["Tags"]]
    assert sorted(s["SubnetId"] for s in private) == sorted(aws.ids["private_subnets"])
    assert sorted(s["AvailabilityZone"] for s in private) == ["eu-central-1a", "eu-central-1b"]
    assert sorted(s["AvailabilityZone"] for s in public) == ["eu-central-1a", "eu-central-1b"]
    assert all(s["VpcId"] == aws.ids["vpc_id"] for s in subnets.values())

    cluster = cluster_out["cluster"]
    assert (cluster["status"], cluster["version"]) == ("ACTIVE", "1.31")
    assert re.fullmatch(r"https://oidc\.eks\.eu-central-1\.amazonaws\.com/id/[0-9A-F]{32}",
                        cluster["identity"]["oidc"]["issuer"])
    assert sorted(cluster["resourcesVpcConfig"]["subnetIds"]) == sorted(
        aws.ids["private_subnets"] + aws.ids["public_subnets"])
    assert profiles_out["fargateProfileNames"] == []
    assert addon_out["addon"]["addonVersion"] == "v1.11.3-eksbuild.2"
    assert "configurationValues" not in addon_out["addon"]


async def test_pre_migration_network(aws: Aws) -> None:
    tables = await aws.call("ec2", "describe_route_tables", Filters=[{"Name": "vpc-id", "Values": [aws.ids["vpc_id"]]}])
    by_subnet = {a["SubnetId"]: t for t in tables["RouteTables"] for a in t["Associations"] if a.get("SubnetId")}
    for subnet in aws.ids["private_subnets"]:
        routes = by_subnet[subnet]["Routes"]
        assert any(r.get("NatGatewayId") == aws.ids["nat_gateway_id"] for r in routes)
        assert not any(str(r.get("GatewayId", "")).startswith("igw-") for r in routes)
    for subnet in aws.ids["public_subnets"]:
        assert any(r.get("GatewayId") == aws.ids["internet_gateway_id"] for r in by_subnet[subnet]["Routes"])
    for attribute, key in (("enableDnsHostnames", "EnableDnsHostnames"), ("enableDnsSupport", "EnableDnsSupport")):
        value = await aws.call("ec2", "describe_vpc_attribute", VpcId=aws.ids["vpc_id"], Attribute=attribute)
        assert value[key]["Value"] is True


async def test_pre_migration_node_group_and_missing_pieces(aws: Aws) -> None:
    nodegroup = (await aws.call("eks", "describe_nodegroup", clusterName=CLUSTER,
                                nodegroupName="existing-nodes"))["nodegroup"]
    assert nodegroup["scalingConfig"] == {"minSize": 1, "maxSize": 4, "desiredSize": 2}
    assert (nodegroup["instanceTypes"], nodegroup["capacityType"]) == (["t3.large"], "ON_DEMAND")
    assert nodegroup["subnets"] == aws.ids["private_subnets"]
    assert (await aws.call("eks", "list_addons", clusterName=CLUSTER))["addons"] == ["coredns", "kube-proxy", "vpc-cni"]
    assert (await aws.call("iam", "list_open_id_connect_providers"))["OpenIDConnectProviderList"] == []
    for role in ("AmazonEKSFargatePodExecutionRole", "AmazonEKSLoadBalancerControllerRole"):
        error = await aws.error("iam", "get_role", RoleName=role)
        assert error["code"] == "NoSuchEntity"
    identity = await aws.call("sts", "get_caller_identity")
    assert identity["Account"] == "123456789012"


# Own account: moto state is per account, and the module's pre-migration sandbox is still alive.
async def test_migrated() -> None:
    sandbox = make_sandbox(account_id="111122223333")
    env = await started(sandbox, "migrated")
    try:
        names = (await env.call("eks", "list_fargate_profiles", clusterName=CLUSTER))["fargateProfileNames"]
        assert names == ["fp-default", "fp-kube-system", "fp-prod", "fp-staging"]
        assert (await env.call("sts", "get_caller_identity"))["Account"] == "111122223333"
        assert env.ids["cluster_arn"] == f"arn:aws:eks:eu-central-1:111122223333:cluster/{CLUSTER}"
        profiles = {p["fargateProfileName"]: p for p in sandbox.fargate_profiles(CLUSTER)}
        assert {p["status"] for p in profiles.values()} == {"ACTIVE"}
        assert profiles["fp-staging"]["selectors"] == [{"namespace": "staging"}]
        assert profiles["fp-kube-system"]["selectors"] == [
            {"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
            {"namespace": "kube-system", "labels": {"app.kubernetes.io/name": "aws-load-balancer-controller"}},
        ]
        assert all(p["subnets"] == env.ids["private_subnets"] for p in profiles.values())

        coredns = (await env.call("eks", "describe_addon", clusterName=CLUSTER, addonName="coredns"))["addon"]
        assert json.loads(coredns["configurationValues"]) == {"computeType": "Fargate"}

        role = (await env.call("iam", "get_role", RoleName="AmazonEKSFargatePodExecutionRole"))["Role"]
        trust = _document(role["AssumeRolePolicyDocument"])
        (statement,) = trust["Statement"]
        assert statement["Principal"] == {"Service": "eks-fargate-pods.amazonaws.com"}
        assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == (
            f"arn:aws:eks:eu-central-1:111122223333:fargateprofile/{CLUSTER}/*")
        attached = await env.call("iam", "list_attached_role_policies", RoleName="AmazonEKSFargatePodExecutionRole")
        assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [
            "arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"]

        await _check_load_balancer_controller_iam(env)
    finally:
        await sandbox.stop()


async def test_broken() -> None:
    sandbox = make_sandbox(account_id="444455556666")
    env = await started(sandbox, "broken")
    try:
        names = (await env.call("eks", "list_fargate_profiles", clusterName=CLUSTER))["fargateProfileNames"]
        assert names == ["fp-default", "fp-prod"]
        coredns = sandbox.addon(CLUSTER, "coredns")
        assert coredns["configuration"] == {"computeType": "Fargate"}
        assert env.ids["pod_execution_role_arn"].endswith(":role/AmazonEKSFargatePodExecutionRole")
        await _check_load_balancer_controller_iam(env)
    finally:
        await sandbox.stop()


async def _check_load_balancer_controller_iam(env: Aws) -> None:
    issuer = env.ids["oidc_issuer"]
    provider_host = issuer.removeprefix("https://")
    providers = (await env.call("iam", "list_open_id_connect_providers"))["OpenIDConnectProviderList"]
    account = env.sandbox.account_id
    assert [p["Arn"] for p in providers] == [f"arn:aws:iam::{account}:oidc-provider/{provider_host}"]
    provider = await env.call("iam", "get_open_id_connect_provider", OpenIDConnectProviderArn=providers[0]["Arn"])
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    policy = await env.call("iam", "get_policy",
                            PolicyArn=f"arn:aws:iam::{account}:policy/AWSLoadBalancerControllerIAMPolicy")
    assert policy["Policy"]["AttachmentCount"] == 1
    role = (await env.call("iam", "get_role", RoleName="AmazonEKSLoadBalancerControllerRole"))["Role"]
    (statement,) = _document(role["AssumeRolePolicyDocument"])["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": providers[0]["Arn"]}
    assert statement["Condition"]["StringEquals"] == {
        f"{provider_host}:aud": "sts.amazonaws.com",
        f"{provider_host}:sub": "system:serviceaccount:kube-system:aws-load-balancer-controller",
    }


def _document(value: object) -> dict:
    if isinstance(value, dict):
        return value
    return json.loads(unquote(str(value)))


async def test_issuer_follows_the_seed_and_cluster_endpoint_is_settable(aws: Aws) -> None:
    expected = oidc_id(SEED, CLUSTER, "eu-central-1")
    assert aws.ids["oidc_issuer"].endswith("/id/" + expected)
    assert oidc_id(SEED + 1, CLUSTER, "eu-central-1") != expected

    ca = b"-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n"
    aws.sandbox.set_cluster_endpoint(CLUSTER, "https://127.0.0.1:6443", ca)
    cluster = (await aws.call("eks", "describe_cluster", name=CLUSTER))["cluster"]
    assert cluster["endpoint"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["certificateAuthority"]["data"]) == ca


async def test_bad_scenario_and_double_seed(aws: Aws) -> None:
    with pytest.raises(ValueError, match="unknown AWS scenario 'mid-flight'"):
        aws.sandbox.seed("mid-flight")
    with pytest.raises(ValueError, match="already seeded"):
        aws.sandbox.seed("pre-migration")
