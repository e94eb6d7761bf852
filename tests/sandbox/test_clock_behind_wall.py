"""The sandbox clock never runs ahead of the wall clock: with a lead it starts in the past, runs at
its speed while behind and at real time once caught up; its sleeps (wall_seconds) agree.

Time is driven by a fake monotonic clock, so these are exact and need no waiting."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from iagent_sandbox import clock as clock_module
from iagent_sandbox.clock import SandboxClock, behind_wall_lead


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def tick(monkeypatch):
    fake = FakeMonotonic()
    monkeypatch.setattr(clock_module.time, "monotonic", fake)
    return fake


def test_runs_at_speed_while_behind_then_at_real_time(tick):
    clock = SandboxClock(speed=100, seed=1, lead=990)  # catches up after 990 / 99 = 10 wall s
    start_wall = clock.now() + timedelta(seconds=clock.behind_wall())
    assert clock.behind_wall() == pytest.approx(990, abs=1)
    tick.t += 5
    assert clock.elapsed() == pytest.approx(500)
    assert clock.rate() == 100
    tick.t += 5  # caught up
    assert clock.behind_wall() == pytest.approx(0, abs=1e-6)
    assert clock.rate() == 1.0
    tick.t += 30
    assert clock.elapsed() == pytest.approx(990 + 40, abs=1)  # the wall's 40 s, not 4000
    assert clock.now() == start_wall + timedelta(seconds=40)


def test_wall_seconds_spans_the_catch_up(tick):
    clock = SandboxClock(speed=11, seed=1, lead=100)  # catches up after 10 wall s (110 sim s)
    assert clock.wall_seconds(55) == pytest.approx(5)
    assert clock.wall_seconds(110) == pytest.approx(10)
    assert clock.wall_seconds(130) == pytest.approx(10 + 20)  # the last 20 s at real time
    tick.t += 20
    assert clock.wall_seconds(30) == pytest.approx(30)


def test_set_speed_keeps_the_cap(tick):
    clock = SandboxClock(speed=10, seed=1, lead=50)
    clock.set_speed(1000)  # a bootstrap fast-forward
    tick.t += 1
    assert clock.behind_wall() == pytest.approx(0, abs=1e-6)
    clock.set_speed(10)
    tick.t += 3
    assert clock.behind_wall() == pytest.approx(0, abs=1e-6)
    assert clock.elapsed() == pytest.approx(54, abs=1e-6)


def test_never_ahead_of_the_wall_clock_at_any_speed(tick):
    clock = SandboxClock(speed=5000, seed=1, lead=3600)
    for _ in range(50):
        tick.t += 0.7
        wall = datetime.now(timezone.utc) + timedelta(seconds=tick.t - 1000)
        assert clock.now() <= wall + timedelta(seconds=1)


def test_without_lead_the_clock_is_as_before(tick):
    start = datetime(2031, 5, 4, 12, 0, tzinfo=timezone.utc)
    clock = SandboxClock(speed=100, seed=1, start=start)
    tick.t += 10
    assert clock.now() == start + timedelta(seconds=1000)
    assert clock.rate() == 100 and clock.wall_seconds(100) == pytest.approx(1)


def test_lead_covers_the_bootstrap_and_the_headroom():
    assert behind_wall_lead(200, bootstrap=3600, headroom=60) == 3600 + 60 * 199
    assert behind_wall_lead(0.5, bootstrap=10, headroom=60) == 10  # slower than real: never catches up
    with pytest.raises(ValueError):
        SandboxClock(speed=1, lead=-1)
