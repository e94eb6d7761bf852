"""The add-namespace dialogs on a fixed snapshot: the name is checked with the actions' own rules
before any action is built (a bad name stays in the dialog with its error), the restart question
lists the workloads and pods first, and the key, help and palette come from the same registry.
The action is a small one written against the Action protocol; the real one runs in
test_actions_dashboard_e2e.py against the sandbox."""

from __future__ import annotations

from textual.widgets import Button, Input

from actions.base import Plan, PlanStep, ProgressEvent
from actions.validate import namespace_name
from iagent_tui.app import IagentApp, NamespaceActions, StaticSource
from screens.add_namespace import NamespaceNameDialog, RestartChoiceDialog
from screens.confirm import ConfirmDialog
from screens.help import HelpScreen
from screens.progress import ActionProgress

from .fixtures import mid_migration
from .helpers import until

SIZE = (160, 48)


class TinyNamespaceAction:
    name = "add-namespace"
    title = "Add a namespace to Fargate"

    def __init__(self, namespace: str, restart: bool, workloads: tuple[str, ...]) -> None:
        self.namespace, self.restart, self.workloads = namespace, restart, workloads
        self.ran_with: Plan | None = None

    async def plan(self) -> Plan:
        steps = [PlanStep("namespace", f"Create namespace {self.namespace}", "create", f"Namespace {self.namespace}"),
                 PlanStep(f"profile:fp-{self.namespace}", f"Create Fargate profile fp-{self.namespace}", "create",
                          f"EKS Fargate profile iagent-cluster/fp-{self.namespace}")]
        warnings = ()
        if self.workloads and self.restart:
            steps.append(PlanStep("restart", f"Restart {len(self.workloads)} workload(s)", "restart",
                                  f"namespace {self.namespace}", ", ".join(self.workloads),
                                  reschedules=(f"{self.namespace}/web-1", f"{self.namespace}/web-2")))
        elif self.workloads:
            warnings = (f"Pods of {', '.join(self.workloads)} stay on EC2 until restarted.",)
        return Plan("add-namespace", "iagent-cluster", tuple(steps), warnings=warnings)

    async def run(self, plan: Plan):
        self.ran_with = plan
        for step in plan.steps:
            yield ProgressEvent("step_started", step.title, step.id)
            yield ProgressEvent("step_finished", step.title, step.id, ok=True)
        yield ProgressEvent("done", "add-namespace finished.", ok=True)


class Offer:
    """NamespaceActions whose builds are recorded: building is the first thing that could reach
    a cluster, so a refused name must never get there."""

    def __init__(self, workloads: tuple[str, ...] = ()) -> None:
        self.workloads = workloads
        self.built: list[TinyNamespaceAction] = []

    def build(self, namespace: str, restart: bool) -> TinyNamespaceAction:
        action = TinyNamespaceAction(namespace, restart, self.workloads)
        self.built.append(action)
        return action

    def actions(self) -> NamespaceActions:
        return NamespaceActions("Add a namespace to Fargate", check=namespace_name, build=self.build)


def app_offering(offer: Offer, **kwargs) -> IagentApp:
    return IagentApp(StaticSource(mid_migration()), add_namespace=offer.actions(), **kwargs)


async def open_name_dialog(pilot, app: IagentApp, key: str = "A") -> NamespaceNameDialog:
    await until(pilot, lambda: app.snapshots_rendered >= 1, what="dashboard rendered")
    await pilot.press(key)
    dialog = await until(pilot, lambda: isinstance(app.screen, NamespaceNameDialog) and app.screen,
                         what="namespace name dialog")
    await until(pilot, lambda: app.focused is dialog.query_one(Input), what="name field focused")
    return dialog


async def type_name(pilot, dialog: NamespaceNameDialog, name: str) -> None:
    field = dialog.query_one(Input)
    field.value = ""
    if len(name) > 12:
        field.value = name  # a long name pasted: one keystroke per character adds nothing to the test
        await pilot.press("enter")
    else:
        await pilot.press(*name, "enter")


async def test_bad_names_stay_in_the_dialog_with_the_rule_and_nothing_is_built():
    offer = Offer()
    app = app_offering(offer)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_name_dialog(pilot, app)
        for name, rule in (("Team_X", "not a valid DNS-1123 label"), ("kube-extra", "reserved for Kubernetes"),
                           ("a" * 64, "at most 63"), ("[red]x", "'[red]x' is not a valid DNS-1123 label")):
            await type_name(pilot, dialog, name)
            await until(pilot, lambda: rule in dialog.error_message, what=f"the error for {name!r}")
            assert app.screen is dialog
        await pilot.click("#add-namespace-next")  # the button checks too: still a bad name
        assert app.screen is dialog and "DNS-1123" in dialog.error_message
        dialog.query_one(Input).value = ""
        await until(pilot, lambda: not dialog.error_message, what="error cleared while typing")
        dialog.query_one(Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: "empty" in dialog.error_message, what="the empty-name error")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard, what="dialog cancelled")
        assert offer.built == []
        assert not app.dashboard.query_one(ActionProgress).display


async def test_a_good_name_is_planned_confirmed_with_cancel_focused_and_run_in_the_panel():
    offer = Offer()
    app = app_offering(offer)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_name_dialog(pilot, app)
        await type_name(pilot, dialog, "team-x")
        confirm = await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen, what="plan dialog")
        await until(pilot, lambda: app.focused is not None, what="focus in the dialog")
        assert app.focused is confirm.query_one("#cancel", Button)
        assert "Create Fargate profile fp-team-x" in str(confirm.query_one("#confirm-plan Static").render())
        await pilot.click("#apply")
        panel = app.dashboard.query_one(ActionProgress)
        await until(pilot, lambda: panel.finished is True, what="add-namespace finished")
        (action,) = offer.built  # no workloads to move: no restart question, one plan
        assert action.ran_with is not None and action.namespace == "team-x"
        assert "add-namespace finished." in str(panel.render())


async def test_restart_question_lists_workloads_and_pods_and_leaving_them_plans_without_restart():
    offer = Offer(workloads=("Deployment/web",))
    app = app_offering(offer)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_name_dialog(pilot, app)
        await type_name(pilot, dialog, "team-x")
        choice = await until(pilot, lambda: isinstance(app.screen, RestartChoiceDialog) and app.screen,
                             what="restart question")
        listed = str(choice.query_one("#restart-choice-list Static").render())
        assert "move  Deployment/web" in listed and "moves 2 pod(s): team-x/web-1, team-x/web-2" in listed
        await until(pilot, lambda: app.focused is not None, what="focus in the dialog")
        assert app.focused is choice.query_one("#restart-choice-leave", Button)  # the non-disruptive choice
        await pilot.press("enter")
        confirm = await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen, what="plan dialog")
        shown = str(confirm.query_one("#confirm-plan Static").render())
        assert "stay on EC2 until restarted" in shown and "Restart 1 workload(s)" not in shown
        assert [a.restart for a in offer.built] == [True, False]  # asked with the restart plan, then re-planned
        await pilot.press("enter")  # Cancel
        await until(pilot, lambda: app.screen is app.dashboard, what="plan cancelled")
        assert all(a.ran_with is None for a in offer.built)


async def test_restart_chosen_shows_the_restart_in_the_plan_and_cancel_in_the_question_stops_all():
    offer = Offer(workloads=("Deployment/web",))
    app = app_offering(offer)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_name_dialog(pilot, app)
        await type_name(pilot, dialog, "team-x")
        await until(pilot, lambda: isinstance(app.screen, RestartChoiceDialog), what="restart question")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard, what="add-namespace abandoned")

        dialog = await open_name_dialog(pilot, app)
        await type_name(pilot, dialog, "team-x")
        await until(pilot, lambda: isinstance(app.screen, RestartChoiceDialog), what="restart question again")
        await pilot.click("#restart-choice-restart")
        confirm = await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen, what="plan dialog")
        shown = str(confirm.query_one("#confirm-plan Static").render())
        assert "reschedules 2 pod(s): team-x/web-1, team-x/web-2" in shown
        await pilot.click("#apply")
        panel = app.dashboard.query_one(ActionProgress)
        await until(pilot, lambda: panel.finished is True, what="run finished")
        ran = [a for a in offer.built if a.ran_with is not None]
        assert len(ran) == 1 and ran[0].restart and ran[0].ran_with.steps[-1].id == "restart"


async def test_key_help_and_palette_come_from_the_registry_and_the_key_is_remappable():
    app = app_offering(Offer(), keymap={"add-namespace": "f6"})
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1)
        palette = [c.title for c in app.get_system_commands(app.screen)]
        assert "Add a namespace to Fargate" in palette
        await pilot.press("question_mark")
        help_screen = await until(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen, what="help")
        assert "f6  Add a namespace to Fargate" in str(help_screen.query_one("#help-text").render())
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard)
        await open_name_dialog(pilot, app, key="f6")


async def test_the_palette_opens_the_name_dialog_and_action_keys_are_not_offered_inside_dialogs():
    app = app_offering(Offer(workloads=("Deployment/web",)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: app.screen.query("CommandInput"), what="command palette")
        await pilot.press(*"add a namespace")
        first_offer = lambda: str(app.screen.query_one("CommandList").get_option_at_index(0).prompt)  # noqa: E731
        await until(pilot, lambda: "Add a namespace to Fargate" in first_offer(),
                    what="add-namespace offered by the palette")
        await pilot.press("enter")
        dialog = await until(pilot, lambda: isinstance(app.screen, NamespaceNameDialog) and app.screen,
                             what="name dialog from the palette")
        await until(pilot, lambda: app.focused is dialog.query_one(Input))
        await pilot.press(*"team-x", "enter")
        choice = await until(pilot, lambda: isinstance(app.screen, RestartChoiceDialog) and app.screen,
                             what="restart question")
        assert app.check_action("start_action", ("add-namespace",)) is False  # not offered in a dialog
        await pilot.press("A")
        await pilot.pause()
        assert app.screen is choice


async def test_add_namespace_key_is_inactive_when_not_offered():
    app = IagentApp(StaticSource(mid_migration()))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1)
        assert app.check_action("start_action", ("add-namespace",)) is False
        await pilot.press("A")
        await pilot.pause()
        assert app.screen is app.dashboard
        assert "Add a namespace to Fargate" not in [c.title for c in app.get_system_commands(app.screen)]
