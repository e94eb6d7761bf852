"""Age cells ("In state", "Age") between snapshots: while something is in transition they advance
once a second from taken_at plus the time since the snapshot arrived, read from a clock injected
into the App (controlled here, never the wall clock); while nothing is in transition they advance
every IDLE_AGE_SECONDS (an idle cluster publishes nothing for hours, and frozen ages disagree with
kubectl)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from iagent_tui.app import IDLE_AGE_SECONDS, IagentApp, StaticSource
from screens.keyed_table import KeyedTable

from .fixtures import at, evolve, make_pod, mid_migration
from .helpers import until
from .test_walkthrough import pre_migration

SIZE = (160, 48)


class ManualClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def cell(app: IagentApp, panel: str, key: str, column: str) -> str:
    return str(app.dashboard.query_one(f"#table-{panel}", KeyedTable).get_cell(key, column))


def age_ticks_running() -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "age-refresh" and not t.done()]


async def test_ages_advance_on_the_injected_clock_while_a_profile_is_creating():
    clock = ManualClock()
    app = IagentApp(StaticSource(mid_migration()), clock=clock)  # fp-prod CREATING since at(1720), taken at(1800)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1, what="first snapshot")
        assert cell(app, "profiles", "fp-prod", "since") == "1m20s"
        assert app.age_timer is not None and age_ticks_running()

        clock.advance(5)
        app.refresh_ages()
        assert cell(app, "profiles", "fp-prod", "since") == "1m25s"
        assert cell(app, "targets", next(k for k in app.dashboard.query_one("#table-targets", KeyedTable).row_keys
                                         if k.endswith("10.0.2.33:80")), "since") == "25s"  # initial since at(1780)

        # the timer itself does the same without being called (waits on the condition, not on time)
        clock.advance(10)
        await until(pilot, lambda: cell(app, "profiles", "fp-prod", "since") == "1m35s", timeout=5,
                    what="the once-a-second tick")
        assert "updated 10:30:00" in str(app.dashboard.query_one("#header").render())  # the header keeps taken_at

        # a new snapshot restarts ages from its own taken_at
        clock.advance(100)
        app.source.publish(evolve(mid_migration(), taken_at=at(1810)))
        await until(pilot, lambda: app.snapshot.taken_at == at(1810), what="next snapshot")
        await until(pilot, lambda: cell(app, "profiles", "fp-prod", "since") == "1m30s", what="ages from the new snapshot")


async def test_a_slow_tick_while_nothing_is_in_transition():
    clock = ManualClock()
    source = StaticSource(pre_migration())
    app = IagentApp(source, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1, what="first snapshot")
        assert not pre_migration().in_transition()
        assert app.age_timer is not None and app.age_interval == IDLE_AGE_SECONDS

        # a pod starting is a transition too, though nothing AWS-side changes
        starting = make_pod("prod", "web-5c6b7-new01", "", "", ready=False, reason="ContainerCreating", created=at(1790))
        source.publish(evolve(pre_migration(), pods=pre_migration().pods + (starting,)))
        await until(pilot, lambda: app.age_interval == 1.0 and age_ticks_running(), what="the fast tick started")

        # steady again: the slow tick, and ages still advance with time (as kubectl's do)
        source.publish(replace(pre_migration(), version=50))
        await until(pilot, lambda: app.snapshot.version == 50, what="steady snapshot")
        await until(pilot, lambda: app.age_interval == IDLE_AGE_SECONDS and len(age_ticks_running()) == 1,
                    what="one slow tick")
        node = app.dashboard.query_one("#table-nodes", KeyedTable).row_keys[0]
        before = cell(app, "nodes", node, "age")
        clock.advance(3600)
        app.refresh_ages()  # what the slow tick does (its interval is not waited out here)
        assert (before, cell(app, "nodes", node, "age")) == ("1d", "1d1h")
