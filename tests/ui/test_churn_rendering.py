"""The dashboard under churn. KeyedTable: columns change width in place, and do not narrow back while the table
keeps its size (a large cluster's pods table was rebuilt, 5,000 rows re-added, every few seconds
as long-named pods came and went)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from screens.keyed_table import KeyedTable

from .helpers import until

COLUMNS = (("name", "Name"), ("status", "Status"), ("node", "Node"))


class TableApp(App):
    CSS = "KeyedTable { width: 56; height: 20; }"

    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, priority=("name", "status", "node"), flexible=frozenset({"name", "status"}),
                         caps={"status": 20}, id="t")


def rows(*names: str, status: str = "Running") -> list:
    return [(name, (name, status, "n1")) for name in names]


def shown(table: KeyedTable, key: str) -> list[str]:
    return [str(text) for text in table.get_row(key)]


async def test_a_longer_name_widens_its_column_in_place_and_cuts_the_other():
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(KeyedTable)
        await until(pilot, lambda: table.size.width == 56, what="table laid out")
        table.sync(rows("web-1", "web-2", status="ContainerCreating"))
        await pilot.pause()
        first = table.rows[next(iter(table.rows))]  # DataTable's own record of row web-1
        assert shown(table, "web-1")[:2] == ["web-1", "ContainerCreating"]

        long_name = "a-very-long-pod-name-0123456789"
        table.sync(rows("web-1", "web-2", long_name, status="ContainerCreating"))
        await pilot.pause()
        # Name widened to its full text; Status, next by priority, gave up its room and is cut.
        assert shown(table, long_name)[0] == long_name
        assert shown(table, "web-1")[1].endswith("…") and shown(table, "web-1")[1] != "ContainerCreating"
        assert table.full_text("web-1", "status") == "ContainerCreating"
        assert table.rows[next(iter(table.rows))] is first  # re-cut in place, not rebuilt

        # The long name goes: the columns keep their widths (no jumping back and forth).
        layout = table._layout
        table.sync(rows("web-1", "web-2", status="ContainerCreating"))
        await pilot.pause()
        assert table._layout == layout
        assert table.row_keys == ["web-1", "web-2"]


async def test_a_resized_table_lays_its_columns_out_afresh():
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(KeyedTable)
        await until(pilot, lambda: table.size.width == 56, what="table laid out")
        long_name = "a-very-long-pod-name-0123456789"
        table.sync(rows("web-1", long_name, status="ContainerCreating"))
        table.sync(rows("web-1", status="ContainerCreating"))
        await pilot.pause()
        assert shown(table, "web-1")[1] != "ContainerCreating"  # still cut: the width is kept

        table.styles.width = 60  # a new size forgets the kept widths: Status has room again
        await until(pilot, lambda: shown(table, "web-1")[1] == "ContainerCreating", what="status shown whole")


async def test_trend_chart_and_caption_follow_snapshots_without_a_layout_pass():
    """The charts repaint in place (no layout of the screen per snapshot): what they show must
    still be the newest snapshot's."""
    from dataclasses import replace

    from iagent_tui.app import IagentApp, StaticSource
    from textual.widgets import Label, Static

    from .fixtures import evolve, mid_migration

    snap = mid_migration()
    source = StaticSource(snap)
    app = IagentApp(source)
    async with app.run_test(size=(200, 60)) as pilot:
        caption = app.dashboard.query_one("#healthy-label", Label)
        await until(pilot, lambda: str(caption.content) == "healthy targets: 1 now", what="one healthy target")
        group = snap.target_groups[0]
        all_healthy = replace(group, targets=tuple(replace(t, state="healthy") for t in group.targets))
        source.publish(evolve(snap, target_groups=(all_healthy,)))
        await until(pilot, lambda: str(caption.content) == "healthy targets: 3 now", what="three healthy targets")
        chart = app.dashboard.query_one("#healthy-chart", Static)
        await until(pilot, lambda: str(chart.render()).strip() == "▃█", what="bars for 1 then 3")
