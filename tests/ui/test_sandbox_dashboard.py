"""The dashboard against a running sandbox (the migrated scenario), through the real service layer
(ClusterMonitor over HTTP), with changes made by independent clients (boto3, the official
kubernetes client). One sandbox for the module: starting one costs most of the time here."""

from __future__ import annotations

import asyncio
import json

import pytest

from iagent_tui.app import IagentApp, build_app
from iagent_tui.config import Settings
from iagent_tui.services.connection import AwsTarget, from_kubeconfig
from iagent_tui.services.monitor import ClusterMonitor
from screens.confirm import ConfirmDialog
from screens.detail import DetailScreen
from screens.keyed_table import KeyedTable

from .helpers import until

pytestmark = pytest.mark.scenario("migrated")

SIZE = (200, 60)
NAMESPACE = "ui-demo"
PROFILE = "fp-ui-demo"


def table(app: IagentApp, panel: str) -> KeyedTable:
    return app.dashboard.query_one(f"#table-{panel}", KeyedTable)


def column(app: IagentApp, panel: str, name: str) -> dict[str, str]:
    t = table(app, panel)
    return {key: str(t.get_cell(key, name)) for key in t.row_keys}


async def open_detail(pilot, app: IagentApp, panel: str, key: str) -> DetailScreen:
    app.action_focus_panel(panel)
    t = table(app, panel)
    t.move_cursor(row=t.get_row_index(key))
    await pilot.press("enter")
    return await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen,
                       what=f"{panel} detail of {key}")


async def back(pilot, app: IagentApp) -> None:
    await pilot.press("escape")
    await until(pilot, lambda: app.screen is app.dashboard, what="back on the dashboard")


@pytest.fixture
async def dashboard(sandbox, sandbox_files):
    info = sandbox.info
    kubeconfig, _ = sandbox_files
    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig))
    connection = await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))
    # Poll AWS every second even when steady: the tests change AWS from outside and must not
    # wait out the monitor's 30 s steady interval.
    monitor = ClusterMonitor(connection, settings, fast_interval=0.2, slow_interval=1.0)
    app = build_app(settings, connection, source=monitor)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.snapshot.cluster is not None
                    and table(app, "pods").row_count > 0, timeout=30, what="the sandbox cluster on screen")
        yield app, pilot


async def test_targets_turn_healthy_every_detail_view_opens_and_deploy_plans(dashboard, sandbox):
    app, pilot = dashboard
    healthy = await until(
        pilot, lambda: [k for k, state in column(app, "targets", "state").items() if state == "healthy"],
        timeout=40, what="a healthy ALB target on screen")
    pods_behind = column(app, "targets", "pod")
    target = next(k for k in healthy if pods_behind[k] != "-")
    assert "fargate" in column(app, "pods", "type").values()
    assert "ACTIVE" in column(app, "profiles", "status").values()

    detail = await open_detail(pilot, app, "targets", target)
    pod_name = pods_behind[target].split("/", 1)[1]
    assert f"name: {pod_name}" in str(detail.query_one("#detail-pod").render())
    await back(pilot, app)

    # The real deploy action plans on the App's loop; on a migrated cluster its steps are done.
    await until(pilot, lambda: "deploy" in app.actions, timeout=45, what="actions ready")
    await pilot.press("D")
    dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen,
                         timeout=20, what="deploy plan dialog")
    shown = str(dialog.query_one("#confirm-plan Static").render())
    assert f"deploy on cluster {sandbox.info.cluster_name}" in shown and "already done" in shown
    await until(pilot, lambda: app.focused is not None, what="focus in the dialog")
    assert app.focused is dialog.query_one("#cancel")
    await pilot.press("escape")
    await until(pilot, lambda: app.screen is app.dashboard, what="dialog cancelled")

    for panel in ("profiles", "nodes", "coredns", "events", "findings"):
        keys = table(app, panel).row_keys
        if not keys:
            assert panel == "findings", f"{panel} is empty on a migrated cluster"
            continue
        detail = await open_detail(pilot, app, panel, keys[0])
        assert str(detail.query_one("#detail-yaml").render()).strip()
        await back(pilot, app)


def pod_execution_role(iam, account: str, cluster: str, region: str) -> str:
    """The role DOMAIN.md 8.1 prescribes (created if the scenario has none)."""
    try:
        return iam.get_role(RoleName="AmazonEKSFargatePodExecutionRole")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        pass
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "eks-fargate-pods.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:eks:{region}:{account}:fargateprofile/{cluster}/*"}}}]}
    arn = iam.create_role(RoleName="AmazonEKSFargatePodExecutionRole",
                          AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.attach_role_policy(RoleName="AmazonEKSFargatePodExecutionRole",
                           PolicyArn="arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy")
    return arn


async def test_profile_created_with_boto3_goes_creating_then_active_and_a_new_pod_lands_on_fargate(
        dashboard, sandbox, aws, k8s):
    from kubernetes import client

    app, pilot = dashboard
    info = sandbox.info
    core = client.CoreV1Api(k8s)
    await asyncio.to_thread(core.create_namespace, {"metadata": {"name": NAMESPACE}})
    account = (await asyncio.to_thread(aws("sts").get_caller_identity))["Account"]
    role = await asyncio.to_thread(pod_execution_role, aws("iam"), account, info.cluster_name, info.region)
    # Slow the sandbox clock for this step so CREATING lasts long enough to be seen on screen.
    clock = sandbox.runtime.world.clock
    sandbox.call(clock.set_speed, 20.0)
    try:
        await asyncio.to_thread(aws("eks").create_fargate_profile, clusterName=info.cluster_name,
                                fargateProfileName=PROFILE, podExecutionRoleArn=role,
                                selectors=[{"namespace": NAMESPACE}])
        await until(pilot, lambda: column(app, "profiles", "status").get(PROFILE) == "CREATING",
                    timeout=15, what="profile CREATING on screen")
    finally:
        sandbox.call(clock.set_speed, 200.0)
    await until(pilot, lambda: column(app, "profiles", "status").get(PROFILE) == "ACTIVE",
                timeout=30, what="profile ACTIVE on screen")

    # A pod created after the profile is ACTIVE lands on Fargate (profiles match at creation).
    pod = {"metadata": {"name": "hello", "namespace": NAMESPACE},
           "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                    "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                                                  "limits": {"cpu": "250m", "memory": "256Mi"}}}]}}
    await asyncio.to_thread(core.create_namespaced_pod, NAMESPACE, pod)
    key = f"{NAMESPACE}/hello"
    await until(pilot, lambda: column(app, "pods", "type").get(key) == "fargate"
                and column(app, "pods", "status").get(key) == "Running",
                timeout=30, what="the new pod Running on Fargate")
    assert column(app, "pods", "capacity")[key] == "0.25vCPU 0.5GB"  # 256Mi + 256 MB reserved fits 0.5 GB
    assert column(app, "pods", "cost")[key].startswith("$")  # billed: priced from CapacityProvisioned
    assert column(app, "profiles", "pods")[PROFILE] == "1"

    detail = await open_detail(pilot, app, "pods", key)
    assert "name: hello" in str(detail.query_one("#detail-yaml").render())
    await until(pilot, lambda: "fetching" not in str(detail.query_one("#detail-logs").render()),
                timeout=10, what="logs fetched")
    assert "Could not fetch logs" not in str(detail.query_one("#detail-logs").render())
    await back(pilot, app)
