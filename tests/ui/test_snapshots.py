"""Snapshot tests (pytest-textual-snapshot) of the main screens, fed the fixed mid-migration
snapshot. Update after an intended visual change with:
    .venv/bin/python -m pytest tests/ui/test_snapshots.py --snapshot-update
and look at the SVGs in tests/ui/__snapshots__/ before committing them."""

from __future__ import annotations

from iagent_tui.app import IagentApp, StaticSource

from .fixtures import mid_migration
from .helpers import until
from .test_actions_ui import TinyAction, plan

SIZE = (160, 48)


def app_with(**kwargs) -> IagentApp:
    # clock: the fixture is in transition, so ages tick once a second; a still clock keeps the SVGs fixed.
    return IagentApp(StaticSource(mid_migration()), fetch_logs=lambda ns, name: f"log line of {ns}/{name}",
                     clock=lambda: 0.0, **kwargs)


async def rendered(pilot) -> None:
    await until(pilot, lambda: pilot.app.snapshots_rendered >= 1, what="first snapshot on screen")


def test_dashboard(snap_compare):
    assert snap_compare(app_with(), terminal_size=SIZE, run_before=rendered)


def test_pod_detail(snap_compare):
    async def open_pod(pilot):
        await rendered(pilot)
        app = pilot.app
        app.action_focus_panel("pods")
        await pilot.press("enter")
        await until(pilot, lambda: "log line of" in str(app.screen.query_one("#detail-logs").render()),
                    what="logs fetched")
    assert snap_compare(app_with(), terminal_size=SIZE, run_before=open_pod)


def test_confirm_dialog_destructive(snap_compare):
    async def open_dialog(pilot):
        await rendered(pilot)
        await pilot.press("D")
        await until(pilot, lambda: pilot.app.screen.query("#confirm-name"), what="dialog")
    assert snap_compare(app_with(actions=[TinyAction(plan(destructive=True))]), terminal_size=SIZE,
                        run_before=open_dialog)


def test_help(snap_compare):
    async def open_help(pilot):
        await rendered(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: pilot.app.screen.query("#help-text"), what="help")
    assert snap_compare(app_with(actions=[TinyAction(plan())]), terminal_size=SIZE, run_before=open_help)


def test_progress_panel_while_waiting(snap_compare):
    action = TinyAction(plan())

    async def run_until_waiting(pilot):
        await rendered(pilot)
        await pilot.press("D")
        await until(pilot, lambda: pilot.app.screen.query("#apply"), what="dialog")
        await pilot.click("#apply")
        await until(pilot, lambda: "waiting for" in str(pilot.app.dashboard.query_one("#progress").render()),
                    what="waiting step shown")
    assert snap_compare(app_with(actions=[action]), terminal_size=SIZE, run_before=run_until_waiting)
