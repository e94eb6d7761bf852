"""Watches: ordering, resume after a resourceVersion, 410 after trimming, selector transitions,
closing, and that a reader that never reads cannot stall writers."""

from __future__ import annotations

import asyncio

import pytest

from iagent_sandbox.kube import watch as watch_module
from iagent_sandbox.kube.resources import rt
from iagent_sandbox.kube.store import ApiError

from .store_fixtures import new_store, pod_body

PODS, CM = rt("pods"), rt("configmaps")


async def take(w, n: int, timeout: float = 2.0) -> list[tuple[str, str, str]]:
    """The next n events as (type, name, resourceVersion)."""
    out = []

    async def collect():
        async for kind, obj in w:
            out.append((kind, obj["metadata"].get("name"), obj["metadata"]["resourceVersion"]))
            if len(out) == n:
                return

    await asyncio.wait_for(collect(), timeout)
    return out


async def test_watch_from_now_sees_changes_in_order():
    store, _ = new_store()
    store.create(PODS, pod_body("before"))
    w = store.watch(PODS, "default")
    store.create(PODS, pod_body("web-1"))
    store.mutate(PODS, "default", "web-1", lambda p: p["spec"].update(nodeName="n1"))
    store.delete(PODS, "default", "web-1", grace_period_seconds=0)
    store.create(CM, {"metadata": {"name": "other-type"}})
    store.create(rt("ns"), {"metadata": {"name": "prod"}})
    store.create(PODS, pod_body("elsewhere"), namespace="prod")
    events = await take(w, 3)
    assert [(k, n) for k, n, _ in events] == [("ADDED", "web-1"), ("MODIFIED", "web-1"),
                                              ("DELETED", "web-1")]
    rvs = [int(rv) for _, _, rv in events]
    assert rvs == sorted(rvs) and len(set(rvs)) == 3
    assert w.pending() == 0  # the configmap and the pod in "prod" were filtered out
    w.close()


async def test_watch_replays_after_resource_version():
    store, _ = new_store()
    store.create(PODS, pod_body("a"))
    _, rv = store.list(PODS)
    store.create(PODS, pod_body("b"))
    store.mutate(PODS, "default", "a", lambda p: p["metadata"].update(labels={"app": "x"}))
    w = store.watch(PODS, resource_version=rv)
    store.create(PODS, pod_body("c"))
    assert [(k, n) for k, n, _ in await take(w, 3)] == [("ADDED", "b"), ("MODIFIED", "a"),
                                                        ("ADDED", "c")]
    w.close()


async def test_watch_with_trimmed_resource_version_is_gone():
    store, _ = new_store(history=5)
    _, old_rv = store.list(PODS)
    for i in range(8):
        store.create(CM, {"metadata": {"name": f"cm-{i}"}})
    with pytest.raises(ApiError) as err:
        store.watch(PODS, resource_version=old_rv)
    oldest_kept = int(store.resource_version) - 5 + 1
    assert err.value.status == 410
    assert err.value.message == f"too old resource version: {old_rv} ({oldest_kept - 1})"
    assert err.value.to_status()["code"] == 410
    # a version still inside the history resumes normally
    w = store.watch(CM, resource_version=str(oldest_kept - 1))
    assert len(await take(w, 5)) == 5
    with pytest.raises(ApiError) as err:
        store.watch(PODS, resource_version="abc")
    assert err.value.status == 400


async def test_label_selector_watch_turns_transitions_into_added_and_deleted():
    store, _ = new_store()
    store.create(PODS, pod_body("p", labels={"app": "web"}))
    w = store.watch(PODS, label_selector="tier=front")
    store.mutate(PODS, "default", "p", lambda p: p["metadata"]["labels"].update(tier="front"))
    store.mutate(PODS, "default", "p", lambda p: p["metadata"]["labels"].update(v="2"))
    store.mutate(PODS, "default", "p", lambda p: p["metadata"]["labels"].pop("tier"))
    store.mutate(PODS, "default", "p", lambda p: p["metadata"]["labels"].update(v="3"))
    assert [k for k, _, _ in await take(w, 3)] == ["ADDED", "MODIFIED", "DELETED"]
    assert w.pending() == 0
    w.close()


async def test_field_selector_watch_follows_binding():
    store, _ = new_store()
    w = store.watch(PODS, field_selector="spec.nodeName=n1")
    store.create(PODS, pod_body("a"))
    store.create(PODS, pod_body("b"))
    store.mutate(PODS, "default", "b", lambda p: p["spec"].update(nodeName="n1"))
    assert await take(w, 1) == [("ADDED", "b", store.get(PODS, "default", "b")["metadata"]["resourceVersion"])]
    w.close()


async def test_initial_events_and_bookmark():
    store, _ = new_store()
    store.create(PODS, pod_body("a"))
    store.create(PODS, pod_body("b"))
    w = store.watch(PODS, "default", initial_events=True)
    store.create(PODS, pod_body("c"))
    w.request_bookmark()
    events = await take(w, 4)
    assert [(k, n) for k, n, _ in events] == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c"),
                                              ("BOOKMARK", None)]
    assert events[-1][2] == store.resource_version
    w.close()


async def test_consumers_get_private_copies():
    store, _ = new_store()
    w1, w2 = store.watch(PODS), store.watch(PODS)
    store.create(PODS, pod_body("a"))
    _, obj1 = await asyncio.wait_for(w1.__anext__(), 2)
    obj1["metadata"]["name"] = "scribbled"
    _, obj2 = await asyncio.wait_for(w2.__anext__(), 2)
    assert obj2["metadata"]["name"] == "a" and store.get(PODS, "default", "a") is not None


async def test_close_and_close_all_end_iteration():
    store, _ = new_store()
    w1, w2 = store.watch(PODS), store.watch(CM)
    assert store.open_watches == 2
    waiter = asyncio.create_task(take(w1, 1))
    await asyncio.sleep(0)  # let the waiter block on the empty queue
    store.close_all_watches()
    assert await asyncio.wait_for(waiter, 2) == []
    assert w1.closed and w2.closed and store.open_watches == 0
    store.create(PODS, pod_body("after"))
    assert w1.pending() == 0
    w3 = store.watch(PODS)
    store.create(PODS, pod_body("queued"))
    w3.close()
    assert [e async for e in w3] == []  # closing drops what was not read


async def test_reader_that_never_reads_does_not_block_writers(monkeypatch):
    monkeypatch.setattr(watch_module, "MAX_BACKLOG", 20)
    store, _ = new_store()
    stuck = store.watch(CM)
    reader = store.watch(CM)
    reading = asyncio.create_task(take(reader, 50))
    for i in range(50):
        store.create(CM, {"metadata": {"name": f"cm-{i}"}})
        if i % 5 == 4:
            await asyncio.sleep(0)  # the writer yields now and then; the stuck reader never reads
    assert stuck.closed and stuck.close_reason == "too slow"
    assert [e async for e in stuck] == []
    assert [n for _, n, _ in await reading] == [f"cm-{i}" for i in range(50)]
    assert not reader.closed
    reader.close()
