"""The dashboard screen: header, panels, trend charts, the action progress panel and the filter."""

from __future__ import annotations

from datetime import datetime, timezone

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input

from iagent_tui.model import Snapshot

from .charts import Charts
from iagent_tui.insights.assessment import Assessment
from .header import ClusterHeader
from .keyed_table import KeyedTable, tone_styles
from .panels import Panel
from .progress import ActionProgress
from .rows import PANELS_BY_ID, View

# Narrow facts on the left; the wide, busy tables (pods, targets, events) on the right.
LEFT = ("profiles", "nodes", "coredns", "findings")
RIGHT = ("pods", "targets", "events")
AGE_PANELS = ("profiles", "nodes", "targets")
SHORT_HEIGHT = 32  # below this many rows the trend charts are hidden  # "In state" / "Age" columns, measured from taken_at


class DashboardScreen(Screen):
    # A zoomed panel keeps the header, the running action and the filter in view.
    ALLOW_IN_MAXIMIZED_VIEW = "Footer, #header, #progress, #filter"

    def compose(self) -> ComposeResult:
        yield ClusterHeader("", id="header")
        with Horizontal(id="columns"):
            with Vertical(id="left"):
                for panel in LEFT:
                    yield Panel(PANELS_BY_ID[panel])
                yield Charts()
            with Vertical(id="right"):
                for panel in RIGHT:
                    yield Panel(PANELS_BY_ID[panel])
        yield ActionProgress(id="progress")
        yield Input(placeholder="filter rows in every panel (enter keeps it, esc clears)", id="filter")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#progress").display = False
        self.query_one("#filter").display = False
        self.query_one("#table-profiles", KeyedTable).focus()
        self.query_one(ClusterHeader).show(None, tone_styles(self.app.theme_variables))
        self.call_after_refresh(self.app.render_if_visible)  # a snapshot may have come first

    def on_resize(self) -> None:
        # A short terminal (80x24) gives the trend charts' rows to the panels on the left, so
        # each still shows rows; the charts come back when there is room.
        self.set_class(self.size.height < SHORT_HEIGHT, "-short")

    def on_screen_resume(self) -> None:
        self.app.render_if_visible()  # catch up on snapshots that arrived while covered

    def panel(self, panel_id: str) -> Panel:
        return self.query_one(f"#panel-{panel_id}", Panel)

    def show(self, snap: Snapshot | None, assessment: Assessment, view: View) -> None:
        styles = tone_styles(self.app.theme_variables)
        self.query_one(ClusterHeader).show(snap, styles, getattr(self.app, "badge", ""),
                                           getattr(self.app, "feed_error", ""), assessment.fargate_hourly)
        if snap is None:
            return
        with self.app.batch_update():
            for panel in self.query(Panel):
                panel.show(snap, assessment, view)
            self.query_one(Charts).show(snap, assessment)

    def clear(self) -> None:
        """Empty panels and the connecting header: another context's first snapshot is coming."""
        empty = Snapshot(taken_at=datetime.now(timezone.utc), cluster=None, connection=None)
        assessment = Assessment()
        with self.app.batch_update():
            for panel in self.query(Panel):
                panel.show(empty, assessment, View())
            self.query_one(Charts).show(empty, assessment)
        self.query_one(ClusterHeader).show(None, tone_styles(self.app.theme_variables), getattr(self.app, "badge", ""))

    def show_ages(self, snap: Snapshot, assessment: Assessment, view: View) -> None:
        """Only the panels with age columns, for the App's once-a-second tick during transitions
        (their tables diff by key, so only the age cells change)."""
        with self.app.batch_update():
            for panel_id in AGE_PANELS:
                self.panel(panel_id).show(snap, assessment, view)

    def restyle(self) -> None:
        for table in self.query(KeyedTable):
            table.restyle()

    @on(DataTable.RowSelected)
    def _open_detail(self, event: DataTable.RowSelected) -> None:
        table_id = event.data_table.id or ""
        if table_id.startswith("table-") and event.row_key.value is not None:
            self.app.open_detail(table_id.removeprefix("table-"), event.row_key.value)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.app.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_kept(self, event: Input.Submitted) -> None:
        self.query_one("#table-pods", KeyedTable).focus()
