"""The AWS call budget against the sandbox's large scenario in a bounded form (100 tenant pods:
still 50 target groups and 10 Fargate profiles, so a full round costs more than a minute of the
default budget). Calls are counted at aiobotocore's client; waits are on conditions only."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import pytest
from aiobotocore.client import AioBaseClient

from iagent_tui.config import Settings
from iagent_tui.model import Target
from iagent_tui.services.call_budget import CallBudget
from iagent_tui.services.connection import AwsTarget, from_kubeconfig
from iagent_tui.services.monitor import ClusterMonitor
from tests.conftest import TEST_SPEED


@pytest.fixture(scope="module")
def sandbox():
    from iagent_sandbox.runtime import SandboxThread
    sb = SandboxThread(speed=TEST_SPEED, seed=1, scenario="large", pods=100, churn=0)
    sb.start(timeout=240)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def aws_calls(monkeypatch):
    """Every AWS request the product sends, as (operation, parameters)."""
    calls: list[tuple[str, dict]] = []
    original = AioBaseClient._make_api_call

    async def counted(self, operation_name, api_params):
        calls.append((operation_name, dict(api_params)))
        return await original(self, operation_name, api_params)
    monkeypatch.setattr(AioBaseClient, "_make_api_call", counted)
    return calls


@pytest.fixture
def token_times(monkeypatch):
    """When the budget handed out each token (time.monotonic, the monitor's default clock)."""
    times: list[float] = []
    original = CallBudget.acquire

    async def recorded(self):
        await original(self)
        times.append(time.monotonic())
    monkeypatch.setattr(CallBudget, "acquire", recorded)
    return times


async def _monitor(sandbox, sandbox_files, budget: int, **kwargs) -> ClusterMonitor:
    info = sandbox.info
    kubeconfig, _ = sandbox_files
    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig),
                        aws_calls_per_minute=budget)
    connection = await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))
    return ClusterMonitor(connection, settings, **kwargs)


def _create_profile(aws, cluster: str, name: str) -> None:
    iam, eks, ec2 = aws("iam"), aws("eks"), aws("ec2")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                               "Principal": {"Service": "eks-fargate-pods.amazonaws.com"}}]}))
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[
        {"Name": "tag:kubernetes.io/role/internal-elb", "Values": ["1"]}])["Subnets"]]
    eks.create_fargate_profile(clusterName=cluster, fargateProfileName=name, podExecutionRoleArn=role["Role"]["Arn"],
                               subnets=subnets, selectors=[{"namespace": name}])


async def test_the_budget_holds_and_a_profile_created_elsewhere_still_shows(
        sandbox, sandbox_files, aws, aws_calls, token_times):
    # a budget below two full rounds a minute (one costs about 75 calls here); a full round only
    # every hour unless asked: what shows the new profile is the sentinel and a round of changes,
    # and what answers poll_now is poll_now
    monitor = await _monitor(sandbox, sandbox_files, 120, slow_interval=3600)
    async with monitor:
        await monitor.wait_for(lambda s: len(s.target_groups) == 50 and len(s.profiles) >= 10, timeout=120)
        first_round = len(token_times)
        # EKS allows ten profiles a cluster and this one has ten: someone deletes one, then
        # creates another (the sentinel sees the list change; a round of changes reads just that)
        await asyncio.to_thread(lambda: aws("eks").delete_fargate_profile(
            clusterName=sandbox.info.cluster_name, fargateProfileName="fp-tenant-09"))
        await monitor.wait_for(lambda s: s.profile("fp-tenant-09") is None, timeout=120)
        await asyncio.to_thread(_create_profile, aws, sandbox.info.cluster_name, "fp-budget")
        snap = await monitor.wait_for(lambda s: s.profile("fp-budget") is not None, timeout=120)
        assert snap.profile("fp-budget").status in ("CREATING", "ACTIVE")
        # its pod execution role is read with it (findings check its trust)
        await monitor.wait_for(lambda s: any(r.get("RoleName") == "fp-budget-role" for r in s.pod_execution_roles),
                               timeout=60)
        polls, last_full = monitor.aws_polls, monitor._last_full
        monitor.poll_now()
        await monitor.wait_for(lambda s: monitor._last_full != last_full, timeout=120)
        assert monitor.aws_polls > polls
    # every request went through the budget, and after the first round no minute got more than
    # the budget (0.5 s: the stamps are taken just after the budget's own)
    assert len(aws_calls) == monitor.budget.spent == len(token_times)
    after = token_times[first_round:]
    for i, start in enumerate(after):
        assert len([t for t in after[i:] if t - start < 59.5]) <= 120


async def test_a_round_of_changes_reads_only_what_is_changing(sandbox, sandbox_files, aws_calls):
    monitor = await _monitor(sandbox, sandbox_files, 100_000)
    try:
        await monitor.poll_aws_once()
        data = monitor._aws_data
        groups = data["target_groups"]
        # as a round in the middle of a rollout would have read them: two groups with a target
        # still initial, one profile still being created
        changing = {groups[3].arn, groups[17].arn}
        data["target_groups"] = tuple(
            tg.__class__(tg.name, tg.arn, tg.lb_name, tg.target_type,
                         (Target("10.9.9.9", 80, "initial", "Elb.InitialHealthChecking", ""),) + tg.targets)
            if tg.arn in changing else tg for tg in groups)
        profile = data["fargate_profiles"][4]
        data["fargate_profiles"] = tuple(p.__class__(**{**p.__dict__, "status": "CREATING"}) if p is profile else p
                                         for p in data["fargate_profiles"])
        wanted = monitor._wanted()
        assert ("profile", profile.name) in wanted and {("target_group", arn) for arn in changing} <= set(wanted)
        aws_calls.clear()
        await monitor.poll_aws_changes(wanted)
        read = Counter((op, params.get("TargetGroupArn") or params.get("fargateProfileName")) for op, params in aws_calls)
        expected = Counter({("DescribeTargetHealth" if kind == "target_group" else "DescribeFargateProfile", name): 1
                            for kind, name in wanted})
        assert read == expected  # nothing else: no lists, no other group, no other profile
        # what AWS says now replaced what was read mid-transition
        assert monitor._aws_data["fargate_profiles"][4].status == "ACTIVE"
        fresh = {tg.arn: tg for tg in monitor._aws_data["target_groups"]}
        assert all("10.9.9.9" not in {t.id for t in fresh[arn].targets} for arn in changing)
        assert ("profile", profile.name) not in monitor._wanted()
    finally:
        await monitor.stop()
