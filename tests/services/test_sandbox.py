"""The service layer against the whole sandbox (tests/conftest.py's runtime), as against EKS:
EKS-token auth through the AWS gateway, watches across API-server faults, AWS throttling, and
`status --json` agreeing with boto3 and the official kubernetes client."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.config import Config
from click.testing import CliRunner

from iagent_tui.commands.status import status_command
from iagent_tui.config import Settings
from iagent_sandbox.aws.faults import AwsFaults
from iagent_tui.services.auth import EksToken
from iagent_tui.services.aws import AwsServices
from iagent_tui.services.connection import AwsTarget, from_aws
from iagent_tui.services.errors import ServiceError
from iagent_tui.services.monitor import ClusterMonitor


@pytest.fixture
def settings(sandbox) -> Settings:
    return Settings(cluster=sandbox.info.cluster_name, region=sandbox.info.region)


@pytest.fixture
def aws_target(sandbox) -> AwsTarget:
    info = sandbox.info
    return AwsTarget(info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
                     secret_access_key=info.secret_access_key)


@pytest.fixture
def no_faults(sandbox):
    yield
    sandbox.call(lambda: setattr(sandbox.runtime.world.aws, "faults", AwsFaults()))


def pod_manifest(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def test_status_json_agrees_with_boto3_and_kubectl_clients(sandbox, sandbox_files, aws, k8s, tmp_path, monkeypatch):
    kubeconfig, _ = sandbox_files
    monkeypatch.chdir(tmp_path)
    env = {k: v for k, v in sandbox.info.env(kubeconfig).items()}
    result = CliRunner().invoke(status_command, ["--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)

    eks = aws("eks")
    cluster = eks.describe_cluster(name=sandbox.info.cluster_name)["cluster"]
    assert (doc["cluster"]["name"], doc["cluster"]["status"], doc["cluster"]["version"]) == (cluster["name"], cluster["status"], cluster["version"])
    names = eks.list_fargate_profiles(clusterName=cluster["name"])["fargateProfileNames"]
    assert [p["name"] for p in doc["fargate_profiles"]] == sorted(names)
    coredns = eks.describe_addon(clusterName=cluster["name"], addonName="coredns")["addon"]
    assert doc["coredns"]["addon_status"] == coredns["status"]

    from kubernetes import client

    core = client.CoreV1Api(k8s)
    nodes = {n.metadata.name: n for n in core.list_node().items}
    assert sorted(n["name"] for n in doc["nodes"]) == sorted(nodes)
    for n in doc["nodes"]:
        ready = next(c.status for c in nodes[n["name"]].status.conditions if c.type == "Ready") == "True"
        assert n["ready"] == ready
    pods = core.list_pod_for_all_namespaces().items
    by_key = {(p.metadata.namespace, p.metadata.name): p for p in pods}
    assert sorted((p["namespace"], p["name"]) for p in doc["pods"]) == sorted(by_key)
    for p in doc["pods"]:
        real = by_key[(p["namespace"], p["name"])]
        assert (p["node"], p["phase"]) == (real.spec.node_name, real.status.phase)
    coredns_pods = sorted(p.metadata.name for p in pods if p.metadata.namespace == "kube-system" and (p.metadata.labels or {}).get("k8s-app") == "kube-dns")
    assert sorted(p["name"] for p in doc["coredns"]["pods"]) == coredns_pods
    tgs = aws("elbv2").describe_target_groups()["TargetGroups"]
    assert sorted(t["arn"] for t in doc["target_groups"]) == sorted(t["TargetGroupArn"] for t in tgs)
    assert {"error", "warning", "info"} == set(doc["findings_summary"])


async def test_watches_resume_after_the_api_server_drops_them(sandbox, settings, aws_target, k8s):
    from kubernetes import client

    conn = await from_aws(settings, aws_target)  # endpoint + CA from describe-cluster, EKS token auth
    assert conn.kube.token.kind == "eks"
    async with ClusterMonitor(conn, settings) as monitor:
        await monitor.wait_for(lambda s: len(s.pods) > 0, timeout=20)
        lists_before = {r.name: r.lists for r in monitor.reflectors}
        sandbox.call(sandbox.runtime.drop_watches)
        client.CoreV1Api(k8s).create_namespaced_pod("default", pod_manifest("after-drop"))
        try:
            await monitor.wait_for(lambda s: s.pod("default", "after-drop") is not None, timeout=20)
            assert {r.name: r.lists for r in monitor.reflectors} == lists_before  # resumed, not re-listed
            assert all(r.watches >= 2 for r in monitor.reflectors if r.resource.plural == "pods")
        finally:
            client.CoreV1Api(k8s).delete_namespaced_pod("after-drop", "default", grace_period_seconds=0)


async def test_eks_token_refreshes_without_losing_watch_state(sandbox, settings, aws_target, k8s):
    from dataclasses import replace

    from kubernetes import client

    clock = [datetime.now(timezone.utc)]
    conn = await from_aws(settings, aws_target)
    token = EksToken(aws_target.session(), settings.cluster, settings.region, aws_target.endpoint_url, now=lambda: clock[0])
    conn = replace(conn, kube=replace(conn.kube, token=token))
    async with ClusterMonitor(conn, settings) as monitor:
        await monitor.wait_for(lambda s: len(s.pods) > 0, timeout=20)
        lists_before = sum(r.lists for r in monitor.reflectors)
        clock[0] += timedelta(minutes=15)  # the token is past its 14-minute life
        sandbox.call(sandbox.runtime.drop_watches)  # reconnecting needs a token now
        client.CoreV1Api(k8s).create_namespaced_pod("default", pod_manifest("after-refresh"))
        try:
            snap = await monitor.wait_for(lambda s: s.pod("default", "after-refresh") is not None, timeout=20)
            assert token.minted == 2
            assert sum(r.lists for r in monitor.reflectors) == lists_before
            assert snap.connection.auth_kind == "eks" and snap.connection.token_expires_at == (
            clock[0] + timedelta(minutes=14) + timedelta(seconds=monitor.server_skew))
        finally:
            client.CoreV1Api(k8s).delete_namespaced_pod("after-refresh", "default", grace_period_seconds=0)


async def test_botocore_retries_absorb_occasional_throttling(sandbox, aws_target, no_faults):
    sandbox.call(lambda: setattr(sandbox.runtime.world.aws, "faults", AwsFaults(throttle_rate=0.4, services={"eks"})))
    async with AwsServices(aws_target, config=Config(retries={"mode": "standard", "max_attempts": 10})) as aws:
        for _ in range(5):
            assert (await aws.describe_cluster(sandbox.info.cluster_name)).status == "ACTIVE"


async def test_monitor_backs_off_while_throttled_and_keeps_the_last_data(sandbox, settings, aws_target, no_faults):
    conn = await from_aws(settings, aws_target)
    one_try = Config(retries={"mode": "standard", "max_attempts": 1})  # let throttling reach the monitor
    unbounded = settings.model_copy(update={"aws_calls_per_minute": 1_000_000})  # back-off alone sets the pace here
    monitor = ClusterMonitor(conn, unbounded, fast_interval=0.05, slow_interval=0.05, max_interval=0.4, aws_config=one_try)
    async with monitor:
        await monitor.wait_for(lambda s: s.cluster is not None and s.sources["cluster"].ok, timeout=20)
        sandbox.call(lambda: setattr(sandbox.runtime.world.aws, "faults", AwsFaults(throttle_rate=1.0, services={"eks"})))
        snap = await monitor.wait_for(lambda s: not s.sources["cluster"].ok, timeout=20)
        assert snap.cluster is not None and snap.cluster.status == "ACTIVE"  # stale, not blank
        assert "throttled" in snap.sources["cluster"].error and snap.sources["cluster"].stale_since is not None
        assert snap.sources["load_balancers"].ok  # elbv2 is not throttled: only eks sources go stale
        await monitor.wait_for(lambda s: monitor.current_interval >= 0.4, timeout=20)
        polls = monitor.aws_polls
        sandbox.call(lambda: setattr(sandbox.runtime.world.aws, "faults", AwsFaults()))
        await monitor.wait_for(lambda s: s.sources["cluster"].ok, timeout=20)
        assert monitor.aws_polls >= polls + 1
    assert monitor.current_interval <= 0.05 and monitor.pace.full_every == 0.05  # back to the usual pace


async def test_missing_cluster_is_a_clear_error(sandbox, aws_target):
    with pytest.raises(ServiceError) as err:
        await from_aws(Settings(cluster="no-such-cluster", region=sandbox.info.region), aws_target)
    assert err.value.kind == "not_found" and "no-such-cluster" in err.value.message


async def test_snapshot_times_follow_the_api_servers_clock(sandbox, sandbox_files):
    """The sandbox's clock differs from ours (like a server whose clock is off): it starts its
    history in the past and never runs ahead of the wall clock. The monitor measures the skew from
    the API server's Date header and puts the snapshot on that clock, so ages of objects created
    on the server are never negative."""
    from iagent_tui.config import Settings
    from iagent_tui.services.connection import AwsTarget, from_kubeconfig
    from iagent_tui.services.monitor import ClusterMonitor

    info = sandbox.info
    kubeconfig, _ = sandbox_files
    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig))
    connection = await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))
    monitor = ClusterMonitor(connection, settings)
    snap = await monitor.one_shot()
    server_now = sandbox.runtime.world.clock.now()
    local_now = datetime.now(timezone.utc)
    # the sandbox's history started in the past and has not caught up: the snapshot is on its clock
    assert (local_now - snap.taken_at).total_seconds() > 60
    assert abs((snap.taken_at - server_now).total_seconds()) < 30
    newest_node = max(n.created for n in snap.nodes)
    assert snap.taken_at >= newest_node


async def test_profile_created_elsewhere_shows_within_seconds_while_steady(sandbox, sandbox_files, aws):
    """The full AWS poll is slow while nothing changes; a profile created by someone else must
    still show within seconds (the sentinel's cheap list notices it)."""
    from iagent_tui.config import Settings
    from iagent_tui.services.connection import AwsTarget, from_kubeconfig
    from iagent_tui.services.monitor import ClusterMonitor

    info = sandbox.info
    kubeconfig, _ = sandbox_files
    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig))
    connection = await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))
    # a steady poll far longer than this test may wait: only the sentinel can find the profile
    monitor = ClusterMonitor(connection, settings, slow_interval=3600, sentinel_interval=0.2)
    async with monitor:
        await monitor.wait_for(lambda s: s.cluster is not None, timeout=30)
        iam, eks, ec2 = aws("iam"), aws("eks"), aws("ec2")
        role = iam.create_role(RoleName="SentinelPodRole", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                   "Principal": {"Service": "eks-fargate-pods.amazonaws.com"}}]}))
        subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[
            {"Name": "tag:kubernetes.io/role/internal-elb", "Values": ["1"]}])["Subnets"]]
        await asyncio.to_thread(
            eks.create_fargate_profile, clusterName=info.cluster_name, fargateProfileName="fp-sentinel",
            podExecutionRoleArn=role["Role"]["Arn"], subnets=subnets, selectors=[{"namespace": "sentinel"}])
        snap = await monitor.wait_for(lambda s: s.profile("fp-sentinel") is not None, timeout=20)
        assert snap.profile("fp-sentinel").status in ("CREATING", "ACTIVE")
