"""deploy -> smoke -> add-namespace -> rollback THROUGH THE DASHBOARD against a sandbox, answering
the dialogs as a user does (Cancel is focused: the test moves to the acting button; rollback needs
the cluster name typed), and read-only mode showing plans that change nothing. Every effect is
checked with boto3 and the official kubernetes client, never with the product's services.

One sandbox for the module (pre-migration scenario); the tests run in file order: read-only first,
on the untouched cluster."""

from __future__ import annotations

import asyncio
import json
import os
import urllib.request
from pathlib import Path

import pytest
from kubernetes import client as k8s_client
from textual.widgets import Button, Input

from actions.journal import read as read_journal
from iagent_tui.app import IagentApp, build_app
from iagent_tui.config import Settings
from iagent_tui.services.connection import AwsTarget, from_kubeconfig
from iagent_tui.services.monitor import ClusterMonitor
from screens.add_namespace import NamespaceNameDialog, RestartChoiceDialog
from screens.confirm import ConfirmDialog
from screens.progress import ActionProgress
from tests.conftest import wait_for

from .helpers import until

SIZE = (200, 60)
CLUSTER = "iagent-cluster"
PROFILES = {"fp-default", "fp-prod", "fp-staging", "fp-kube-system"}
POD_ROLE = "AmazonEKSFargatePodExecutionRole"
SAMPLE = "app.kubernetes.io/name=iagent-sample"
TEAM = "team-x"
ACTION_TIMEOUT = 90  # seconds of wall time for one action at sandbox speed 200 on a loaded machine


# -- what the actions may change, read with boto3 and the kubernetes client --------------------------

def cluster_state(aws, k8s) -> dict:
    eks, iam = aws("eks"), aws("iam")
    profiles = {}
    for name in eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"]:
        p = eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName=name)["fargateProfile"]
        profiles[name] = (p["status"], json.dumps(p["selectors"], sort_keys=True))
    core, apps = k8s_client.CoreV1Api(k8s), k8s_client.AppsV1Api(k8s)
    addon = eks.describe_addon(clusterName=CLUSTER, addonName="coredns")["addon"]
    return {
        "profiles": profiles,
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
        "oidc": sorted(p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]),
        "coredns": (addon.get("configurationValues"), addon["status"]),
        "namespaces": sorted(n.metadata.name for n in core.list_namespace().items),
        "deployments": sorted((d.metadata.namespace, d.metadata.name, d.metadata.generation)
                              for d in apps.list_deployment_for_all_namespaces().items),
    }


def live_pods(k8s, namespace: str | None = None, selector: str = "") -> list:
    core = k8s_client.CoreV1Api(k8s)
    found = (core.list_namespaced_pod(namespace, label_selector=selector) if namespace
             else core.list_pod_for_all_namespaces(label_selector=selector)).items
    return [p for p in found if p.metadata.deletion_timestamp is None]


def running_on(pods: list, fargate: bool) -> bool:
    return bool(pods) and all((p.spec.node_name or "").startswith("fargate-ip-") == fargate
                              and p.status.phase == "Running" for p in pods)


def team_deployment() -> dict:
    labels = {"app": "team-web"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "team-web", "namespace": TEAM},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "public.ecr.aws/nginx/nginx:1.27-alpine",
                                         "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}}]}}}}


# -- the dashboard on the sandbox, with the standard actions ------------------------------------------

@pytest.fixture
def action_env(sandbox, sandbox_files, monkeypatch):
    """What `source`-ing the sandbox's env file gives the actions (they read os.environ when the
    dashboard opens their context): the sandbox's helm on PATH, the ALB front as HTTP proxy, and a
    poll cadence matching the sped-up clock."""
    kubeconfig, _ = sandbox_files
    monkeypatch.setenv("PATH", f"{kubeconfig.parent / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("IAGENT_ALB_PROXY", sandbox.info.alb_url)
    monkeypatch.setenv("IAGENT_ACTION_POLL_SECONDS", "0.05")


async def open_dashboard(sandbox, sandbox_files, journal_dir: Path, read_only: bool = False) -> IagentApp:
    info = sandbox.info
    kubeconfig, _ = sandbox_files
    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig),
                        journal_dir=journal_dir, read_only=read_only)
    connection = await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))
    monitor = ClusterMonitor(connection, settings, fast_interval=0.2, slow_interval=1.0)
    return build_app(settings, connection, source=monitor)


async def ready(pilot, app: IagentApp) -> None:
    await until(pilot, lambda: app.snapshot is not None and app.snapshot.cluster is not None,
                timeout=30, what="the sandbox cluster on screen")
    await until(pilot, lambda: {"deploy", "smoke", "rollback"} <= set(app.actions) and app.add_namespace,
                timeout=15, what="the standard actions offered")


def progress(app: IagentApp) -> ActionProgress:
    return app.dashboard.query_one(ActionProgress)


def text_of(widget) -> str:
    return str(widget.render())


async def confirm_dialog(pilot, app: IagentApp, timeout: float = 30) -> ConfirmDialog:
    dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen,
                         timeout=timeout, what="the plan's confirmation dialog")
    # the screen is on the stack a moment before it is active and focuses anything
    await until(pilot, lambda: app.focused is not None, what="focus in the dialog")
    assert app.focused is dialog.query_one("#cancel", Button), "Cancel must be focused by default"
    return dialog


async def press_apply(pilot, app: IagentApp, dialog: ConfirmDialog) -> None:
    """Move from the focused Cancel to Apply with the keyboard, and press it."""
    apply = dialog.query_one("#apply", Button)
    await pilot.press("tab")
    await until(pilot, lambda: app.focused is apply, what="Apply focused")
    await pilot.press("enter")


async def finished(pilot, app: IagentApp, name: str) -> str:
    panel = progress(app)
    await until(pilot, lambda: panel.plan is not None and panel.plan.action == name and panel.finished is not None,
                timeout=ACTION_TIMEOUT, what=f"{name} finished in the progress panel")
    shown = text_of(panel)
    assert panel.finished is True, shown
    assert f"{name} on {CLUSTER}: finished" in shown
    return shown


async def name_dialog_open(pilot, app: IagentApp) -> NamespaceNameDialog:
    dialog = await until(pilot, lambda: isinstance(app.screen, NamespaceNameDialog) and app.screen,
                         what="namespace name dialog")
    await until(pilot, lambda: app.focused is dialog.query_one(Input), what="the name field focused")
    return dialog


def journal(journal_dir: Path, action: str) -> list[dict]:
    return read_journal(sorted(journal_dir.glob(f"*-{action}.jsonl"))[-1])


# -- read-only: plans shown, nothing changes -------------------------------------------------------------

async def test_read_only_dashboard_shows_plans_without_the_acting_button_and_changes_nothing(
        sandbox, sandbox_files, aws, k8s, action_env, tmp_path):
    before = await asyncio.to_thread(cluster_state, aws, k8s)
    app = await open_dashboard(sandbox, sandbox_files, tmp_path / "journal", read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("D")
        dialog = await confirm_dialog(pilot, app)
        assert not dialog.query("#apply") and not dialog.query("#confirm-name")
        assert "Read-only mode" in text_of(dialog.query_one("#confirm-readonly"))
        assert "Create Fargate profile fp-prod" in text_of(dialog.query_one("#confirm-plan Static"))
        await pilot.press("enter")  # the focused Cancel
        await until(pilot, lambda: app.screen is app.dashboard, what="deploy dialog closed")

        await pilot.press("A")
        name_dialog = await name_dialog_open(pilot, app)
        await pilot.press(*"ro-team", "enter")
        dialog = await confirm_dialog(pilot, app)
        assert name_dialog is not dialog and not dialog.query("#apply")
        shown = text_of(dialog.query_one("#confirm-plan Static"))
        assert "Create namespace ro-team" in shown and "Create Fargate profile fp-ro-team" in shown
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard, what="add-namespace dialog closed")
        assert not progress(app).display
    assert await asyncio.to_thread(cluster_state, aws, k8s) == before
    assert not list((tmp_path / "journal").glob("*.jsonl"))  # nothing ran, not even a refused run


# -- the whole migration and back, through the dialogs ------------------------------------------------------

async def test_deploy_smoke_add_namespace_rollback_through_the_dashboard(
        sandbox, sandbox_files, aws, k8s, action_env, tmp_path):
    journal_dir = tmp_path / "journal"
    eks, iam, elbv2 = aws("eks"), aws("iam"), aws("elbv2")
    app = await open_dashboard(sandbox, sandbox_files, journal_dir)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)

        # deploy
        await pilot.press("D")
        await press_apply(pilot, app, await confirm_dialog(pilot, app))
        await finished(pilot, app, "deploy")
        role = iam.get_role(RoleName=POD_ROLE)["Role"]
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "eks-fargate-pods.amazonaws.com"}
        assert set(eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"]) == PROFILES
        for name in PROFILES:
            profile = eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName=name)["fargateProfile"]
            assert profile["status"] == "ACTIVE" and profile["podExecutionRoleArn"] == role["Arn"]
        assert running_on(live_pods(k8s, "kube-system", "k8s-app=kube-dns"), fargate=True)
        controller = k8s_client.AppsV1Api(k8s).read_namespaced_deployment("aws-load-balancer-controller",
                                                                         "kube-system")
        assert controller.status.ready_replicas == controller.spec.replicas >= 1

        # smoke
        await pilot.press("S")
        await press_apply(pilot, app, await confirm_dialog(pilot, app))
        shown = await finished(pilot, app, "smoke")
        assert "Smoke test PASSED" in shown
        assert running_on(live_pods(k8s, "default", SAMPLE), fargate=True)
        statuses = [r["data"]["status"] for r in journal(journal_dir, "smoke")
                    if r.get("kind") == "info" and "status" in (r.get("data") or {})]
        assert statuses and set(statuses) == {200}  # the action's own results, as journaled
        healthy = [t for group in elbv2.describe_target_groups()["TargetGroups"]
                   for t in elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])[
                       "TargetHealthDescriptions"] if t["TargetHealth"]["State"] == "healthy"]
        assert healthy
        ingress = k8s_client.NetworkingV1Api(k8s).read_namespaced_ingress("iagent-sample", "default")
        hostname = ingress.status.load_balancer.ingress[0].hostname
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": sandbox.info.alb_url}))
        with await asyncio.to_thread(opener.open, f"http://{hostname}/", None, 10) as response:
            assert response.status == 200  # the ALB answers a client that is not the product

        # add-namespace: an existing namespace with a deployment on EC2, restarted onto Fargate
        core, apps = k8s_client.CoreV1Api(k8s), k8s_client.AppsV1Api(k8s)
        core.create_namespace({"metadata": {"name": TEAM}})
        apps.create_namespaced_deployment(TEAM, team_deployment())
        await asyncio.to_thread(wait_for, lambda: running_on(live_pods(k8s, TEAM, "app=team-web"), fargate=False),
                                30, 0.1, "team-x pods running on EC2")
        before = cluster_state(aws, k8s)
        await pilot.press("A")
        name_dialog = await name_dialog_open(pilot, app)
        await pilot.press(*"Team_X", "enter")  # refused by the Kubernetes naming rule, before any call
        await until(pilot, lambda: "not a valid DNS-1123 label" in name_dialog.error_message, what="name error shown")
        assert app.screen is name_dialog
        assert cluster_state(aws, k8s) == before
        name_dialog.query_one(Input).value = ""
        await pilot.press(*TEAM, "enter")
        choice = await until(pilot, lambda: isinstance(app.screen, RestartChoiceDialog) and app.screen,
                             timeout=30, what="restart question listing the deployments")
        listed = text_of(choice.query_one("#restart-choice-list Static"))
        assert "Deployment/team-web" in listed and f"{TEAM}/team-web-" in listed
        await until(pilot, lambda: app.focused is not None, what="focus in the restart question")
        assert app.focused is choice.query_one("#restart-choice-leave", Button)
        await pilot.click("#restart-choice-restart")
        dialog = await confirm_dialog(pilot, app)
        assert "reschedules 2 pod(s)" in text_of(dialog.query_one("#confirm-plan Static"))
        await press_apply(pilot, app, dialog)
        await finished(pilot, app, "add-namespace")
        profile = eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName=f"fp-{TEAM}")["fargateProfile"]
        assert profile["status"] == "ACTIVE" and profile["selectors"] == [
            {"namespace": TEAM, "labels": {"iagent.io/compute": "fargate"}}]
        assert running_on(live_pods(k8s, TEAM, "app=team-web"), fargate=True)

        # rollback: destructive, the cluster name must be typed before Apply works
        await pilot.press("R")
        dialog = await confirm_dialog(pilot, app)
        apply = dialog.query_one("#apply", Button)
        assert apply.disabled
        dialog.query_one("#confirm-name", Input).focus()
        await pilot.press(*CLUSTER)
        await until(pilot, lambda: not apply.disabled, what="Apply enabled by the typed cluster name")
        await pilot.press("tab")
        await until(pilot, lambda: app.focused is dialog.query_one("#cancel", Button), what="focus on Cancel")
        await press_apply(pilot, app, dialog)
        await finished(pilot, app, "rollback")
        assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []
        addon = eks.describe_addon(clusterName=CLUSTER, addonName="coredns")["addon"]
        assert "computeType" not in json.loads(addon.get("configurationValues") or "{}")
        assert running_on(live_pods(k8s, "kube-system", "k8s-app=kube-dns"), fargate=False)
        assert running_on(live_pods(k8s, TEAM, "app=team-web"), fargate=False)
        assert running_on(live_pods(k8s, "default", SAMPLE), fargate=False)
        assert not [p.metadata.name for p in live_pods(k8s) if (p.spec.node_name or "").startswith("fargate-ip-")]
