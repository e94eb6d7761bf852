"""Snapshot of the migration walkthrough on the fixed mid-migration cluster (step 2 current: a
profile CREATING; blocked and done steps; evidence lines). Update after an intended visual change with:
    .venv/bin/python -m pytest tests/ui/test_walkthrough_snapshot.py --snapshot-update
and look at the SVG in tests/ui/__snapshots__/ before committing it."""

from __future__ import annotations

from iagent_tui.app import IagentApp, StaticSource

from .fixtures import mid_migration
from .test_walkthrough import open_walkthrough

SIZE = (160, 48)


def test_walkthrough_mid_migration(snap_compare):
    async def open_it(pilot):
        screen = await open_walkthrough(pilot)
        assert screen.current is not None and screen.current.id == "profiles"
    # A steady clock: the age timer's ticks cannot change this screen, but keep the input fixed anyway.
    app = IagentApp(StaticSource(mid_migration()), clock=lambda: 0.0)
    assert snap_compare(app, terminal_size=SIZE, run_before=open_it)
