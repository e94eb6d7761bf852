"""The one confirmation dialog: the plan in full before anything changes.

Cancel has the focus. A destructive or cluster-wide plan asks for the cluster name to be typed
before its button works. In read-only mode the same dialog opens without the button that acts,
so a read-only user still sees exactly what would happen.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from actions.base import Plan

_VERB_TONES = {"create": "ok", "delete": "bad", "change": "warn", "apply": "warn", "restart": "warn"}


def plan_text(plan: Plan, styles: dict) -> Text:
    text = Text(end="")
    text.append(f"{plan.action} on cluster {plan.cluster}\n", style="bold")
    for step in plan.steps:
        mark = "already done" if step.done else step.verb
        text.append(f"\n {mark:>12}  ", style=styles.get("muted" if step.done else _VERB_TONES.get(step.verb, ""), ""))
        text.append(step.title)
        if step.target:
            text.append(f"\n               {step.target}", style=styles.get("muted", ""))
        if step.detail:
            text.append(f"\n               {step.detail}")
        if step.reschedules:
            text.append(f"\n               reschedules {len(step.reschedules)} pod(s): " + ", ".join(step.reschedules),
                        style=styles.get("warn", ""))
    text.append("\n\n" + plan.summary())
    if plan.nothing_to_do:
        text.append("\nNothing to change: everything is already in place.", style=styles.get("ok", ""))
    for warning in plan.warnings:
        text.append(f"\n ! {warning}", style=styles.get("warn", ""))
    return text


class ConfirmDialog(ModalScreen[bool]):
    """dismiss(True) to act, dismiss(False) to cancel."""

    # Screen auto-focus would otherwise take the first focusable widget (the plan) for a moment
    # before on_mount's focus lands: the safe choice must be focused from the first frame.
    AUTO_FOCUS = "#cancel"

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm-cancel"),
                # The plan scrolls under pinned controls, whichever widget has the focus.
                Binding("pagedown", "scroll_plan(1)", "Scroll plan", show=False, id="confirm-plan-down"),
                Binding("pageup", "scroll_plan(-1)", "Scroll plan", show=False, id="confirm-plan-up")]

    def __init__(self, plan: Plan | None, read_only: bool, cluster_name: str, styles: dict | None = None, *,
                 question: str = "", act_label: str = "Apply", keep_label: str = "Cancel") -> None:
        super().__init__()
        self.plan = plan
        self.question = question  # instead of a plan: a yes/no about something already running
        self.act_label, self.keep_label = act_label, keep_label
        self.read_only = read_only
        self.cluster_name = cluster_name
        self.tone_styles = styles or {}

    @classmethod
    def cancel_run(cls, action: str, cluster_name: str) -> "ConfirmDialog":
        """Asked before cancelling a running action: keeping it running is the focused choice."""
        return cls(None, False, cluster_name, question=(
            f"Cancel {action}? It stops at the next safe point; running it again finishes the job."),
            act_label=f"Cancel {action}", keep_label="Keep running")

    @property
    def needs_typed_name(self) -> bool:
        # A plan with nothing to do has no button that acts, so nothing to unlock by typing.
        return (self.plan is not None and self.plan.destructive and not self.read_only
                and not self.plan.nothing_to_do)

    def compose(self) -> ComposeResult:
        # The controls are docked to the bottom of the box and only the plan scrolls, so the
        # buttons and the name field stay in view from 80x24 up, however long the plan.
        with Vertical(id="confirm-box"):
            with Vertical(id="confirm-controls"):
                if self.plan is not None and self.read_only:
                    yield Static("Read-only mode: this plan is shown, nothing will be changed.",
                                 id="confirm-readonly")
                elif self.needs_typed_name:
                    yield Static(Text(f"Type the cluster name {self.cluster_name} to confirm", end=""),
                                 id="confirm-prompt")
                    yield Input(id="confirm-name")
                    yield Static("", id="confirm-name-error")
                with Horizontal(id="confirm-buttons"):
                    yield Button(self.keep_label, id="cancel", variant="default")
                    if self.plan is None:
                        yield Button(self.act_label, id="apply", variant="error")
                    elif not self.read_only and not self.plan.nothing_to_do:
                        yield Button(self.act_label, id="apply",
                                     variant="error" if self.plan.destructive else "primary",
                                     disabled=self.needs_typed_name)
            with VerticalScroll(id="confirm-plan"):
                yield Static(plan_text(self.plan, self.tone_styles) if self.plan is not None
                             else Text(self.question, end=""))

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @property
    def name_message(self) -> str:
        return str(self.query_one("#confirm-name-error", Static).render())

    def _say(self, message: str) -> None:
        # Text, not markup: the message quotes what the user typed, which may contain [ or ].
        line = self.query_one("#confirm-name-error", Static)
        line.update(Text(message, end=""))
        line.set_class(bool(message), "-error")

    def _wrong_name(self, typed: str) -> str:
        return f"{typed!r} is not the cluster name; type {self.cluster_name} (esc cancels)."

    @on(Input.Changed, "#confirm-name")
    def _name_typed(self, event: Input.Changed) -> None:
        typed = event.value.strip()
        for apply in self.query("#apply").results(Button):
            apply.disabled = typed != self.cluster_name
        # Said as soon as the text can no longer become the name, not only on Enter.
        self._say(self._wrong_name(typed) if typed and not self.cluster_name.startswith(typed) else "")

    @on(Input.Submitted, "#confirm-name")
    def _name_submitted(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        if typed != self.cluster_name:
            self._say(self._wrong_name(typed) if typed else f"Type {self.cluster_name} to confirm.")
            return
        self.dismiss(True)

    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        if self.needs_typed_name and self.query_one("#confirm-name", Input).value.strip() != self.cluster_name:
            return
        self.dismiss(True)

    def action_scroll_plan(self, pages: int) -> None:
        plan = self.query_one("#confirm-plan", VerticalScroll)
        plan.scroll_page_down() if pages > 0 else plan.scroll_page_up()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
