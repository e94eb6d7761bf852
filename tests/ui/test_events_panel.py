"""The Events panel: newest first on every snapshot, Warnings highlighted across their row, and a
key from the registry (shown in help) that shows only Warnings."""

from __future__ import annotations

from dataclasses import replace

from iagent_tui.app import IagentApp, StaticSource
from iagent_tui.keymap import APP_COMMANDS
from iagent_tui.model import Event, frozen_map
from screens.help import HelpScreen
from screens.keyed_table import KeyedTable

from .fixtures import at, evolve, mid_migration
from .helpers import until

SIZE = (200, 50)


def events(app: IagentApp) -> KeyedTable:
    return app.dashboard.query_one("#table-events", KeyedTable)


def reasons(app: IagentApp) -> list[str]:
    table = events(app)
    return [table.full_text(key, "reason") for key in table.row_keys]


def event(reason: str, kind: str, seconds: float, message: str = "", uid: str = "") -> Event:
    return Event("prod", "Pod", "web-5c6b7-pqrst", reason, kind, message or f"{reason} message", "kubelet", 1,
                 at(seconds), raw=frozen_map({"metadata": {"uid": uid}}) if uid else frozen_map({}))


async def test_the_newest_event_is_on_top_after_every_snapshot():
    source = StaticSource(mid_migration())
    app = IagentApp(source, clock=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1, what="first snapshot")
        assert reasons(app)[:2] == ["BackOff", "FailedScheduling"]  # 29:50 before 29:10
        first = mid_migration()
        # A newer one, and one older than all; two events that share object, reason and message
        # are two rows (their uids differ), not a clash.
        newer = (event("FailedScheduling", "Warning", 1795, "0/3 nodes are available", uid="u1"),
                 event("FailedScheduling", "Warning", 1796, "0/3 nodes are available", uid="u2"),
                 event("Pulled", "Normal", 5, uid="u3"))
        source.publish(evolve(first, events=first.events + newer))
        await until(pilot, lambda: app.snapshots_rendered >= 2, what="second snapshot")
        table = events(app)
        times = [table.full_text(key, "time") for key in table.row_keys]
        assert times == sorted(times, reverse=True)
        assert table.row_keys[:2] == ["u2", "u1"]
        assert table.row_keys[-1] == "u3"


async def test_warnings_are_highlighted_and_a_key_shows_only_them():
    app = IagentApp(StaticSource(mid_migration()), clock=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1, what="first snapshot")
        table = events(app)
        assert set(reasons(app)) == {"BackOff", "FailedScheduling", "Scheduled", "Pulled"}
        warning = next(k for k in table.row_keys if table.full_text(k, "reason") == "FailedScheduling")
        normal = next(k for k in table.row_keys if table.full_text(k, "reason") == "Pulled")
        assert table.get_cell(warning, "reason").style and not table.get_cell(normal, "reason").style

        key = next(c.key for c in APP_COMMANDS if c.id == "warnings-only")
        await pilot.press(key)
        await until(pilot, lambda: set(reasons(app)) == {"BackOff", "FailedScheduling"}, what="only Warnings")
        assert "Warnings only" in app.dashboard.panel("events").border_subtitle
        assert reasons(app) == ["BackOff", "FailedScheduling"]  # still newest first
        await pilot.press(key)
        await until(pilot, lambda: len(reasons(app)) == 4, what="all events again")

        await pilot.press("question_mark")
        help_screen = await until(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen, what="help")
        assert "Events: only Warnings / all" in str(help_screen.query_one("#help-text").render())


async def test_the_newest_events_stay_in_view_as_they_arrive_above():
    # Seen in tmux: the cursor's row was followed as newer events arrived above it, scrolling the
    # newest out of view (the top row 40 minutes old, a FailedScheduling found only by filtering).
    source = StaticSource(mid_migration())
    app = IagentApp(source, clock=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1, what="first snapshot")
        table = events(app)
        snap = mid_migration()
        for round_ in range(3):
            burst = tuple(event("Pulled", "Normal", 1800 + round_ * 100 + n, f"pull {round_}-{n}", uid=f"u{round_}-{n}")
                          for n in range(15))
            snap = evolve(snap, events=snap.events + burst)
            source.publish(snap)
            await until(pilot, lambda: app.snapshots_rendered >= 2 + round_, what="burst on screen")
            assert table.row_keys[0] == f"u{round_}-14"
            assert table.cursor_row == 0 and table.scroll_y == 0
        # A user who moved down to read an event keeps it under the cursor.
        table.focus()
        table.move_cursor(row=5)
        await until(pilot, lambda: table.has_focus and table.cursor_row == 5, what="reading row 5")
        reading = table.cursor_key()
        source.publish(evolve(snap, events=snap.events + (event("BackOff", "Warning", 2200, uid="late"),)))
        await until(pilot, lambda: table.row_keys[0] == "late", what="the newest on top")
        assert table.cursor_key() == reading
