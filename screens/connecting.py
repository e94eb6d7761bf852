"""The connecting screen: at launch, each source (Kubernetes API, EKS, ELB, IAM) waiting / ok /
failed, instead of a blank screen; when the first snapshot says the cluster cannot be read, the
sentence saying why and what to check, with r to try again and q to quit. The App decides when
to leave it (iagent_tui/app.py); the progress is read from the monitor (iagent_tui/connecting.py)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from iagent_tui.connecting import SourceProgress

MARKS = {"waiting": ("…", "busy"), "ok": ("✓", "ok"), "failed": ("✗", "bad")}


class ConnectingScreen(Screen):
    BINDINGS = [Binding("r", "retry", "Retry", id="connecting-retry"),
                Binding("K", "app.switch_context", "Other context", id="connecting-context"),
                Binding("q", "quit", "Quit", id="connecting-quit")]

    def __init__(self, target: str, progress: Callable[[], list[SourceProgress]], tones: dict) -> None:
        super().__init__()
        self.target = target  # "context X  https://…"
        self.progress = progress
        self.tones = tones
        self.problem = ""
        self.attempts = 1

    def compose(self) -> ComposeResult:
        with Vertical(id="connecting-box"):
            yield Static(Text(f"Connecting to {self.target}", style="bold", end=""), id="connecting-title")
            yield Static("", id="connecting-sources")
            yield Static("", id="connecting-problem")
        yield Footer()

    def on_mount(self) -> None:
        self._paint_problem()
        # Only while this screen is up (seconds): the monitor has no event for "one more source answered".
        self.set_interval(0.25, self.refresh_progress, name="connecting-progress")
        self.call_after_refresh(self.app.connecting_verdict)  # a snapshot may have come first

    def refresh_progress(self) -> None:
        text = Text(end="")
        for row in self.progress():
            mark, tone = MARKS.get(row.state, ("?", ""))
            text.append(f" {mark} ", style=self.tones.get(tone, ""))
            text.append(f"{row.label:<15}", style="bold")
            text.append(f"{row.state:<8} ")
            # A failure's sentence is the problem below once there is one: said once, not twice.
            detail = "see below" if row.state == "failed" and self.problem else row.detail
            text.append(detail + "\n", style=self.tones.get("bad", "") if row.state == "failed" else "")
        text.rstrip()
        self.query_one("#connecting-sources", Static).update(text)

    def show_problem(self, sentence: str) -> None:
        self.problem = sentence
        if self.is_mounted:  # else on_mount paints it (the first snapshot can come first)
            self._paint_problem()

    def _paint_problem(self) -> None:
        sentence = self.problem
        box = self.query_one("#connecting-problem", Static)
        box.update(Text(sentence, style=self.tones.get("bad", ""), end=""))
        box.set_class(bool(sentence), "-problem")
        self.refresh_progress()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            return bool(self.problem)  # once the attempt failed; the footer shows the key then
        return True

    def action_retry(self) -> None:
        self.attempts += 1
        self.show_problem("")
        self.app.retry_connect()

    def action_quit(self) -> None:
        self.app.quit_connecting(self.problem)
