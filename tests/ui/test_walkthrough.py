"""The migration walkthrough (`w`) on fixed snapshots: every step in each of its states, the current
step highlighted, live updates by key (no widget replaced, nothing re-rendered when nothing changed),
cluster text shown literally, and its keys going through the App's own action flow."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Input, Static

from actions.base import Plan, PlanStep, ProgressEvent
from iagent_tui.app import IagentApp, StaticSource
from iagent_tui.model import (Addon, FargateProfile, HealthIssue, LoadBalancer, Node, Selector, Snapshot,
                              SourceState, Target, TargetGroup, Workload, frozen_map)
from screens.add_namespace import NamespaceNameDialog
from screens.confirm import ConfirmDialog
from screens.detail import DetailScreen
from screens.progress import ActionProgress
from screens.walkthrough import RollbackPlanScreen, WalkthroughScreen

from .fixtures import EC2_NODE_1, EC2_NODE_2, NOW, SIZED, WORKLOADS, at, evolve, make_pod, mid_migration
from .helpers import until
from .test_actions_ui import TinyAction, plan

SIZE = (160, 60)
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/AmazonEKSFargatePodExecutionRole"
GOOD_ROLE = frozen_map({
    "RoleName": "AmazonEKSFargatePodExecutionRole", "Arn": ROLE_ARN,
    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "eks-fargate-pods.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:eks:eu-central-1:{ACCOUNT}:fargateprofile/iagent-cluster/*"}}}]}})
KUBE_DNS = {"k8s-app": "kube-dns"}
LBC_LABELS = {"app.kubernetes.io/name": "aws-load-balancer-controller"}
SAMPLE_LABELS = {"app.kubernetes.io/name": "iagent-sample"}


def fargate_node(index: int) -> str:
    return f"fargate-ip-10-0-9-{index}.eu-central-1.compute.internal"


def on_fargate(namespace: str, name: str, index: int, profile: str, **kwargs):
    return make_pod(namespace, name, fargate_node(index), "fargate", fargate_profile=profile,
                    capacity="0.25vCPU 0.5GB", ip=f"10.0.9.{index}", **kwargs)


def profile(name: str, namespace: str, status: str = "ACTIVE", labels: dict | None = None, **kwargs) -> FargateProfile:
    return FargateProfile(name, status, (Selector(namespace, frozen_map(labels or {})),), ("subnet-0a1",), ROLE_ARN,
                          at(-600), status_since=at(-400), **kwargs)


def lbc_workload(ready: int = 2) -> Workload:
    return replace(WORKLOADS[0], namespace="kube-system", name="aws-load-balancer-controller", replicas=2, ready=ready,
                   raw=frozen_map({}))


def pre_migration() -> Snapshot:
    """The default sandbox scenario's shape: everything on EC2, no profiles, no controller."""
    base = mid_migration()
    pods = (
        make_pod("default", "api-7d9f8-abcde", EC2_NODE_1, "ec2", ip="10.0.1.11"),
        make_pod("prod", "web-5c6b7-klmno", EC2_NODE_2, "ec2", ip="10.0.2.12"),
        make_pod("kube-system", "coredns-6b9f-aaaaa", EC2_NODE_1, "ec2", labels=KUBE_DNS, ip="10.0.1.101"),
        make_pod("kube-system", "coredns-6b9f-bbbbb", EC2_NODE_2, "ec2", labels=KUBE_DNS, ip="10.0.2.201"),
    )
    nodes = tuple(replace(n, ready=True) for n in base.nodes if n.compute_type == "ec2")
    return replace(base, profiles=(), pods=pods, nodes=nodes, events=(), load_balancers=(), target_groups=(),
                   addons=(Addon("coredns", "ACTIVE", "v1.11.3-eksbuild.2", frozen_map({}), ""),),
                   sources=frozen_map({}), version=1)


def migrated() -> Snapshot:
    """Every step done: profiles ACTIVE, CoreDNS and the controller on Fargate, the sample app healthy
    behind its ALB, the applications on Fargate within the start-time target."""
    base = pre_migration()
    pods = (
        on_fargate("default", "api-7d9f8-abcde", 1, "fp-default"),
        on_fargate("default", "iagent-sample-6d5c4-zzzzz", 2, "fp-default", labels=SAMPLE_LABELS),
        on_fargate("prod", "web-5c6b7-klmno", 3, "fp-prod"),
        on_fargate("kube-system", "coredns-6b9f-ccccc", 4, "fp-kube-system", labels=KUBE_DNS),
        on_fargate("kube-system", "coredns-6b9f-ddddd", 5, "fp-kube-system", labels=KUBE_DNS),
        on_fargate("kube-system", "aws-load-balancer-controller-7f-aaaaa", 6, "fp-kube-system", labels=LBC_LABELS),
        on_fargate("kube-system", "aws-load-balancer-controller-7f-bbbbb", 7, "fp-kube-system", labels=LBC_LABELS),
    )
    nodes = base.nodes + tuple(Node(fargate_node(i), "fargate", True, "eu-central-1a", "", frozen_map({}), at(30))
                               for i in range(1, 8))
    tg = TargetGroup("k8s-default-iagentsa-0a1b2c3d4e", "arn:tg", "k8s-default-iagentsa-9f8e7d6c5b", "ip",
                     (Target("10.0.9.2", 80, "healthy", "", "", pod="default/iagent-sample-6d5c4-zzzzz", since=at(90)),))
    return replace(
        base, version=2, pods=pods, nodes=nodes, target_groups=(tg,), pod_execution_roles=(GOOD_ROLE,),
        workloads=WORKLOADS + (lbc_workload(),),
        profiles=(profile("fp-default", "default"), profile("fp-prod", "prod"), profile("fp-staging", "staging"),
                  profile("fp-kube-system", "kube-system", labels=KUBE_DNS)),
        addons=(Addon("coredns", "ACTIVE", "v1.11.3-eksbuild.2", frozen_map({"computeType": "Fargate"}), "Fargate"),),
        load_balancers=(LoadBalancer("k8s-default-iagentsa-9f8e7d6c5b", "arn:lb", "k8s-default-iagentsa.elb.amazonaws.com",
                                     "active", "internet-facing"),))


def with_profile(snap: Snapshot, name: str, status: str, **kwargs) -> Snapshot:
    kept = tuple(p for p in snap.profiles if p.name != name)
    return evolve(snap, profiles=kept + (profile(name, name.removeprefix("fp-"), status, **kwargs),))


def without_pods(snap: Snapshot, namespace: str, label: tuple[str, str]) -> tuple:
    key, value = label
    return tuple(p for p in snap.pods if not (p.namespace == namespace and p.labels.get(key) == value))


def lbc_crashing(snap: Snapshot) -> Snapshot:
    pods = tuple(replace(p, ready=False, reason="CrashLoopBackOff") if p.name.startswith("aws-load-balancer") else p
                 for p in snap.pods)
    return evolve(snap, pods=pods, workloads=WORKLOADS + (lbc_workload(ready=0),))


def sample_starting(snap: Snapshot) -> Snapshot:
    pods = without_pods(snap, "default", ("app.kubernetes.io/name", "iagent-sample"))
    starting = make_pod("default", "iagent-sample-6d5c4-yyyyy", "", "", ready=False, reason="Pending",
                        labels=SAMPLE_LABELS, created=at(1790))
    return evolve(snap, pods=pods + (starting,), target_groups=())


def apps_half_moved(snap: Snapshot) -> Snapshot:
    pods = tuple(make_pod("prod", p.name, EC2_NODE_2, "ec2", ip="10.0.2.12") if p.namespace == "prod" else p
                 for p in snap.pods)
    return evolve(snap, pods=pods)


def apps_on_ec2(snap: Snapshot) -> Snapshot:
    pods = tuple(make_pod(p.namespace, p.name, EC2_NODE_1, "ec2", labels=dict(p.labels), ip="10.0.1.50")
                 if p.namespace in ("prod",) or p.name.startswith("api-") else p for p in snap.pods)
    return evolve(snap, pods=pods)


def workloads_unread(snap: Snapshot) -> Snapshot:
    failed = SourceState("deployments", False, None, "Forbidden: deployments.apps is forbidden", stale_since=NOW)
    return evolve(snap, workloads=(), sources=frozen_map({"deployments": failed}))


CASES = [
    ("inventory", "done", pre_migration),
    ("inventory", "blocked", lambda: workloads_unread(pre_migration())),
    ("profiles", "to do", pre_migration),
    ("profiles", "in progress", lambda: with_profile(with_profile(pre_migration(), "fp-default", "ACTIVE"),
                                                     "fp-prod", "CREATING")),
    ("profiles", "blocked", lambda: with_profile(migrated(), "fp-prod", "CREATE_FAILED", health_issues=(
        HealthIssue("AccessDenied", "role not assumable"),))),
    ("profiles", "done", migrated),
    ("coredns", "to do", pre_migration),
    ("coredns", "in progress", lambda: evolve(migrated(), addons=(Addon(
        "coredns", "UPDATING", "v1.11.3-eksbuild.2", frozen_map({"computeType": "Fargate"}), "Fargate"),))),
    ("coredns", "blocked", lambda: evolve(migrated(), addons=())),
    ("coredns", "done", migrated),
    ("controller", "to do", pre_migration),
    ("controller", "in progress", lambda: evolve(migrated(), workloads=WORKLOADS + (lbc_workload(ready=1),))),
    ("controller", "blocked", lambda: lbc_crashing(migrated())),
    ("controller", "done", migrated),
    ("smoke", "blocked", pre_migration),
    ("smoke", "to do", lambda: evolve(migrated(), target_groups=(), pods=without_pods(
        migrated(), "default", ("app.kubernetes.io/name", "iagent-sample")))),
    ("smoke", "in progress", lambda: sample_starting(migrated())),
    ("smoke", "done", migrated),
    ("move", "blocked", pre_migration),
    ("move", "to do", lambda: apps_on_ec2(migrated())),
    ("move", "in progress", lambda: apps_half_moved(migrated())),
    ("move", "done", migrated),
    ("validate", "blocked", mid_migration),
    ("validate", "to do", pre_migration),
    ("validate", "done", migrated),
]


async def open_walkthrough(pilot) -> WalkthroughScreen:
    app = pilot.app
    await until(pilot, lambda: app.snapshots_rendered >= 1, what="first snapshot on screen")
    await pilot.press("w")
    return await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen) and app.screen.steps
                       and app.screen, what="the walkthrough with its steps")


def step_widget(screen: WalkthroughScreen, step_id: str) -> Static:
    return screen.query_one(f"#step-{step_id}", Static)


def shown(screen: WalkthroughScreen, step_id: str) -> str:
    return str(step_widget(screen, step_id).render())


def states(screen: WalkthroughScreen) -> dict[str, str]:
    return {s.id: s.state for s in screen.steps}


async def test_each_step_state_on_screen():
    """One dashboard fed each case's snapshot in turn (as a monitor would publish them): the step
    shows the expected state, and the current step (the first not done) is the only one highlighted."""
    source = StaticSource(pre_migration())
    app = IagentApp(source)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_walkthrough(pilot)
        for version, (step_id, state, build) in enumerate(CASES, start=100):
            source.publish(replace(build(), version=version))
            await until(pilot, lambda: app.snapshot.version == version and bool(screen.steps)
                        and shown(screen, step_id), what=f"case {step_id} {state}")
            await until(pilot, lambda: states(screen)[step_id] == state, timeout=2,
                        what=f"{step_id} {state}: got {[(s.id, s.state, s.evidence) for s in screen.steps]}")
            assert f"[{state}]" in shown(screen, step_id)
            current = screen.current
            assert current is not None or all(s.done for s in screen.steps)
            for step in screen.steps:
                highlighted = step_widget(screen, step.id).has_class("-current")
                assert highlighted == (current is not None and step.id == current.id), (step_id, state, step.id)


async def test_pre_migration_is_at_step_two_and_everything_done_when_migrated():
    source = StaticSource(pre_migration())
    app = IagentApp(source, actions=[TinyAction(plan())])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_walkthrough(pilot)
        assert screen.current.id == "profiles"
        assert "a starts deploy" in shown(screen, "profiles")
        assert "namespace staging: no Fargate profile" in shown(screen, "profiles")
        assert "Migration walkthrough for iagent-cluster" in str(screen.query_one("#walkthrough-title").render())
        widgets = {step_id: step_widget(screen, step_id) for step_id in states(screen)}

        # live: a profile starts CREATING, then the whole migration lands; same widgets, updated in place
        source.publish(with_profile(pre_migration(), "fp-default", "CREATING"))
        await until(pilot, lambda: states(screen)["profiles"] == "in progress", what="profiles in progress")
        assert "profile fp-default CREATING" in shown(screen, "profiles")
        source.publish(migrated())
        await until(pilot, lambda: screen.current is None, what="every step done")
        assert all(step_widget(screen, i) is w for i, w in widgets.items())
        assert "every step done" in str(screen.query_one("#walkthrough-title").render())

        # a new snapshot with the same content re-renders nothing
        before = screen.updates
        source.publish(evolve(migrated()))
        await until(pilot, lambda: app.snapshot.version == 3, what="the next snapshot taken")
        await pilot.pause()
        assert screen.updates == before

        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard, what="back on the dashboard")


async def test_cluster_text_is_shown_literally():
    hostile = "[bold red]not markup[/] [502]"
    snap = with_profile(pre_migration(), "fp-prod", "CREATE_FAILED",
                        health_issues=(HealthIssue("AccessDenied", hostile),))
    app = IagentApp(StaticSource(snap))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_walkthrough(pilot)
        assert hostile in shown(screen, "profiles")
        assert states(screen)["profiles"] == "blocked"


async def test_advance_runs_the_current_steps_action_through_the_confirm_dialog_and_progress():
    action = TinyAction(plan())
    app = IagentApp(StaticSource(pre_migration()), actions=[action])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_walkthrough(pilot)
        await pilot.press("a")
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen, what="deploy's plan")
        assert dialog.plan.action == "deploy"
        await pilot.click("#apply")
        await until(pilot, lambda: app.screen is screen, what="back on the walkthrough")
        line = screen.query_one("#walkthrough-action")
        await until(pilot, lambda: "deploy: running" in str(line.render()), what="the run summarised")
        assert "Fargate profile fp-prod ACTIVE" in str(line.render())
        # the App owns the run: leaving the walkthrough does not stop it
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard, what="dashboard")
        progress = app.dashboard.query_one(ActionProgress)
        assert progress.running and action.ran_with is not None
        action.release.set()
        await until(pilot, lambda: progress.finished is True, what="deploy finished")


async def test_advance_on_the_move_step_offers_the_next_namespace_to_add():
    offered = []

    class AddNamespace:
        name, title = "add-namespace", "Add a namespace to Fargate"

        def __init__(self, namespace: str) -> None:
            self.namespace = namespace

        async def plan(self) -> Plan:
            offered.append(self.namespace)
            return Plan("add-namespace", "iagent-cluster", (PlanStep("namespace", f"Create namespace {self.namespace}",
                                                                     "create", self.namespace, done=True),))

        async def run(self, the_plan: Plan):
            yield ProgressEvent("done", "", ok=True)

    from iagent_tui.app import NamespaceActions
    app = IagentApp(StaticSource(apps_on_ec2(migrated())),
                    add_namespace=NamespaceActions("Add a namespace to Fargate", check=lambda name: None,
                                                   build=lambda name, restart: AddNamespace(name)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_walkthrough(pilot)
        assert screen.current.id == "move" and screen.current.suggestion == "default"
        await pilot.press("a")
        dialog = await until(pilot, lambda: isinstance(app.screen, NamespaceNameDialog) and app.screen,
                             what="the name dialog")
        assert dialog.query_one(Input).value == "default"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the plan")
        assert offered == ["default"]


async def test_enter_shows_the_findings_and_r_shows_the_rollback_plan_without_running_it():
    rollback_plan = Plan("rollback", "iagent-cluster", (PlanStep("profile:fp-prod", "Delete Fargate profile fp-prod",
                                                                 "delete", "fp-prod"),), destructive=True)

    class Rollback(TinyAction):
        name = "rollback"

    rollback = Rollback(rollback_plan)
    app = IagentApp(StaticSource(mid_migration()), actions=[rollback])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_walkthrough(pilot)
        await pilot.press("up", "up", "up", "up", "up", "up", "enter")  # to step 1 whatever the current one
        detail = await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen, what="findings")
        yaml_text = str(detail.query_one("#detail-yaml").render())
        assert "FG002" in yaml_text and "FG010" in yaml_text and "Deployment/prod/legacy" in yaml_text
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="back on the walkthrough")

        await pilot.press("r")
        shown_plan = await until(pilot, lambda: isinstance(app.screen, RollbackPlanScreen) and app.screen,
                                 what="the rollback plan")
        assert "Delete Fargate profile fp-prod" in str(shown_plan.query_one("#rollback-plan-text").render())
        assert not shown_plan.query("#apply")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="back on the walkthrough")
        assert rollback.ran_with is None


async def test_w_is_in_the_help_and_the_palette_and_can_be_remapped():
    app = IagentApp(StaticSource(mid_migration()), keymap={"open-walkthrough": "f2"})
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1, what="first snapshot")
        assert any(c.id == "open-walkthrough" for c in app.commands)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Migration walkthrough" in titles
        await pilot.press("question_mark")
        help_screen = await until(pilot, lambda: app.screen.query("#help-text") and app.screen, what="help")
        assert "f2  Migration walkthrough" in str(help_screen.query_one("#help-text").render())
        await pilot.press("escape")
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen), what="walkthrough on f2")
