"""The dashboard against a running sandbox, through the real service layer (ClusterMonitor over
HTTP), with effects made by independent clients (boto3, the official kubernetes client)."""

from __future__ import annotations

import asyncio
import json

import pytest

from iagent_tui.app import IagentApp, build_app
from iagent_tui.config import Settings
from iagent_tui.services.connection import AwsTarget, from_kubeconfig
from iagent_tui.services.monitor import ClusterMonitor
from screens.detail import DetailScreen
from screens.keyed_table import KeyedTable

from .helpers import until

SIZE = (200, 60)
PROFILE = "fp-ui-default"


def table(app: IagentApp, panel: str) -> KeyedTable:
    return app.dashboard.query_one(f"#table-{panel}", KeyedTable)


def cell(app: IagentApp, panel: str, key: str, column: str) -> str | None:
    t = table(app, panel)
    return str(t.get_cell(key, column)) if key in t.row_keys else None


def pod_execution_role(iam, account: str, cluster: str, region: str) -> str:
    """The role DOMAIN.md 8.1 prescribes (pre-migration clusters do not have it yet)."""
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "eks-fargate-pods.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:eks:{region}:{account}:fargateprofile/{cluster}/*"}}}]}
    try:
        return iam.get_role(RoleName="AmazonEKSFargatePodExecutionRole")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(RoleName="AmazonEKSFargatePodExecutionRole",
                              AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.attach_role_policy(RoleName="AmazonEKSFargatePodExecutionRole",
                               PolicyArn="arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy")
        return arn


@pytest.fixture
async def dashboard(sandbox, sandbox_files):
    info = sandbox.info
    kubeconfig, _ = sandbox_files
    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig))
    connection = await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))
    # Poll AWS every second even when steady: the test creates a profile from outside and must
    # not wait out the 30 s steady interval.
    monitor = ClusterMonitor(connection, settings, fast_interval=0.2, slow_interval=1.0)
    app = build_app(settings, connection, source=monitor)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.snapshot.cluster is not None
                    and table(app, "pods").row_count > 0, timeout=30, what="the sandbox cluster on screen")
        yield app, pilot


async def test_profile_created_with_boto3_goes_creating_then_active_and_pods_land_on_fargate(
        dashboard, sandbox, aws, k8s):
    app, pilot = dashboard
    assert app.snapshot.cluster.name == sandbox.info.cluster_name
    eks, iam = aws("eks"), aws("iam")
    account = (await asyncio.to_thread(aws("sts").get_caller_identity))["Account"]
    role = await asyncio.to_thread(pod_execution_role, iam, account, sandbox.info.cluster_name, sandbox.info.region)
    # Slow the sandbox clock for this step so CREATING lasts long enough to be seen on screen.
    clock = sandbox.runtime.world.clock
    sandbox.call(clock.set_speed, 20.0)
    try:
        await asyncio.to_thread(eks.create_fargate_profile, clusterName=sandbox.info.cluster_name,
                                fargateProfileName=PROFILE, podExecutionRoleArn=role,
                                selectors=[{"namespace": "default"}])
        await until(pilot, lambda: cell(app, "profiles", PROFILE, "status") == "CREATING",
                    timeout=15, what="profile CREATING on screen")
        sandbox.call(clock.set_speed, 200.0)
        await until(pilot, lambda: cell(app, "profiles", PROFILE, "status") == "ACTIVE",
                    timeout=30, what="profile ACTIVE on screen")
    finally:
        sandbox.call(clock.set_speed, 200.0)

    # Existing pods do not move; a pod recreated after the profile is ACTIVE lands on Fargate.
    from kubernetes import client
    core = client.CoreV1Api(k8s)
    victim = next(p for p in core.list_namespaced_pod("default").items
                  if p.metadata.owner_references and p.status.phase == "Running")
    await asyncio.to_thread(core.delete_namespaced_pod, victim.metadata.name, "default", grace_period_seconds=0)

    def fargate_pod() -> str | None:
        return next((k for k in table(app, "pods").row_keys if k.startswith("default/")
                     and cell(app, "pods", k, "type") == "fargate"
                     and cell(app, "pods", k, "status") == "Running"), None)
    key = await until(pilot, fargate_pod, timeout=30, what="a default pod Running on Fargate")
    assert cell(app, "pods", key, "capacity") not in (None, "-")
    assert cell(app, "profiles", PROFILE, "pods") != "0"

    # Its detail view shows the real object, its events and its logs from the sandbox.
    app.action_focus_panel("pods")
    pods = table(app, "pods")
    pods.move_cursor(row=pods.get_row_index(key))
    await pilot.press("enter")
    detail = await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen)
    name = key.split("/", 1)[1]
    assert f"name: {name}" in str(detail.query_one("#detail-yaml").render())
    await until(pilot, lambda: "fetching" not in str(detail.query_one("#detail-logs").render()),
                timeout=10, what="logs fetched")
    assert "Could not fetch logs" not in str(detail.query_one("#detail-logs").render())
    await pilot.press("escape")
