"""The docked progress panel of a running action: steps with their state, what is being waited
for and for how long, warnings and errors. The dashboard panels keep updating around it."""

from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import Static

from actions.base import Plan, ProgressEvent

from .format import duration

MAX_STEP_LINES = 7
_MARKS = {"pending": "·", "running": "▶", "done": "✔", "failed": "✘", "skipped": "–", "cancelled": "■"}
_TONES = {"running": "busy", "done": "ok", "failed": "bad", "skipped": "muted", "pending": "muted", "cancelled": "warn"}


def waiting_line(event: ProgressEvent) -> str:
    """What is awaited, for how long: actions often already name the awaited thing in their
    message, so it is not repeated."""
    what, message = event.waiting_for, event.message
    if what and message and what.lower() in message.lower():
        line = message
    elif what:
        line = f"waiting for {what}" + (f": {message}" if message else "")
    else:
        line = f"waiting for {message}"
    if event.elapsed is None:
        return line
    # Actions often end their message with their own "(10s)" or "(10s of 60 s)", counted a moment
    # before the event's elapsed: the time is printed once, the event's, keeping the deadline.
    elapsed = duration(event.elapsed)
    counted = _TRAILING_DURATION.search(line)
    if counted:
        return f"{line[:counted.start()]} ({elapsed}{counted.group('deadline') or ''})"
    return f"{line} ({elapsed})"


_TRAILING_DURATION = re.compile(r"\s*\(\d[\d.]*[dhms](?:\d+[hms])*(?P<deadline>\s+of\s+[^()]*)?\)\s*$")


class ActionProgress(Static):
    """Renders ProgressEvents of one action run. Fed by the App; never talks to the action."""

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.plan: Plan | None = None
        self.step_state: dict[str, str] = {}
        self.waiting = ""
        self.info = ""
        self.outcome = ""  # the run's closing message, shown under its last info (a smoke verdict)
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.finished: bool | None = None  # None while running, then ok / not ok
        self.cancelled_at: str | None = None  # the step a cancelled run stopped at ("" between steps)
        self.styles_by_tone: dict = {}

    @property
    def running(self) -> bool:
        return self.plan is not None and self.finished is None

    def begin(self, plan: Plan, styles: dict) -> None:
        self.plan = plan
        self.styles_by_tone = styles
        self.step_state = {s.id: ("skipped" if s.done else "pending") for s in plan.steps}
        self.waiting = self.info = self.outcome = ""
        self.warnings, self.errors = [], []
        self.finished = None
        self.cancelled_at = None
        self.display = True
        self._render_state()

    def apply(self, event: ProgressEvent) -> None:
        if event.kind == "step_started":
            self.step_state[event.step_id] = "running"
            self.waiting = ""
        elif event.kind == "step_finished":
            self.step_state[event.step_id] = "done" if event.ok is not False else "failed"
            self.waiting = ""
        elif event.kind == "step_skipped":
            self.step_state[event.step_id] = "skipped"
        elif event.kind == "waiting":
            self.waiting = waiting_line(event)
        elif event.kind == "info":
            self.info = event.message
        elif event.kind == "warning":
            self.warnings.append(event.message)
        elif event.kind == "error":
            self.errors.append(event.message)
            if event.step_id:
                self.step_state[event.step_id] = "failed"
        elif event.kind == "done":
            self.finished = event.ok is not False and not self.errors
            self.waiting = ""
            if event.message and self.finished:
                self.outcome = event.message  # a failed run's summary repeats the error shown below
        self._render_state()

    def fail(self, message: str) -> None:
        """The run itself raised: show why, mark the running step failed."""
        self.errors.append(message)
        for step_id, state in self.step_state.items():
            if state == "running":
                self.step_state[step_id] = "failed"
        self.finished = False
        self.waiting = ""
        self._render_state()

    def cancel(self) -> None:
        """The run was cancelled by the user: the step it stopped at, and how to finish the job."""
        running = [step_id for step_id, state in self.step_state.items() if state == "running"]
        self.cancelled_at = running[0] if running else ""
        for step_id in running:
            self.step_state[step_id] = "cancelled"
        action = self.plan.action if self.plan else "the action"
        where = f"at step {self.cancelled_at}" if self.cancelled_at else "between steps"
        self.outcome = f"Cancelled {where}; run {action} again to finish the job."
        self.finished = False
        self.waiting = ""
        self._render_state()

    def _visible_steps(self) -> tuple[list, int, int]:
        """A long plan is shown as a window around the current step, so the docked panel stays
        small and the dashboard above it keeps its room."""
        steps = list(self.plan.steps) if self.plan else []
        if len(steps) <= MAX_STEP_LINES:
            return steps, 0, 0
        states = [self.step_state.get(step.id, "pending") for step in steps]
        active = next((i for i, st in enumerate(states) if st in ("running", "failed", "cancelled")), None)
        if active is None:
            active = next((i for i, st in enumerate(states) if st == "pending"), len(steps) - 1)
        start = max(0, min(active - 2, len(steps) - MAX_STEP_LINES))
        end = start + MAX_STEP_LINES
        return steps[start:end], start, len(steps) - end

    def _render_state(self) -> None:
        if self.plan is None:
            return
        s = self.styles_by_tone
        text = Text(end="")
        status = ("running" if self.finished is None else "cancelled" if self.cancelled_at is not None
                  else "finished" if self.finished else "failed")
        text.append(f"{self.plan.action} on {self.plan.cluster}: {status}",
                    style=s.get({"running": "busy", "finished": "ok", "failed": "bad", "cancelled": "warn"}[status], ""))
        if self.finished is not None:
            text.append("   (x hides this panel)")
        shown, hidden_before, hidden_after = self._visible_steps()
        if hidden_before:
            text.append(f"\n ✔ {hidden_before} earlier step(s) finished", style=s.get("muted", ""))
        for step in shown:
            state = self.step_state.get(step.id, "pending")
            text.append(f"\n {_MARKS[state]} ", style=s.get(_TONES[state], ""))
            text.append(step.title)
            if state in ("running", "failed", "cancelled"):
                text.append(f"  [{state}]", style=s.get(_TONES[state], ""))
        if hidden_after:
            text.append(f"\n · {hidden_after} more step(s)", style=s.get("muted", ""))
        if self.waiting:
            text.append(f"\n   {self.waiting}", style=s.get("busy", ""))
        if self.info:
            text.append(f"\n   {self.info}")
        if self.outcome:
            text.append(f"\n   {self.outcome}", style=s.get("warn" if self.cancelled_at is not None else "ok", ""))
        for warning in self.warnings:
            text.append(f"\n ! {warning}", style=s.get("warn", ""))
        for error in self.errors:
            text.append(f"\n ✘ {error}", style=s.get("bad", ""))
        self.update(text)
