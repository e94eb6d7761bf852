"""The cluster's action lock against the sandbox's Kubernetes API: only one of several racing runs
wins it, a dead run's lock is taken over by exactly one taker and only with consent, it is renewed
while held, released after success, failure and cancellation, and a run that loses it stops. The
Lease is read back with the official kubernetes client, not the product's services."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
from kubernetes import client as k8s_client
from kubernetes.client.rest import ApiException

from actions.base import Plan, PlanStep, ProgressEvent, StepAction, StepFailed
from actions.journal import RunTarget, read
from actions.lock import LOCK_NAME, LOCK_NAMESPACE, ClusterLock, LockRefused
from actions.runner import ActionRunner
from tests.conftest import wait_for

CLUSTER = "iagent-cluster"


@pytest.fixture(scope="module")
def settings(sandbox_files):
    from iagent_tui.config import load_settings
    return load_settings(overrides={"kubeconfig": str(sandbox_files[0])}, env={})


@pytest.fixture
def leases(k8s):
    api = k8s_client.CoordinationV1Api(k8s)
    yield api
    try:  # every test starts from a free cluster
        api.delete_namespaced_lease(LOCK_NAME, LOCK_NAMESPACE)
    except ApiException:
        pass


def lease_or_none(leases):
    try:
        return leases.read_namespaced_lease(LOCK_NAME, LOCK_NAMESPACE)
    except ApiException as err:
        if err.status == 404:
            return None
        raise


def hold(leases, holder: str = "bob@desk pid 777", renewed_ago: float = 0.0, duration: int = 60):
    """A Lease held by another process, written with the official client."""
    renewed = datetime.now(timezone.utc) - timedelta(seconds=renewed_ago)
    return leases.create_namespaced_lease(LOCK_NAMESPACE, {
        "metadata": {"name": LOCK_NAME, "annotations": {
            "iagent-tui.io/action": "rollback", "iagent-tui.io/user": holder.split()[0],
            "iagent-tui.io/pid": holder.split()[-1]}},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration,
                 "acquireTime": renewed, "renewTime": renewed}})


async def with_kube(settings, body):
    from iagent_tui.services.connection import build_connection
    from iagent_tui.services.kube import KubeClient

    async with KubeClient(await build_connection(settings)) as kube:
        return await body(kube)


class Scripted(StepAction):
    """Two steps; ``during`` runs inside the first one (to look at the cluster mid-run)."""

    name = "deploy"

    def __init__(self, during=None, fail: bool = False, block: asyncio.Event | None = None) -> None:
        self.during, self.fail, self.block = during, fail, block
        self.executed: list[str] = []

    async def plan(self) -> Plan:
        return Plan("deploy", CLUSTER, (PlanStep("one", "Step one", "create", "thing one"),
                                        PlanStep("two", "Step two", "create", "thing two")))

    async def execute(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        self.executed.append(step.id)
        if step.id == "one" and self.during is not None:
            await self.during()
        if step.id == "one" and self.block is not None:
            yield ProgressEvent("waiting", "blocked", step.id)
            await self.block.wait()
        if step.id == "two" and self.fail:
            raise StepFailed("thing two is broken")
        yield ProgressEvent("info", f"{step.id} done", step.id)


async def run_all(runner: ActionRunner, action: StepAction) -> list[ProgressEvent]:
    return [event async for event in runner.run(action, await action.plan())]


def test_of_racing_runs_exactly_one_takes_the_lock(settings, leases):
    async def body(kube):
        locks = [ClusterLock(kube, CLUSTER, user=f"user{i}@host", pid=100 + i) for i in range(5)]
        outcomes = await asyncio.gather(*(lock.acquire("deploy") for lock in locks), return_exceptions=True)
        winners = [lock for lock, outcome in zip(locks, outcomes) if outcome == "acquired"]
        refusals = [o for o in outcomes if isinstance(o, LockRefused)]
        stored = await asyncio.to_thread(lease_or_none, leases)
        for lock in winners:
            await lock.release()
        return winners, refusals, stored

    winners, refusals, stored = asyncio.run(with_kube(settings, body))
    assert len(winners) == 1 and len(refusals) == 4
    assert stored.spec.holder_identity == winners[0].identity
    for refused in refusals:
        assert refused.message.startswith("deploy already running since ")
        assert f"by {winners[0].user} (pid {winners[0].pid}); wait for it or check " \
               f"kubectl get lease -n kube-system iagent-tui-action" in refused.message
    assert lease_or_none(leases) is None


def test_a_dead_runs_lock_is_taken_over_by_one_taker_and_only_with_consent(settings, leases):
    hold(leases, renewed_ago=600)

    async def body(kube):
        asked = []
        unwilling = ClusterLock(kube, CLUSTER, user="carol@ci", pid=1)
        with pytest.raises(LockRefused) as refused:
            await unwilling.acquire("deploy", lambda holder: asked.append(holder) or False)
        without_hook = ClusterLock(kube, CLUSTER, user="carol@ci", pid=2)
        with pytest.raises(LockRefused) as no_hook:
            await without_hook.acquire("deploy")
        takers = [ClusterLock(kube, CLUSTER, user=f"taker{i}@host", pid=i) for i in range(3)]
        outcomes = await asyncio.gather(*(t.acquire("deploy", lambda h: True) for t in takers),
                                        return_exceptions=True)
        stored = await asyncio.to_thread(lease_or_none, leases)
        for taker, outcome in zip(takers, outcomes):
            if outcome == "taken-over":
                await taker.release()
        return asked, refused.value, no_hook.value, takers, outcomes, stored

    asked, refused, no_hook, takers, outcomes, stored = asyncio.run(with_kube(settings, body))
    assert [h.identity for h in asked] == ["bob@desk pid 777"]
    for message in (refused.message, no_hook.message):
        assert "held by bob@desk (pid 777) (rollback since" in message and "stopped renewing it" in message
        assert "iagent-tui deploy --take-over-lock" in message
    assert outcomes.count("taken-over") == 1
    assert all(isinstance(o, LockRefused) for o in outcomes if o != "taken-over")
    winner = takers[outcomes.index("taken-over")]
    assert winner.previous.identity == "bob@desk pid 777"
    assert stored.spec.holder_identity == winner.identity and stored.spec.lease_transitions == 1
    assert lease_or_none(leases) is None


def test_the_lease_is_renewed_while_held_and_a_run_that_loses_it_stops(settings, leases, tmp_path):
    block = asyncio.Event()

    async def body(kube):
        lock = ClusterLock(kube, CLUSTER, renew_every=0.05)
        runner = ActionRunner(tmp_path, False, CLUSTER, lock=lock)
        action = Scripted(block=block)
        events: list[ProgressEvent] = []

        async def consume():
            async for event in runner.run(action, await action.plan()):
                events.append(event)

        task = asyncio.create_task(consume())
        first = await asyncio.to_thread(wait_for, lambda: lease_or_none(leases), 10, 0.05, "the lease")
        await asyncio.to_thread(wait_for, lambda: lease_or_none(leases).spec.renew_time > first.spec.renew_time,
                                10, 0.05, "a renewal")
        await asyncio.to_thread(leases.delete_namespaced_lease, LOCK_NAME, LOCK_NAMESPACE)  # an operator's kill
        await asyncio.to_thread(wait_for, lambda: lock.lost, 10, 0.05, "the lock to be lost")
        block.set()
        await task
        return runner, action, events

    runner, action, events = asyncio.run(with_kube(settings, body))
    assert runner.last.result == "failed" and "lost the cluster lock: the Lease was deleted" in runner.last.message
    assert action.executed == ["one"]  # the second change was never made
    records = read(runner.last.journal_path)
    assert [r["outcome"] for r in records if r["type"] == "lock"] == ["acquired", "lost"]


@pytest.mark.parametrize("ending", ["success", "failure", "cancel"])
def test_the_lease_names_the_run_while_it_runs_and_is_gone_after(ending, settings, leases, tmp_path):
    seen = []

    async def body(kube):
        async def look():
            seen.append(await asyncio.to_thread(lease_or_none, leases))

        block = asyncio.Event() if ending == "cancel" else None
        action = Scripted(during=look, fail=ending == "failure", block=block)
        runner = ActionRunner(tmp_path, False, CLUSTER, lock=ClusterLock(kube, CLUSTER),
                              target=RunTarget("iagent-sandbox", "https://127.0.0.1", True))
        if ending != "cancel":
            await run_all(runner, action)
            return runner

        async def consume():
            async for event in runner.run(action, await action.plan()):
                if event.kind == "waiting":
                    task.cancel()

        task = asyncio.create_task(consume())
        with pytest.raises(asyncio.CancelledError):
            await task
        return runner

    runner = asyncio.run(with_kube(settings, body))
    (during,) = seen
    assert during.spec.holder_identity == runner.lock.identity
    notes = during.metadata.annotations
    assert notes["iagent-tui.io/action"] == "deploy" and notes["iagent-tui.io/cluster"] == CLUSTER
    assert during.spec.lease_duration_seconds == 60 and during.spec.acquire_time and during.spec.renew_time
    assert lease_or_none(leases) is None
    expected = {"success": "ok", "failure": "failed", "cancel": "cancelled"}[ending]
    records = read(runner.last.journal_path)
    assert runner.last.result == expected and records[-1]["result"] == expected
    assert [r["outcome"] for r in records if r["type"] == "lock"] == ["acquired", "released"]
    assert records[0]["target"] == {"context": "iagent-sandbox", "server": "https://127.0.0.1", "sandbox": True}


def test_read_only_and_nothing_to_do_take_no_lock(settings, leases, tmp_path):
    hold(leases)

    class Done(Scripted):
        async def plan(self) -> Plan:
            return Plan("deploy", CLUSTER, (PlanStep("one", "Step one", "create", "thing", done=True),))

    async def body(kube):
        read_only = ActionRunner(tmp_path, True, CLUSTER, lock=ClusterLock(kube, CLUSTER))
        await run_all(read_only, Scripted())
        idle = ActionRunner(tmp_path, False, CLUSTER, lock=ClusterLock(kube, CLUSTER))
        await run_all(idle, Done())
        return read_only, idle

    read_only, idle = asyncio.run(with_kube(settings, body))
    assert read_only.last.result == "refused" and read_only.last.message.startswith("Read-only mode")
    assert idle.last.result == "nothing-to-do"
    for runner in (read_only, idle):
        assert not [r for r in read(runner.last.journal_path) if r["type"] == "lock"]
    assert lease_or_none(leases).spec.holder_identity == "bob@desk pid 777"  # untouched
