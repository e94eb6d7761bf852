"""Snapshot of the add-namespace name dialog with a refused name (the error under the field).
Update after an intended visual change with:
    .venv/bin/python -m pytest tests/ui/test_add_namespace_snapshot.py --snapshot-update
and look at the SVG in tests/ui/__snapshots__/ before committing it."""

from __future__ import annotations

from .helpers import until
from .test_add_namespace_ui import Offer, app_offering, open_name_dialog

SIZE = (160, 48)


def test_name_dialog_with_a_refused_name(snap_compare):
    async def refuse(pilot):
        dialog = await open_name_dialog(pilot, pilot.app)
        await pilot.press(*"Team_X", "enter")
        await until(pilot, lambda: "DNS-1123" in dialog.error_message, what="the error shown")
    # A still clock: the fixture is in transition, so ages would tick with the wall clock.
    assert snap_compare(app_offering(Offer(), clock=lambda: 0.0), terminal_size=SIZE, run_before=refuse)
