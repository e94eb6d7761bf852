"""A dashboard panel: a titled box holding a keyed table, a summary line and a staleness line.

A panel whose sources fail keeps showing its last rows and says since when and why it is stale;
it never blanks.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from iagent_tui.model import Snapshot, SourceState

from iagent_tui.insights.assessment import Assessment
from .format import clock_time
from .keyed_table import KeyedTable
from .rows import PanelSpec, View, coredns_summary, filter_rows, node_counts


def stale_text(states: list[SourceState]) -> Text:
    """Per failing source: what is not updated, since when, and the services' sentence (what
    failed, why, what to check). The last rows stay on screen under it."""
    text = Text(end="")
    for state in states:
        if text:
            text.append("\n")
        source = state.name.replace("_", " ")
        # Since when first: on a short terminal only the first line shows.
        since = f"Not updated since {clock_time(state.stale_since)}" if state.stale_since else "No data yet"
        text.append(f"{since} ({source})", style="bold")
        text.append(f": {state.error or 'no answer from the source.'}")
    return text


class Panel(Vertical):
    """One panel of the dashboard, built from a PanelSpec."""

    ALLOW_MAXIMIZE = True  # `z` zooms the panel around the focused table

    def __init__(self, spec: PanelSpec) -> None:
        super().__init__(id=f"panel-{spec.id}", classes="panel")
        self.spec = spec
        self.border_title = spec.title
        self.stale: tuple[SourceState, ...] = ()
        self.summary = ""

    def compose(self) -> ComposeResult:
        yield Static("", classes="panel-stale")
        if self.spec.id in ("coredns",):
            yield Static("", classes="panel-summary")
        yield KeyedTable(self.spec.columns, priority=self.spec.priority, flexible=self.spec.flexible,
                         caps=dict(self.spec.caps), id=f"table-{self.spec.id}")

    def on_mount(self) -> None:
        self.table.follow_top = self.spec.id == "events"  # newest first, and the newest in view

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    def show(self, snap: Snapshot, assessment: Assessment, view: View) -> None:
        all_rows = self.spec.rows(snap, assessment, view)
        rows = filter_rows(all_rows, view.text)
        self.table.sync(rows)
        self._show_staleness(snap)
        if self.spec.id == "nodes":
            self.border_title = f"Nodes — {node_counts(snap)}"
        elif self.spec.id == "findings":
            counts = {sev: sum(1 for f in assessment.findings if f.severity == sev) for sev in ("error", "warning", "info")}
            self.border_title = "Findings — " + ", ".join(f"{n} {sev}{'s' if n > 1 and sev != 'info' else ''}"
                                               for sev, n in counts.items() if n) \
                if assessment.findings else "Findings — none"
        elif self.spec.id == "coredns":
            summary = coredns_summary(snap)
            if summary != self.summary:  # an update is a layout pass of the whole screen
                self.summary = summary
                self.query_one(".panel-summary", Static).update(Text(summary, end=""))
        shown = f"{len(rows)} of {len(all_rows)}" if view.text else f"{len(rows)}"
        self.border_subtitle = shown + (f" · ns {view.namespace}" if view.namespace else "") \
            + (" · Warnings only (e: all)" if self.spec.id == "events" and view.warnings_only else "")

    def _show_staleness(self, snap: Snapshot) -> None:
        stale = tuple(state for name in self.spec.sources
                      if (state := snap.sources.get(name)) is not None and not state.ok)
        if stale == self.stale:
            return
        self.stale = stale
        line = self.query_one(".panel-stale", Static)
        line.update(stale_text(list(stale)))
        self.set_class(bool(stale), "-stale")
