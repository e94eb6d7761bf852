"""Dialogs in real terminal sizes: the buttons and the typed-name field stay in view and only the
plan scrolls; the typed confirmation says what to type, refuses a wrong name with a message and
confirms on Enter once the name matches."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Input

from actions.base import Plan, PlanStep
from iagent_tui.app import IagentApp, StaticSource
from screens.confirm import ConfirmDialog

from .fixtures import mid_migration
from .helpers import until
from .test_actions_ui import TinyAction

LONG_PLAN = Plan("rollback", "iagent-cluster",
                 tuple(PlanStep(f"step:{i}", f"Delete thing {i}", "delete", f"object {i}", f"detail of {i}")
                       for i in range(40)), destructive=True)


async def open_dialog(pilot, app: IagentApp) -> ConfirmDialog:
    await until(pilot, lambda: app.snapshots_rendered >= 1, what="first snapshot")
    await pilot.press("D")
    return await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen, what="dialog")


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (250, 60)])
async def test_a_long_plan_scrolls_under_pinned_buttons_and_name_field(size):
    app = IagentApp(StaticSource(mid_migration()), actions=[TinyAction(LONG_PLAN)], clock=lambda: 0.0)
    async with app.run_test(size=size) as pilot:
        dialog = await open_dialog(pilot, app)
        await pilot.pause()
        width, height = size
        for selector in ("#confirm-prompt", "#confirm-name", "#cancel", "#apply"):
            region = dialog.query_one(selector).region
            assert region.height > 0 and region.bottom <= height and region.right <= width, (selector, region)
        plan = dialog.query_one("#confirm-plan")
        assert plan.max_scroll_y > 0  # the plan is what scrolls
        await pilot.press("pagedown")
        await until(pilot, lambda: plan.scroll_y > 0, what="the plan scrolled by PageDown")


async def test_typed_confirmation_says_what_to_type_refuses_a_wrong_name_and_enter_confirms():
    action = TinyAction(LONG_PLAN)
    app = IagentApp(StaticSource(mid_migration()), actions=[action], clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(pilot, app)
        name = dialog.query_one("#confirm-name", Input)
        assert name.value == "" and not name.placeholder  # nothing that looks pre-filled
        assert "Type the cluster name iagent-cluster to confirm" in str(dialog.query_one("#confirm-prompt").render())
        name.focus()
        await pilot.press(*"prod-cluster", "enter")
        await until(pilot, lambda: "is not the cluster name" in dialog.name_message, what="wrong-name message")
        assert app.screen is dialog and action.ran_with is None  # Enter on a wrong name does nothing else
        assert dialog.query_one("#apply", Button).disabled
        name.value = ""
        await pilot.press(*"iagent-cluster")
        await until(pilot, lambda: dialog.name_message == "", what="message cleared once the name fits")
        await pilot.press("enter")
        await until(pilot, lambda: action.ran_with is LONG_PLAN, what="confirmed by Enter")
        assert not isinstance(app.screen, ConfirmDialog)


async def test_enter_on_an_empty_name_asks_for_the_name():
    app = IagentApp(StaticSource(mid_migration()), actions=[TinyAction(LONG_PLAN)], clock=lambda: 0.0)
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await open_dialog(pilot, app)
        dialog.query_one("#confirm-name", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: "Type iagent-cluster to confirm" in dialog.name_message, what="the ask")
        assert app.screen is dialog


async def test_a_destructive_plan_with_nothing_to_do_asks_for_no_name():
    done = Plan("rollback", "iagent-cluster", (PlanStep("coredns", "Move CoreDNS back to EC2", "change",
                                                          "EKS add-on coredns", done=True),), destructive=True)
    app = IagentApp(StaticSource(mid_migration()), actions=[TinyAction(done)], clock=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(pilot, app)
        assert not dialog.query("#confirm-name") and not dialog.query("#apply")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmDialog), what="closed")


@pytest.mark.parametrize("size", [(80, 24), (250, 60)])
async def test_restart_choice_and_rollback_plan_keep_their_buttons_in_view(size):
    from screens.add_namespace import RestartChoiceDialog
    from screens.walkthrough import RollbackPlanScreen

    restarts = tuple(PlanStep(f"restart:{i}", f"Restart {i}", "restart", f"Deployment team/app{i}",
                              f"Deployment team/app{i}", reschedules=(f"team/app{i}-a",)) for i in range(30))
    app = IagentApp(StaticSource(mid_migration()), clock=lambda: 0.0)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1, what="first snapshot")
        for screen, selectors in ((RestartChoiceDialog("team", restarts),
                                   ("#restart-choice-abort", "#restart-choice-leave", "#restart-choice-restart")),
                                  (RollbackPlanScreen(LONG_PLAN), ("#rollback-plan-note", "#rollback-plan-close"))):
            app.push_screen(screen)
            await until(pilot, lambda: app.screen is screen and screen.query(selectors[-1]), what="dialog")
            await pilot.pause()
            for selector in selectors:
                region = screen.query_one(selector).region
                assert region.height > 0 and region.bottom <= size[1], (selector, region)
            app.pop_screen()
