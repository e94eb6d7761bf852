"""The monitor keeps a bounded, recent window of events: the newest Normal events and, with more
room, the newest Warnings, oldest first (services.monitor.recent_events)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from iagent_tui.model import Event
from iagent_tui.services import monitor
from iagent_tui.services.monitor import recent_events

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _event(i: int, kind: str) -> Event:
    return Event(namespace="ns", kind="Pod", name=f"p{i}", reason="R", type=kind, message="m",
                 component="c", count=1, last_seen=NOW - timedelta(seconds=i))


def test_keeps_the_newest_of_each_type_and_more_warnings(monkeypatch):
    monkeypatch.setattr(monitor, "MAX_EVENTS", 10)
    monkeypatch.setattr(monitor, "MAX_WARNINGS", 20)
    events = [_event(i, "Normal") for i in range(100)] + [_event(i, "Warning") for i in range(1000, 1100)]
    kept = recent_events(events, NOW)
    normal = [e for e in kept if e.type == "Normal"]
    warnings = [e for e in kept if e.type == "Warning"]
    assert [e.name for e in normal] == [f"p{i}" for i in range(9, -1, -1)]
    # Warnings older than every Normal one kept are still there: they are kept longer
    assert [e.name for e in warnings] == [f"p{i}" for i in range(1019, 999, -1)]
    assert kept == sorted(kept, key=lambda e: e.last_seen)


def test_a_small_cluster_keeps_every_event():
    events = [_event(i, "Normal") for i in range(5)] + [_event(i, "Warning") for i in range(5, 8)]
    assert sorted(recent_events(events, NOW), key=lambda e: e.name) == sorted(events, key=lambda e: e.name)
