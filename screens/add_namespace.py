"""The two small dialogs in front of add-namespace's plan: the namespace name, checked with the
actions' own rules before any call (a bad name is explained in the dialog and nothing happens),
and, when the namespace already runs deployments on EC2, whether to restart them so their pods
move, listing which deployments and pods first.

The plan itself is then shown by the one ConfirmDialog, like every other action.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from actions.base import PlanStep

NameCheck = Callable[[str], object]  # raises ValueError (InvalidInput) with the sentence to show


class NamespaceNameDialog(ModalScreen[str | None]):
    """dismiss(name) once ``check(name)`` accepts it, dismiss(None) when cancelled."""

    AUTO_FOCUS = "#add-namespace-name"  # from the first frame, not after a moment on another widget

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="namespace-name-cancel")]

    def __init__(self, check: NameCheck, title: str = "Add a namespace to Fargate", value: str = "") -> None:
        super().__init__()
        self.check = check
        self.title_text = title
        self.value = value  # offered by the walkthrough: the next planned namespace still on EC2

    def compose(self) -> ComposeResult:
        with Vertical(id="add-namespace-box"):
            yield Static(Text(self.title_text, style="bold", end=""), id="add-namespace-title")
            yield Static("Namespace name (created if absent; its Fargate profile is planned next, "
                         "nothing changes before you confirm the plan):", id="add-namespace-help")
            yield Input(self.value, placeholder="team-x", id="add-namespace-name")
            yield Static("", id="add-namespace-error")
            with Horizontal(id="add-namespace-buttons"):
                yield Button("Cancel", id="add-namespace-cancel", variant="default")
                yield Button("Plan", id="add-namespace-next", variant="primary")

    def on_mount(self) -> None:
        # Typing the name is the only thing to do here; nothing acts before the plan's own dialog.
        self.query_one("#add-namespace-name", Input).focus()

    @property
    def error_message(self) -> str:
        return str(self.query_one("#add-namespace-error", Static).render())

    def _show_error(self, message: str) -> None:
        # Text, not markup: the message quotes what the user typed, which may contain [ or ].
        error = self.query_one("#add-namespace-error", Static)
        error.update(Text(message, end=""))
        error.set_class(bool(message), "-error")

    @on(Input.Changed, "#add-namespace-name")
    def _typed(self) -> None:
        self._show_error("")

    @on(Input.Submitted, "#add-namespace-name")
    @on(Button.Pressed, "#add-namespace-next")
    def _submit(self) -> None:
        name = self.query_one("#add-namespace-name", Input).value.strip()
        try:
            self.check(name)
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self.dismiss(name)

    @on(Button.Pressed, "#add-namespace-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def restart_text(namespace: str, steps: Sequence[PlanStep]) -> Text:
    text = Text(end="")
    text.append(f"Namespace {namespace} runs workloads whose pods are not on Fargate.\n", style="bold")
    text.append("A new profile only applies to pods created after it: existing pods move when their "
                "workloads roll out new pods (a rolling update: replicas keep serving unless a workload is "
                "marked interrupted below). Workloads that cannot run on Fargate are not in the list.\n")
    for step in steps:
        if step.detail:
            text.append(f"\n  move  {step.detail}")
        if step.reschedules:
            text.append(f"\n  moves {len(step.reschedules)} pod(s): {', '.join(step.reschedules)}")
    return text


class RestartChoiceDialog(ModalScreen[bool | None]):
    """dismiss(True) to restart the listed workloads, False to leave their pods on EC2, None to
    cancel add-namespace altogether. Leaving them is focused: restarting is the disruptive choice."""

    AUTO_FOCUS = "#restart-choice-leave"  # from the first frame, not after a moment on another widget

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="restart-choice-cancel")]

    def __init__(self, namespace: str, restart_steps: Sequence[PlanStep]) -> None:
        super().__init__()
        self.namespace = namespace
        self.restart_steps = tuple(restart_steps)

    def compose(self) -> ComposeResult:
        with Vertical(id="restart-choice-box"):
            with VerticalScroll(id="restart-choice-list"):
                yield Static(restart_text(self.namespace, self.restart_steps))
            with Horizontal(id="restart-choice-buttons"):
                yield Button("Cancel", id="restart-choice-abort", variant="default")
                yield Button("Leave them on EC2", id="restart-choice-leave", variant="default")
                yield Button("Move them", id="restart-choice-restart", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#restart-choice-leave", Button).focus()

    @on(Button.Pressed, "#restart-choice-restart")
    def _restart(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#restart-choice-leave")
    def _leave(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#restart-choice-abort")
    def action_cancel(self) -> None:
        self.dismiss(None)
