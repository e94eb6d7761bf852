"""`w`: the migration walkthrough. The brief's plan (inventory, profiles, CoreDNS, load balancer
controller, smoke test, namespaces, validation) as seven steps, each with its state and the evidence
read from the latest snapshot; the current step (the first not done) is highlighted and `a` starts
the action that advances it through the App's usual flow (plan, confirm dialog, progress), so a
run outlives this screen. `r` shows what rollback would do, without doing it.

Each step is one widget keyed by the step's id and updated in place only when its text changed:
a snapshot never clears and refills the screen. All cluster text goes in as rich Text, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Static

from actions.base import Plan
from iagent_tui.model import Snapshot

from .confirm import plan_text
from iagent_tui.insights.assessment import Assessment
from .detail import DetailScreen, DetailSpec
from .keyed_table import tone_styles
from .progress import ActionProgress
from iagent_tui.insights.migration import STATE_TONES, Step, current_step

STEP_IDS = ("inventory", "profiles", "coredns", "controller", "smoke", "move", "validate")
ACTION_WORDS = {"deploy": "deploy", "smoke": "the smoke test", "add-namespace": "add-namespace"}


def step_text(step: Step, current: bool, styles: dict) -> Text:
    text = Text(end="")
    text.append("▶ " if current else "  ", style=styles.get("busy", ""))
    text.append(f"{step.number}. {step.title}", style="bold")
    text.append(f"  [{step.state}]", style=styles.get(STATE_TONES[step.state], ""))
    if current and step.action:
        offer = ACTION_WORDS.get(step.action, step.action)
        if step.suggestion:
            offer += f" {step.suggestion}"
        text.append(f"   current step: a starts {offer}", style=styles.get("busy", ""))
    elif current:
        text.append("   current step", style=styles.get("busy", ""))
    for line, tone in step.evidence:
        text.append(f"\n     {line}", style=styles.get(tone, "") if tone else "")
    return text


def progress_line(progress: ActionProgress | None) -> Text:
    """The running (or last) action in one or two lines; the dashboard has the full panel."""
    if progress is None or progress.plan is None:
        return Text("No action run yet. a: start the current step's action · r: rollback plan · "
                    "enter: the evidence in full", end="")
    plan = progress.plan
    status = "running" if progress.finished is None else "finished" if progress.finished else "failed"
    done = sum(1 for state in progress.step_state.values() if state in ("done", "skipped"))
    text = Text(f"{plan.action}: {status} ({done}/{len(plan.steps)} steps)", end="")
    running = next((s.title for s in plan.steps if progress.step_state.get(s.id) in ("running", "failed")), "")
    if running:
        text.append(f" · {running}")
    if progress.waiting:
        text.append(f" · {progress.waiting}")
    for error in progress.errors[-1:]:
        text.append(f"\n✘ {error}")
    return text


class RollbackPlanScreen(ModalScreen[None]):
    """What rollback would do, read from the cluster now. Shown only: rolling back is `R` on the
    dashboard, with its typed confirmation."""

    BINDINGS = [Binding("escape,r", "close", "Close", id="rollback-plan-close")]

    def __init__(self, plan: Plan | None, error: str = "", styles: dict | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.error = error
        self.tone_styles = styles or {}

    def compose(self) -> ComposeResult:
        with Vertical(id="rollback-plan-box"):
            with VerticalScroll(id="rollback-plan"):
                if self.plan is not None:
                    yield Static(plan_text(self.plan, self.tone_styles), id="rollback-plan-text")
                else:
                    yield Static(Text(f"Could not plan rollback: {self.error}", end=""), id="rollback-plan-text")
            with Vertical(id="rollback-plan-controls"):  # docked: only the plan scrolls
                yield Static("Nothing runs from here: to roll back, press R on the dashboard (it asks for the "
                             "cluster name).", id="rollback-plan-note")
                yield Button("Close", id="rollback-plan-close", variant="default")

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class WalkthroughScreen(Screen):
    BINDINGS = [
        Binding("escape,w", "close", "Back to the dashboard", id="walkthrough-close"),
        Binding("down,j", "move(1)", "Next step", show=False, id="walkthrough-next"),
        Binding("up,k", "move(-1)", "Previous step", show=False, id="walkthrough-previous"),
        Binding("enter", "open", "Evidence in full", id="walkthrough-open"),
        Binding("a", "advance", "Start the current step's action", id="walkthrough-advance"),
        Binding("r", "rollback_plan", "Rollback plan", id="walkthrough-rollback-plan"),
    ]

    def __init__(self, planned_namespaces: Sequence[str]) -> None:
        super().__init__()
        self.planned = tuple(planned_namespaces)
        self.steps: list[Step] = []
        self.selected = ""  # step id the cursor is on; follows the current step until moved
        self._moved = False
        self._shown: dict[str, Text] = {}
        self.updates = 0  # step widgets re-rendered (tests: nothing re-renders when nothing changed)

    def compose(self) -> ComposeResult:
        yield Static("", id="walkthrough-title")
        with VerticalScroll(id="walkthrough-steps"):
            for step_id in STEP_IDS:
                yield Static("", id=f"step-{step_id}", classes="walkthrough-step")
        yield Static("", id="walkthrough-action")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_from_app()

    def on_screen_resume(self) -> None:
        self.refresh_from_app()  # snapshots that arrived under a dialog

    def refresh_from_app(self) -> None:
        app = self.app
        self.show(getattr(app, "snapshot", None), getattr(app, "assessment", Assessment()))
        self.show_progress(app.dashboard.query_one(ActionProgress) if app.dashboard.is_mounted else None)

    # -- rendering -----------------------------------------------------------------------------
    @property
    def current(self) -> Step | None:
        return current_step(self.steps)

    def show(self, snap: Snapshot | None, assessment: Assessment) -> None:
        title = self.query_one("#walkthrough-title", Static)
        if snap is None:
            title.update("Migration walkthrough: waiting for the first snapshot…")
            return
        self.steps = list(assessment.steps)
        current = self.current
        if not self._moved or self.selected not in STEP_IDS:
            self.selected = current.id if current else STEP_IDS[-1]
        cluster = snap.cluster.name if snap.cluster else "cluster"
        where = f"step {current.number} of 7: {current.title} ({current.state})" if current else "every step done"
        title.update(Text(f"Migration walkthrough for {cluster} · planned namespaces {', '.join(self.planned)} · "
                          f"now at {where}", style="bold", end=""))
        self._render_steps()

    def _render_steps(self) -> None:
        styles = tone_styles(self.app.theme_variables)
        current = self.current
        for step in self.steps:
            widget = self.query_one(f"#step-{step.id}", Static)
            text = step_text(step, current is not None and step.id == current.id, styles)
            if self._shown.get(step.id) != text:
                widget.update(text)
                self._shown[step.id] = text
                self.updates += 1
            widget.set_class(current is not None and step.id == current.id, "-current")
            widget.set_class(step.id == self.selected, "-selected")
            widget.set_class(step.state == "done", "-done")

    def show_progress(self, progress: ActionProgress | None) -> None:
        self.query_one("#walkthrough-action", Static).update(progress_line(progress))

    # -- keys ----------------------------------------------------------------------------------
    def action_close(self) -> None:
        self.app.pop_screen()

    def action_move(self, delta: int) -> None:
        index = STEP_IDS.index(self.selected) if self.selected in STEP_IDS else 0
        self.selected = STEP_IDS[max(0, min(len(STEP_IDS) - 1, index + delta))]
        self._moved = True
        self._render_steps()
        self.query_one(f"#step-{self.selected}").scroll_visible(animate=False)

    def action_advance(self) -> None:
        step = self.current
        if step is None:
            self.notify("Every step is done. Keep watching the dashboard; `iagent-tui doctor` checks it again.",
                        markup=False)
            return
        if not step.action:
            self.notify(f"Step {step.number} ({step.title}) has no action to run: enter shows what to fix.",
                        severity="warning", markup=False)
            return
        self.app.start_step_action(step.action, step.suggestion)

    def action_open(self) -> None:
        snap = getattr(self.app, "snapshot", None)
        step = next((s for s in self.steps if s.id == self.selected), None)
        if snap is None or step is None:
            return
        self.app.push_screen(DetailScreen(self._detail(step, snap)))

    def _detail(self, step: Step, snap: Snapshot) -> DetailSpec:
        title = f"Step {step.number}: {step.title} ({step.state})"
        evidence = [line for line, _ in step.evidence]
        if step.id == "inventory":
            static = [f.to_dict() for f in self.app.assessment.findings if f.category != "broken"]
            return DetailSpec(f"{title}: blockers and advice, worst first", {"evidence": evidence, "findings": static})
        if step.id == "validate":
            broken = [f.to_dict() for f in self.app.assessment.by_category("broken")]
            return DetailSpec(f"{title}: broken now, worst first", {"evidence": evidence, "findings": broken})
        if step.id == "profiles":
            return DetailSpec(title, {"evidence": evidence, "profiles": [p.raw or p for p in snap.profiles],
                                      "pod_execution_roles": list(snap.pod_execution_roles)})
        if step.id == "coredns":
            addon = snap.addon("coredns")
            return DetailSpec(title, {"evidence": evidence, "addon": (addon.raw or addon) if addon else None})
        return DetailSpec(title, {"evidence": evidence})

    def action_rollback_plan(self) -> None:
        rollback = getattr(self.app, "actions", {}).get("rollback")
        if rollback is None:
            self.notify("Rollback is not available here (no actions were offered to the dashboard).",
                        severity="warning", markup=False)
            return
        # Planning only reads the cluster; a screen-owned worker is right: it is wanted only while
        # this screen is open.
        self.run_worker(self._plan_rollback(rollback), group="walkthrough-plan", exclusive=True,
                        exit_on_error=False, description="planning rollback (shown only)")

    async def _plan_rollback(self, rollback) -> None:
        try:
            plan, error = await rollback.plan(), ""
        except Exception as exc:  # noqa: BLE001 - shown in the dialog as a sentence
            plan, error = None, f"{type(exc).__name__}: {exc}"
        self.app.push_screen(RollbackPlanScreen(plan, error, tone_styles(self.app.theme_variables)))
