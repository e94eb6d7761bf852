"""The AWS call budget: the token bucket on an injected clock, the setting, and the pace the
monitor derives from it (no server: the monitor's data is set directly, as a round would)."""

from __future__ import annotations

import asyncio

import pytest

from iagent_tui.config import ConfigError, Settings, load_settings
from iagent_tui.model import (
    FargateProfile, Pod, Service, Snapshot, SourceState, Target, TargetGroup, TargetGroupBinding,
)
from iagent_tui.services.call_budget import CallBudget, count_calls
from iagent_tui.services.monitor import ROUTINE_SHARE, ClusterMonitor
from screens.header import aws_pace

from .conftest import make_connection


class FakeClock:
    """Time that passes only when the budget sleeps (recorded, so waits can be checked)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def _spend(budget: CallBudget, clock: FakeClock, calls: int) -> list[float]:
    stamps = []
    for _ in range(calls):
        await budget.acquire()
        stamps.append(clock.now)
    return stamps


async def test_no_minute_gets_more_calls_than_the_budget():
    clock = FakeClock()
    budget = CallBudget(60, clock=clock, sleep=clock.sleep)
    stamps = await _spend(budget, clock, 300)
    assert stamps[:60] == [0.0] * 60  # a minute's worth may go out at once
    for i, start in enumerate(stamps):
        in_window = [t for t in stamps[i:] if t - start < 60.0]
        assert len(in_window) <= 60
    assert max(clock.sleeps) <= 61.0  # a call never waits longer than the window (and its margin)
    assert budget.spent == 300 and stamps[-1] == pytest.approx(4 * 61.0)


async def test_borrowing_lets_the_first_round_out_and_the_next_call_waits_for_room():
    clock = FakeClock()
    budget = CallBudget(60, clock=clock, sleep=clock.sleep)
    budget.borrowing = True
    assert await _spend(budget, clock, 75) == [0.0] * 75
    budget.borrowing = False
    await budget.acquire()
    assert clock.now == pytest.approx(61.0)  # the window still held a minute's worth of calls


async def test_rounds_count_their_own_calls_across_the_tasks_they_gather():
    clock = FakeClock()
    budget = CallBudget(600, clock=clock, sleep=clock.sleep)
    with count_calls() as round_calls:
        await asyncio.gather(*(budget.acquire() for _ in range(7)))
    await budget.acquire()  # outside the round (the sentinel, say)
    assert round_calls[0] == 7 and budget.spent == 8


def test_a_budget_of_nothing_is_refused():
    with pytest.raises(ValueError, match="1 or more"):
        CallBudget(0)


@pytest.mark.parametrize("value", ["0", "-5", "lots", "2.5"])
def test_a_bad_budget_setting_is_a_clear_error(value):
    with pytest.raises(ConfigError) as err:
        load_settings(None, {}, env={"IAGENT_AWS_CALLS_PER_MINUTE": value})
    message = str(err.value)
    assert "IAGENT_AWS_CALLS_PER_MINUTE" in message and "AWS calls a minute, 1 or more" in message


def test_the_budget_setting_comes_from_the_file(tmp_path):
    config = tmp_path / "iagent.yaml"
    config.write_text("aws_calls_per_minute: 0\n")
    with pytest.raises(ConfigError, match=r"field aws_calls_per_minute: .*1 or more"):
        load_settings(config, {}, env={})
    config.write_text("aws_calls_per_minute: 30\n")
    assert load_settings(config, {}, env={}).aws_calls_per_minute == 30
    assert Settings().aws_calls_per_minute == 60


def _monitor(budget: int, **kwargs) -> ClusterMonitor:
    connection = make_connection("https://127.0.0.1:1", b"", None)  # never opened: no round runs here
    return ClusterMonitor(connection, Settings(cluster="c", aws_calls_per_minute=budget), **kwargs)


def _large_cluster_data(monitor: ClusterMonitor, groups: int, changing: int) -> None:
    """What a full round of a large cluster left: ``groups`` target groups, the first
    ``changing`` with a target still in ``initial``."""
    def group(i: int) -> TargetGroup:
        state = "initial" if i < changing else "healthy"
        return TargetGroup(f"tg-{i:02d}", f"arn:tg/{i:02d}", "alb", "ip", (Target(f"10.0.0.{i}", 80, state, "", ""),))
    monitor._aws_data["target_groups"] = tuple(group(i) for i in range(groups))
    monitor._full_cost = 73  # 50 target groups' health, 10 profiles, the lists, the cluster...
    monitor._last_full = 0.0


def test_pace_keeps_routine_polling_within_the_budget_and_rotates_through_what_changes():
    monitor = _monitor(60, clock=lambda: 10.0)
    _large_cluster_data(monitor, groups=50, changing=50)
    pace = monitor.pace
    per_second = monitor._full_cost / pace.full_every + pace.batch / pace.changes_every
    per_second += 1 / pace.sentinel_every if pace.sentinel_every else 0
    assert per_second <= ROUTINE_SHARE * 60 / 60 + 1e-9
    assert pace.stretched and pace.full_every > 30.0 and pace.waiting == 50 and pace.batch < 50
    # in turn: the groups read least recently come first
    monitor._read_at = {("target_group", "arn:tg/00"): 9.0, ("target_group", "arn:tg/01"): 8.0}
    order = [name for _, name in monitor._wanted()]
    assert order[:2] == ["arn:tg/02", "arn:tg/03"] and order[-2:] == ["arn:tg/01", "arn:tg/00"]
    assert pace.sentinel_every is None  # nothing left over for it


def test_pace_is_the_usual_one_when_the_budget_allows_it():
    monitor = _monitor(100_000, fast_interval=2.0, slow_interval=30.0, sentinel_interval=3.0)
    _large_cluster_data(monitor, groups=50, changing=5)
    pace = monitor.pace
    assert (pace.full_every, pace.changes_every, pace.batch, pace.waiting) == (30.0, 2.0, 5, 5)
    assert pace.sentinel_every == 3.0 and not pace.stretched
    # a profile being created comes before the target groups, and only changing things are read
    monitor._aws_data["fargate_profiles"] = (FargateProfile("fp-new", "CREATING", (), (), "", None),
                                             FargateProfile("fp-old", "ACTIVE", (), (), "", None))
    assert monitor._wanted() == [("profile", "fp-new")] + [("target_group", f"arn:tg/{i:02d}") for i in range(5)]


def _web_pod(name: str, ip: str, deleting: bool = False) -> Pod:
    return Pod("shop", name, "n1", "fargate", "Running", True, "Running", 0, ip, "ReplicaSet", "web-1",
               {"app": "web"}, "", "", None, deleting=deleting)


def test_a_rollout_the_watches_see_marks_its_target_group_changing_before_aws_shows_it():
    monitor = _monitor(60, clock=lambda: 10.0)
    _large_cluster_data(monitor, groups=3, changing=0)  # every target healthy, as last read
    web = monitor._aws_data["target_groups"][1]  # targets: 10.0.0.1
    binding = TargetGroupBinding("shop", "web", web.arn, "ip", "web", "80")

    def kube(*pods: Pod) -> Snapshot:
        return Snapshot(taken_at=None, cluster=None, connection=None, pods=pods, tgbs=(binding,),
                        services=(Service("shop", "web", "ClusterIP", selector={"app": "web"}),), version=len(pods))
    monitor._latest = kube(_web_pod("web-a", "10.0.0.1"))
    assert monitor._wanted() == []  # the group holds exactly the pods behind it
    monitor._latest = kube(_web_pod("web-a", "10.0.0.1", deleting=True), _web_pod("web-b", "10.0.0.7"))
    assert monitor._wanted() == [("target_group", web.arn)]  # replaced: read that group, only that one


def test_a_small_cluster_keeps_its_usual_pace_within_the_default_budget():
    monitor = _monitor(60, fast_interval=2.0, slow_interval=30.0, sentinel_interval=3.0)
    monitor._full_cost, monitor._last_full = 15, 0.0  # the default scenario's full round: ~10-15 calls
    pace = monitor.pace
    assert (pace.full_every, pace.sentinel_every, pace.stretched) == (30.0, 3.0, False)
    monitor._aws_data["fargate_profiles"] = (FargateProfile("fp-new", "CREATING", (), (), "", None),)
    changing = monitor.pace
    assert changing.batch == 1 and changing.changes_every < 3.0  # a profile being created: read every few seconds


def test_the_header_says_when_the_budget_stretched_the_polling():
    monitor = _monitor(60, clock=lambda: 10.0)
    _large_cluster_data(monitor, groups=50, changing=50)
    monitor._aws_state = {"cluster": SourceState("cluster", True), "target_groups": SourceState("target_groups", True)}
    monitor._show_pace(monitor.pace)
    snap = Snapshot(taken_at=None, cluster=None, connection=None, sources=dict(monitor._aws_state))
    pace = monitor.pace
    assert snap.sources["cluster"].every == pace.full_every
    assert snap.sources["target_groups"].every == pace.changes_every * -(-50 // pace.batch)
    assert aws_pace(snap).startswith("  AWS every ") and "changes" in aws_pace(snap)
    assert aws_pace(snap).endswith("(budget 60 calls/min)")
    roomy = _monitor(100_000)
    roomy._aws_state = {"cluster": SourceState("cluster", True)}
    roomy._show_pace(roomy.pace)
    assert aws_pace(Snapshot(taken_at=None, cluster=None, connection=None, sources=dict(roomy._aws_state))) == ""
