"""Two small charts: pod start times (newest pods) and healthy ALB targets over time."""

from __future__ import annotations

from collections import deque

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline

from iagent_tui.model import Snapshot

from iagent_tui.insights.assessment import Assessment
from .format import duration
from .rows import healthy_targets

HISTORY = 120  # snapshots of healthy-target history kept


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

    def compose(self) -> ComposeResult:
        yield Label("pod start (s to Ready)", id="start-label")
        yield Sparkline([], id="start-chart")
        yield Label("healthy targets", id="healthy-label")
        yield Sparkline([], id="healthy-chart")

    def show(self, snap: Snapshot, assessment: Assessment) -> None:
        series = start_series(snap, assessment)
        label = "pod start (s to Ready)"
        if series:
            label += f": last {duration(series[-1])}, max {duration(max(series))}, target {duration(assessment.start_target)}"
        self._set("#start", series, label)
        if snap.version != self._last_version or not self.healthy:
            self._last_version = snap.version
            self.healthy.append(float(healthy_targets(snap)))
        self._set("#healthy", list(self.healthy), f"healthy targets: {int(self.healthy[-1])} now")

    def _set(self, prefix: str, series: list[float], label: str) -> None:
        # Repaint only what changed: most snapshots leave both charts as they were.
        chart = self.query_one(f"{prefix}-chart", Sparkline)
        if chart.data != series:
            chart.data = series
        caption = self.query_one(f"{prefix}-label", Label)
        if str(caption.content) != label:
            caption.update(label)
