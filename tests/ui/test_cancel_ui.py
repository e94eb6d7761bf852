"""Cancelling a running action from the dashboard: the key shows only while an action runs, asks
first in the confirmation dialog (keeping it running is focused), then stops the run; the panel
and the journal say at which step."""

from __future__ import annotations

import asyncio

from textual.widgets import Button

from actions.base import Plan, PlanStep, ProgressEvent, StepAction
from actions.journal import read
from actions.runner import ActionRunner
from iagent_tui.app import IagentApp, StaticSource
from screens.confirm import ConfirmDialog
from screens.progress import ActionProgress

from .fixtures import mid_migration
from .helpers import until

SIZE = (200, 60)
PLAN = Plan("deploy", "iagent-cluster", (
    PlanStep("profile:fp-prod", "Create Fargate profile fp-prod", "create", "EKS Fargate profile iagent-cluster/fp-prod"),
    PlanStep("lbc-ready", "Wait for the load balancer controller", "wait", "Deployment kube-system/lbc", mutating=False),
))


class LongWait(StepAction):
    """Creates in its first step, then waits in the second until cancelled."""

    name = "deploy"
    title = "Deploy"

    def __init__(self) -> None:
        self.waiting = False

    async def plan(self) -> Plan:
        return PLAN

    async def execute(self, step: PlanStep):
        if step.id == "lbc-ready":
            self.waiting = True
            yield ProgressEvent("waiting", "0/2 ready", step.id, elapsed=1.0, waiting_for="the controller")
            await asyncio.Event().wait()  # never set: only a cancel ends it
        yield ProgressEvent("info", f"did {step.id}", step.id)


def footer_keys(app: IagentApp) -> set[str]:
    return {binding.id for _, binding, enabled, _ in app.active_bindings.values() if enabled and binding.id}


async def test_cancel_key_asks_then_stops_the_run_at_its_step_and_journals_it(tmp_path):
    action = LongWait()
    runner = ActionRunner(tmp_path, read_only=False, cluster="iagent-cluster")
    app = IagentApp(StaticSource(mid_migration()), actions=[action], run_action=runner.run)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1)
        assert "cancel-action" not in footer_keys(app)  # nothing runs: no cancel key
        await pilot.press("D")
        dialog = await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen, what="plan dialog")
        await pilot.click("#apply")
        await until(pilot, lambda: action.waiting, what="the run waiting in lbc-ready")
        await until(pilot, lambda: "cancel-action" in footer_keys(app), what="cancel key in the footer")

        await pilot.press("c")
        question = await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen is not dialog
                               and app.screen, what="cancel question")
        shown = str(question.query_one("#confirm-plan Static").render())
        assert "Cancel deploy? It stops at the next safe point; running it again finishes the job" in shown
        await until(pilot, lambda: app.focused is question.query_one("#cancel", Button), what="keep running focused")
        assert str(question.query_one("#cancel", Button).label) == "Keep running"
        await pilot.click("#apply")

        progress = app.dashboard.query_one(ActionProgress)
        await until(pilot, lambda: progress.cancelled_at == "lbc-ready", what="panel shows the cancel")
        text = str(progress.render())
        assert "deploy on iagent-cluster: cancelled" in text
        assert "Cancelled at step lbc-ready; run deploy again to finish the job." in text
        await until(pilot, lambda: "cancel-action" not in footer_keys(app), what="cancel key gone")
        assert "close-progress" in footer_keys(app) or not progress.running

    (journal,) = tmp_path.glob("*.jsonl")
    last = read(journal)[-1]
    assert last["type"] == "result" and last["result"] == "cancelled" and last["stopped_at"] == "lbc-ready"
    assert runner.last.result == "cancelled"


async def test_keep_running_leaves_the_action_running(tmp_path):
    action = LongWait()
    runner = ActionRunner(tmp_path, read_only=False, cluster="iagent-cluster")
    app = IagentApp(StaticSource(mid_migration()), actions=[action], run_action=runner.run)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1)
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="plan dialog")
        await pilot.click("#apply")
        await until(pilot, lambda: action.waiting, what="the run waiting")
        await until(pilot, lambda: "cancel-action" in footer_keys(app), what="cancel key")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="cancel question")
        await pilot.press("enter")  # on the focused "Keep running"
        await until(pilot, lambda: app.screen is app.dashboard, what="question closed")
        progress = app.dashboard.query_one(ActionProgress)
        assert progress.running and progress.cancelled_at is None
        assert runner.last.result == "running"
