"""The walkthrough against a pre-migration sandbox through the real service layer: step 2 is
current; `a` runs deploy through the confirmation dialog (answered with the keyboard, as a user
does) and the progress flow; then steps 2-4 read done from the live snapshots — and boto3 and the
official kubernetes client confirm the cluster really is in that state."""

from __future__ import annotations

import asyncio

from kubernetes import client as k8s_client

from screens.walkthrough import WalkthroughScreen

from .helpers import until
from .test_actions_dashboard_e2e import (CLUSTER, POD_ROLE, SIZE, action_env, confirm_dialog,  # noqa: F401 - fixture
                                         finished, live_pods, open_dashboard, press_apply, ready, running_on)

PLANNED = {"default": "fp-default", "prod": "fp-prod", "staging": "fp-staging"}


def states(screen: WalkthroughScreen) -> dict[str, str]:
    return {s.id: s.state for s in screen.steps}


def cluster_facts(aws, k8s) -> dict:
    eks, iam = aws("eks"), aws("iam")
    role = iam.get_role(RoleName=POD_ROLE)["Role"]
    profiles = {name: eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName=name)["fargateProfile"]
                for name in eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"]}
    addon = eks.describe_addon(clusterName=CLUSTER, addonName="coredns")["addon"]
    controller = k8s_client.AppsV1Api(k8s).read_namespaced_deployment("aws-load-balancer-controller", "kube-system")
    return {"role": role, "profiles": profiles, "addon": addon, "controller": controller,
            "dns": live_pods(k8s, "kube-system", "k8s-app=kube-dns")}


async def test_walkthrough_from_pre_migration_through_deploy(sandbox, sandbox_files, aws, k8s, action_env, tmp_path):
    eks = aws("eks")
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []  # untouched scenario
    app = await open_dashboard(sandbox, sandbox_files, tmp_path / "journal")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("w")
        screen = await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen) and app.screen.steps
                             and app.screen, what="the walkthrough")
        assert screen.current.id == "profiles", states(screen)
        assert states(screen)["inventory"] == "done"
        assert {states(screen)[s] for s in ("profiles", "coredns", "controller")} == {"to do"}
        assert "a starts deploy" in str(screen.query_one("#step-profiles").render())

        await pilot.press("a")
        dialog = await confirm_dialog(pilot, app)
        assert dialog.plan.action == "deploy"
        await press_apply(pilot, app, dialog)
        await until(pilot, lambda: app.screen is screen, what="back on the walkthrough")
        await until(pilot, lambda: "deploy: running" in str(screen.query_one("#walkthrough-action").render()),
                    what="the run shown on the walkthrough")
        await pilot.press("escape")  # the progress panel is the dashboard's; `finished` reads it
        await finished(pilot, app, "deploy")

        await pilot.press("w")
        screen = await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen) and app.screen.steps
                             and app.screen, what="the walkthrough again")
        await until(pilot, lambda: all(states(screen)[s] == "done" for s in ("profiles", "coredns", "controller")),
                    timeout=30, what=f"steps 2-4 done from the live snapshots (now {states(screen)})")
        assert screen.current.id == "smoke" and screen.current.action == "smoke"
        assert states(screen)["smoke"] == "to do"

    facts = await asyncio.to_thread(cluster_facts, aws, k8s)
    (statement,) = facts["role"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "eks-fargate-pods.amazonaws.com"}
    for namespace, name in PLANNED.items():
        profile = facts["profiles"][name]
        assert profile["status"] == "ACTIVE" and profile["selectors"] == [
            {"namespace": namespace, "labels": {"iagent.io/compute": "fargate"}}]  # label-scoped, the default
    assert '"Fargate"' in (facts["addon"].get("configurationValues") or "") and facts["addon"]["status"] == "ACTIVE"
    assert running_on(facts["dns"], fargate=True)
    assert facts["controller"].status.ready_replicas == facts["controller"].spec.replicas >= 1
