"""The gateway as the product uses it: aiobotocore on the same event loop, concurrent calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import pytest
from aiobotocore.session import get_session
from botocore.config import Config

from iagent_sandbox.aws.faults import AwsFaults
from iagent_sandbox.aws.iam_documents import pod_execution_trust
from iagent_sandbox.aws.sandbox import AwsSandbox
from iagent_sandbox.aws.timings import AwsTimings
from iagent_sandbox.clock import SandboxClock

from .test_aws_fixtures import CLUSTER, Aws, aws, make_sandbox, started  # noqa: F401


def _async_client(env: Aws, service: str) -> Any:
    return get_session().create_client(
        service,
        endpoint_url=env.sandbox.endpoint,
        region_name=env.sandbox.region,
        aws_access_key_id=env.sandbox.access_key_id,
        aws_secret_access_key=env.sandbox.secret_access_key,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


async def test_aiobotocore_on_the_gateway_loop_with_latency(aws: Aws) -> None:
    aws.sandbox.faults = AwsFaults(latency_seconds=0.01)
    async with _async_client(aws, "eks") as eks, _async_client(aws, "ec2") as ec2:
        results = await asyncio.gather(
            *(eks.describe_cluster(name=CLUSTER) for _ in range(10)),
            eks.list_fargate_profiles(clusterName=CLUSTER),
            eks.describe_addon(clusterName=CLUSTER, addonName="coredns"),
            ec2.describe_subnets(SubnetIds=aws.ids["private_subnets"]),
        )
    assert {r["cluster"]["status"] for r in results[:10]} == {"ACTIVE"}
    assert results[10]["fargateProfileNames"] == []
    assert results[11]["addon"]["addonName"] == "coredns"
    assert len(results[12]["Subnets"]) == 2


@pytest.fixture
async def slow_aws() -> AsyncIterator[Aws]:
    sandbox = make_sandbox(speed=100, timings=AwsTimings(profile_create=(600, 600)))
    env = await started(sandbox)
    try:
        yield env
    finally:
        await sandbox.stop()


async def test_concurrent_creates_admit_exactly_one(slow_aws: Aws) -> None:
    """The one-at-a-time rule holds under concurrent requests (check and create are atomic)."""
    env = slow_aws
    role = (await env.call("iam", "create_role", RoleName="AmazonEKSFargatePodExecutionRole",
                           AssumeRolePolicyDocument=pod_execution_trust("eu-central-1", "123456789012", CLUSTER)))
    role_arn = role["Role"]["Arn"]
    async with _async_client(env, "eks") as eks:
        async def create(i: int) -> str:
            try:
                await eks.create_fargate_profile(
                    clusterName=CLUSTER, fargateProfileName=f"fp-{i}", podExecutionRoleArn=role_arn,
                    subnets=env.ids["private_subnets"], selectors=[{"namespace": f"ns-{i}"}])
                return "created"
            except eks.exceptions.ResourceInUseException as exc:
                assert "currently has Fargate profile" in str(exc)
                return "in use"

        outcomes = await asyncio.gather(*(create(i) for i in range(6)))
    assert sorted(outcomes) == ["created"] + ["in use"] * 5
    assert [p["status"] for p in env.sandbox.fargate_profiles(CLUSTER)] == ["CREATING"]


async def test_moto_timestamps_follow_the_sandbox_clock() -> None:
    """IAM and ELB dates come from moto; they must be simulated time like everything else."""
    clock = SandboxClock(speed=1000, seed=3, start=datetime(2031, 5, 4, 12, 0, tzinfo=timezone.utc))
    sandbox = AwsSandbox(clock)
    env = await started(sandbox)
    try:
        role = (await env.call("iam", "get_role", RoleName=f"{CLUSTER}-node-role"))["Role"]
        assert role["CreateDate"].year == 2031
        lb = (await env.call("elbv2", "create_load_balancer", Name="k8s-default-sample-0123456789",
                             Subnets=env.ids["public_subnets"], Scheme="internet-facing",
                             Type="application"))["LoadBalancers"][0]
        assert lb["CreatedTime"].year == 2031
        assert abs((lb["CreatedTime"] - clock.now()).total_seconds()) < 3600
    finally:
        await sandbox.stop()
