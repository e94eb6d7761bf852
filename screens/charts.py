"""Two small charts: pod start times (newest pods) and healthy ALB targets over time.

Bars are measured from zero, one column per value, newest on the right: zero healthy targets is an
empty column, never a full one (Textual's Sparkline scales between the series' own minimum and
maximum, and draws a single value as a full bar)."""

from __future__ import annotations

from collections import deque

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Static

from iagent_tui.model import Snapshot

from iagent_tui.insights.assessment import Assessment
from .format import duration
from .rows import healthy_targets

HISTORY = 120  # snapshots of healthy-target history kept
BARS = " ▁▂▃▄▅▆▇█"


def bar_line(series: list[float], width: int) -> str:
    """The newest ``width`` values as bars from zero up to the largest of them."""
    shown = series[-width:] if width > 0 else []
    top = max(shown, default=0.0)
    if top <= 0:
        return " " * len(shown)
    return "".join(BARS[0] if v <= 0 else BARS[max(1, round(v / top * (len(BARS) - 1)))] for v in shown)


def start_series(snap: Snapshot, assessment: Assessment, limit: int = 60) -> list[float]:
    """Seconds to Ready of the newest pods that became ready, oldest first."""
    pods = sorted((p for p in snap.pods if p.created and p.key in assessment.start
                   and assessment.start[p.key].ready is not None), key=lambda p: (p.created, p.key))
    return [float(assessment.start[p.key].ready) for p in pods[-limit:]]


class Charts(Vertical):
    def __init__(self) -> None:
        super().__init__(id="panel-charts", classes="panel")
        self.border_title = "Trends"
        self.healthy: deque[float] = deque(maxlen=HISTORY)
        self._last_version: int | None = None
        self.series: dict[str, list[float]] = {"#start": [], "#healthy": []}
        self._start_for: Assessment | None = None  # the derivation _start was computed from
        self._start: list[float] = []

    def compose(self) -> ComposeResult:
        yield Label("pod start (s to Ready)", id="start-label")
        yield Static("", id="start-chart", classes="chart")
        yield Label("healthy targets", id="healthy-label")
        yield Static("", id="healthy-chart", classes="chart")

    def show(self, snap: Snapshot, assessment: Assessment) -> None:
        # Start times change only with a derivation: a large cluster renders several snapshots
        # per derivation, and the series sorts every pod.
        if assessment is not self._start_for:
            self._start_for, self._start = assessment, start_series(snap, assessment)
        series = self._start
        label = "pod start (s to Ready)"
        if series:
            label += f": last {duration(series[-1])}, max {duration(max(series))}, target {duration(assessment.start_target)}"
        self._set("#start", series, label)
        if snap.version != self._last_version or not self.healthy:
            self._last_version = snap.version
            self.healthy.append(float(healthy_targets(snap)))
        self._set("#healthy", list(self.healthy), f"healthy targets: {int(self.healthy[-1])} now")

    def on_resize(self) -> None:
        for prefix in self.series:
            self._draw(prefix)

    def _set(self, prefix: str, series: list[float], label: str) -> None:
        # Repaint only what changed: most snapshots leave both charts as they were.
        if self.series[prefix] != series:
            self.series[prefix] = series
            self._draw(prefix)
        caption = self.query_one(f"{prefix}-label", Label)
        if str(caption.content) != label:
            caption.update(label, layout=False)  # full width, one line (app.tcss): no layout pass

    def _draw(self, prefix: str) -> None:
        # One line of the panel's width (app.tcss) whatever the bars: a new value needs no layout
        # of the screen, which on every snapshot cost 40+ ms at 5,000 pods (measured).
        chart = self.query_one(f"{prefix}-chart", Static)
        chart.update(bar_line(self.series[prefix], chart.size.width), layout=False)
