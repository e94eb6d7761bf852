"""The confirmation dialog and the progress panel, driven by a tiny action written against the
Action protocol (the real actions plug into the same App.start_action path)."""

from __future__ import annotations

import asyncio

from textual.widgets import Button, Input

from actions.base import Plan, PlanStep, ProgressEvent
from iagent_tui.app import IagentApp, StaticSource
from screens.confirm import ConfirmDialog
from screens.progress import ActionProgress

from .fixtures import evolve, make_pod, mid_migration, EC2_NODE_1
from .helpers import until

SIZE = (200, 60)

PROFILE_STEP = PlanStep("profile:fp-prod", "Create Fargate profile fp-prod", "create",
                        "EKS Fargate profile iagent-cluster/fp-prod", "selectors: prod; subnets: subnet-0a1")
WAIT_STEP = PlanStep("wait:fp-prod", "Wait for fp-prod to be ACTIVE", "wait", "fp-prod", mutating=False)
RESTART_STEP = PlanStep("restart:prod/web", "Restart Deployment prod/web", "restart", "Deployment prod/web",
                        reschedules=("prod/web-5c6b7-klmno",))


def plan(destructive: bool = False) -> Plan:
    return Plan("deploy", "iagent-cluster", (PROFILE_STEP, WAIT_STEP, RESTART_STEP), destructive=destructive,
                warnings=("Deployment prod/[legacy] uses hostPort: it will stay on EC2",))


class TinyAction:
    """Yields the events a real action yields; holds in its wait step until `release` is set."""

    name = "deploy"
    title = "Deploy the iAgent workloads to Fargate"

    def __init__(self, the_plan: Plan, fail_with: str = "") -> None:
        self.the_plan = the_plan
        self.fail_with = fail_with
        self.release = asyncio.Event()
        self.ran_with: Plan | None = None

    async def plan(self) -> Plan:
        return self.the_plan

    async def run(self, plan: Plan):
        self.ran_with = plan
        yield ProgressEvent("step_started", "creating", step_id=PROFILE_STEP.id)
        yield ProgressEvent("step_finished", "created", step_id=PROFILE_STEP.id, ok=True)
        yield ProgressEvent("step_started", "waiting", step_id=WAIT_STEP.id)
        yield ProgressEvent("waiting", "status CREATING", step_id=WAIT_STEP.id, elapsed=42.0,
                            waiting_for="Fargate profile fp-prod ACTIVE")
        await self.release.wait()
        if self.fail_with:
            raise RuntimeError(self.fail_with)
        yield ProgressEvent("step_finished", "ACTIVE", step_id=WAIT_STEP.id, ok=True)
        yield ProgressEvent("warning", "pod prod/web-5c6b7-pqrst stayed Pending [FailedScheduling]")
        yield ProgressEvent("step_skipped", "already restarted", step_id=RESTART_STEP.id)
        yield ProgressEvent("done", "deploy finished", ok=True)


def progress(app: IagentApp) -> ActionProgress:
    return app.dashboard.query_one(ActionProgress)


def text_of(widget) -> str:
    return str(widget.render())


async def open_dialog(pilot, app: IagentApp) -> ConfirmDialog:
    await until(pilot, lambda: app.snapshots_rendered >= 1)
    await pilot.press("D")
    return await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen, what="dialog")


async def test_dialog_shows_the_plan_with_cancel_focused_and_cancel_runs_nothing():
    action = TinyAction(plan())
    app = IagentApp(StaticSource(mid_migration()), actions=[action])
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, app)
        await until(pilot, lambda: app.focused is not None, what="focus in the dialog")
        assert app.focused is dialog.query_one("#cancel", Button)
        shown = text_of(dialog.query_one("#confirm-plan Static"))
        for expected in ("Create Fargate profile fp-prod", "EKS Fargate profile iagent-cluster/fp-prod",
                         "reschedules 1 pod(s): prod/web-5c6b7-klmno", "1 to create",
                         "Deployment prod/[legacy] uses hostPort"):
            assert expected in shown
        assert not dialog.query_one("#apply", Button).disabled  # not destructive: no typed name
        await pilot.press("enter")  # enter on the focused Cancel
        await until(pilot, lambda: app.screen is app.dashboard, what="dialog closed")
        assert action.ran_with is None
        assert not progress(app).display


async def test_destructive_plan_needs_the_cluster_name_typed():
    action = TinyAction(plan(destructive=True))
    app = IagentApp(StaticSource(mid_migration()), actions=[action])
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, app)
        apply = dialog.query_one("#apply", Button)
        assert apply.disabled
        name = dialog.query_one("#confirm-name", Input)
        name.focus()
        await pilot.press(*"iagent-clustr")
        await pilot.pause()
        assert apply.disabled
        await pilot.press("backspace", *"er")
        await until(pilot, lambda: not apply.disabled, what="apply enabled by the typed name")
        await pilot.click("#apply")
        await until(pilot, lambda: action.ran_with is not None, what="action started")
        action.release.set()
        await until(pilot, lambda: progress(app).finished is True, what="action finished")


async def test_read_only_shows_the_same_plan_without_the_acting_button():
    action = TinyAction(plan(destructive=True))
    app = IagentApp(StaticSource(mid_migration()), actions=[action], read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, app)
        assert not dialog.query("#apply")
        assert not dialog.query("#confirm-name")
        assert "Read-only mode" in text_of(dialog.query_one("#confirm-readonly"))
        assert "Create Fargate profile fp-prod" in text_of(dialog.query_one("#confirm-plan Static"))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard)
        assert action.ran_with is None


async def test_progress_panel_renders_events_while_panels_keep_updating():
    source = StaticSource(mid_migration())
    action = TinyAction(plan())
    app = IagentApp(source, actions=[action])
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, app)
        await pilot.click("#apply")
        panel = progress(app)
        await until(pilot, lambda: "waiting for Fargate profile fp-prod ACTIVE: status CREATING (42s)" in text_of(panel),
                    what="waiting line")
        assert panel.display and panel.running
        assert panel.step_state == {PROFILE_STEP.id: "done", WAIT_STEP.id: "running", RESTART_STEP.id: "pending"}
        # The dashboard keeps rendering new snapshots under the running action.
        rendered = app.snapshots_rendered
        first = mid_migration()
        source.publish(evolve(first, pods=first.pods + (make_pod("prod", "web-5c6b7-zzzzz", EC2_NODE_1, "ec2"),)))
        await until(pilot, lambda: app.snapshots_rendered > rendered, what="panel update during the run")
        assert "prod/web-5c6b7-zzzzz" in app.dashboard.query_one("#table-pods").row_keys
        action.release.set()
        await until(pilot, lambda: panel.finished is True, what="done")
        shown = text_of(panel)
        assert "deploy on iagent-cluster: finished" in shown
        assert "stayed Pending [FailedScheduling]" in shown
        assert panel.step_state[RESTART_STEP.id] == "skipped"
        await pilot.press("x")
        await until(pilot, lambda: not panel.display, what="panel hidden")


async def test_a_failing_run_is_shown_in_the_panel_and_the_app_lives_on():
    action = TinyAction(plan(), fail_with="ResourceInUseException: Cannot create Fargate Profile fp-prod")
    app = IagentApp(StaticSource(mid_migration()), actions=[action])
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, app)
        await pilot.click("#apply")
        panel = progress(app)
        await until(pilot, lambda: panel.running and WAIT_STEP.id in panel.step_state
                    and panel.step_state[WAIT_STEP.id] == "running")
        action.release.set()
        await until(pilot, lambda: panel.finished is False, what="failure shown")
        assert panel.step_state[WAIT_STEP.id] == "failed"
        assert "RuntimeError: ResourceInUseException: Cannot create Fargate Profile fp-prod" in text_of(panel)
        assert app.is_running
        await pilot.press("D")  # a new run can be started after the failure
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))


def test_waiting_line_names_the_wait_once_with_its_elapsed_time():
    from screens.progress import waiting_line
    assert waiting_line(ProgressEvent("waiting", "Waiting for Fargate profile fp-prod to be ACTIVE: CREATING (5s)",
                                      elapsed=5.0, waiting_for="Fargate profile fp-prod to be ACTIVE")) \
        == "Waiting for Fargate profile fp-prod to be ACTIVE: CREATING (5s)"
    assert waiting_line(ProgressEvent("waiting", "status CREATING", elapsed=61.0, waiting_for="fp-prod ACTIVE")) \
        == "waiting for fp-prod ACTIVE: status CREATING (1m01s)"
    assert waiting_line(ProgressEvent("waiting", "CoreDNS pods on Fargate")) == "waiting for CoreDNS pods on Fargate"
    # The action's own count, a moment older than the event's: printed once, the event's.
    assert waiting_line(ProgressEvent("waiting", "Waiting for pods Ready (10s)", elapsed=9.0,
                                      waiting_for="pods Ready")) == "Waiting for pods Ready (9s)"
    assert waiting_line(ProgressEvent("waiting", "status CREATING (1m05s)", elapsed=66.0,
                                      waiting_for="fp-prod")) == "waiting for fp-prod: status CREATING (1m06s)"
    # Seen in tmux: "CREATING (5s of 60 s) (5s)"; the deadline stays, the time once.
    assert waiting_line(ProgressEvent("waiting", "Waiting for Fargate profile fp-prod to be ACTIVE: CREATING (5s of 60 s)",
                                      elapsed=6.0, waiting_for="Fargate profile fp-prod to be ACTIVE")) \
        == "Waiting for Fargate profile fp-prod to be ACTIVE: CREATING (6s of 60 s)"


def test_charts_draw_zero_as_an_empty_bar_from_zero_up():
    from screens.charts import bar_line
    assert bar_line([0.0], 10) == " "
    assert bar_line([0.0, 0.0, 0.0], 10) == "   "
    assert bar_line([0.0, 2.0, 4.0], 10) == " ▄█"
    assert bar_line([3.0, 3.0], 10) == "██"  # the same nonzero value is full, zero is not
    assert bar_line([1.0, 2.0, 3.0, 4.0], 2) == "▆█"  # the newest that fit


async def test_action_keys_are_inactive_without_actions():
    app = IagentApp(StaticSource(mid_migration()))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1)
        await pilot.press("D")
        await pilot.pause()
        assert app.screen is app.dashboard
        assert app.check_action("start_action", ("deploy",)) is False


class FailingPlan(TinyAction):
    async def plan(self) -> Plan:
        raise PermissionError("AccessDenied: iam:GetRole on AmazonEKSFargatePodExecutionRole [not permitted]")


async def test_a_plan_that_cannot_be_made_is_reported_and_nothing_opens():
    app = IagentApp(StaticSource(mid_migration()), actions=[FailingPlan(plan())])
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1)
        await pilot.press("D")
        await until(pilot, lambda: any("[not permitted]" in str(n.message) for n in app._notifications),
                    what="planning failure notified")
        assert app.screen is app.dashboard
        assert not progress(app).display


async def test_quitting_during_a_run_asks_once():
    action = TinyAction(plan())
    app = IagentApp(StaticSource(mid_migration()), actions=[action])
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, app)
        await pilot.click("#apply")
        await until(pilot, lambda: progress(app).running and progress(app).waiting, what="run waiting")
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running
        assert any("still running" in str(n.message) for n in app._notifications)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, what="app exited")


async def test_build_app_takes_read_only_and_targets_from_settings():
    from iagent_tui.app import build_app
    from iagent_tui.config import Settings

    settings = Settings(read_only=True, startup_target_seconds=30)
    action = TinyAction(plan())
    app = build_app(settings, connection=None, source=StaticSource(mid_migration()), actions=[action])
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, app)
        assert not dialog.query("#apply")
        await pilot.press("escape")
        assert app.assessment.start_target == 30
        from textual.color import Color
        ready = app.dashboard.query_one("#table-pods").get_cell("default/api-7d9f8-abcde", "ready")
        assert ready.plain == "55s"  # over the 30 s target from the settings: shown as an error
        assert ready.style.color == Color.parse(app.theme_variables["error"]).rich_color
