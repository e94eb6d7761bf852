"""The cost view (`$`): the Assessment's business case as a table and bars per namespace, read
only from the Assessment; reachable by its id in the key registry, remappable, in help."""

from __future__ import annotations

from dataclasses import replace

from iagent_tui.app import IagentApp, StaticSource
from iagent_tui.insights.assessment import assess
from screens.cost import CostScreen

from .fixtures import mid_migration
from .helpers import until

SIZE = (160, 60)


async def open_cost(pilot, key: str = "dollar_sign") -> CostScreen:
    app = pilot.app
    await until(pilot, lambda: app.snapshots_rendered >= 1, what="first snapshot on screen")
    await pilot.press(key)
    return await until(pilot, lambda: isinstance(app.screen, CostScreen) and app.screen, what="the cost view")


def text_of(screen: CostScreen, widget_id: str) -> str:
    from rich.console import Console

    console = Console(width=160, record=True)
    console.print(screen.query_one(f"#{widget_id}").content)
    return console.export_text()


async def test_cost_view_shows_the_assessments_figures_per_namespace():
    snap = mid_migration()
    case = assess(snap).business_case
    assert case is not None and case.namespaces
    source = StaticSource(snap)
    app = IagentApp(source)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cost(pilot)
        table = text_of(screen, "cost-table")
        assert "total" in table and f"${case.monthly(case.before_hourly):,.2f}" in table
        for namespace in case.namespaces:
            assert namespace.namespace in table and namespace.namespace in text_of(screen, "cost-bars")
        assert "730 hours per month" in text_of(screen, "cost-notes")
        renders = screen.updates
        source.publish(replace(snap, version=snap.version + 1))  # same figures: nothing re-rendered
        await until(pilot, lambda: app.snapshot.version == snap.version + 1, what="the second snapshot taken")
        await pilot.pause()
        assert screen.updates == renders
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard, what="back on the dashboard")


async def test_cost_key_is_in_help_and_can_be_remapped():
    app = IagentApp(StaticSource(mid_migration()), keymap={"open-cost": "f3"})
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1, what="first snapshot")
        assert any(c.id == "open-cost" for c in app.commands)
        assert "Cost before and after" in [c.title for c in app.get_system_commands(app.screen)]
        await open_cost(pilot, "f3")
