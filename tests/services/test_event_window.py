"""The events a monitor keeps (services.event_window.EventWindow, the events Reflector's store):
the newest Normal events and, with more room, the newest Warnings, whatever order they arrive
in; and every pull event of a live pod, however old, until the pod is gone or recreated."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from iagent_tui.model import Event
from iagent_tui.services.event_window import EventWindow

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _event(i: int, kind: str = "Normal", reason: str = "R", pod: str = "", uid: str = "") -> Event:
    return Event(namespace="ns", kind="Pod", name=pod or f"p{i}", reason=reason, type=kind, message=f"m{i}",
                 component="c", count=1, last_seen=NOW - timedelta(seconds=i), object_uid=uid)


def _fill(window: EventWindow, events: list[Event]) -> None:
    shuffled = list(events)
    random.Random(7).shuffle(shuffled)  # a paged list arrives in any order
    for e in shuffled:
        window[("ns", e.message)] = e


def test_keeps_the_newest_of_each_type_and_more_warnings():
    window = EventWindow(max_normal=10, max_warnings=20)
    _fill(window, [_event(i) for i in range(100)] + [_event(i, "Warning") for i in range(1000, 1100)])
    kept = window.events()
    assert [e.name for e in kept if e.type == "Normal"] == [f"p{i}" for i in range(9, -1, -1)]
    # Warnings older than every Normal one kept are still there: they are kept longer
    assert [e.name for e in kept if e.type == "Warning"] == [f"p{i}" for i in range(1019, 999, -1)]
    assert list(kept) == sorted(kept, key=lambda e: e.last_seen)
    assert len(window) == 30


def test_a_small_cluster_keeps_every_event_and_deletions_and_updates_apply():
    window = EventWindow(max_normal=10, max_warnings=20)
    events = [_event(i) for i in range(5)] + [_event(i, "Warning") for i in range(5, 8)]
    _fill(window, events)
    assert sorted(window.events(), key=lambda e: e.name) == sorted(events, key=lambda e: e.name)
    del window[("ns", "m0")]
    window[("ns", "m7")] = replace(_event(7, "Warning"), count=3, last_seen=NOW)  # seen again: now the newest
    assert "p0" not in {e.name for e in window.events()}
    assert window.events()[-1].count == 3 and len(window.events()) == 7


def test_pull_events_of_a_pod_outlive_the_window_until_the_pod_goes():
    window = EventWindow(max_normal=10, max_warnings=10)
    old_pulls = [_event(500, reason="Pulling", pod="web-1", uid="u1"), _event(499, reason="Pulled", pod="web-1", uid="u1"),
                 _event(498, reason="Pulled", pod="api-1", uid="a1")]
    _fill(window, old_pulls + [_event(i) for i in range(100)])
    kept = window.events()
    assert [e for e in kept if e.reason != "R"] == sorted(old_pulls, key=lambda e: e.last_seen)
    assert len([e for e in kept if e.reason == "R"]) == 10
    window.retain_pulls(("ns", "web-1"), "u2")  # recreated under the same name: not its pulls
    window.retain_pulls(("ns", "api-1"), "a1")  # still the same pod
    assert [e.name for e in window.events() if e.reason != "R"] == ["api-1"]
    window.retain_pulls_of({})  # every pod gone
    assert [e for e in window.events() if e.reason != "R"] == []
    assert len(window) == 10


def test_a_pull_event_still_among_the_newest_stays_as_any_other_event():
    window = EventWindow(max_normal=3, max_warnings=3)
    _fill(window, [_event(0, reason="Pulled", pod="gone", uid="g")] + [_event(i) for i in range(1, 3)])
    window.retain_pulls(("ns", "gone"), None)
    assert "gone" in {e.name for e in window.events()}
    _fill(window, [_event(-i) for i in range(1, 4)])  # newer events push it out: it is not kept for its pod
    assert "gone" not in {e.name for e in window.events()} and len(window) == 3
