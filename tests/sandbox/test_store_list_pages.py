"""Paged lists on the object store: every page shows the store at the first page's
resourceVersion, whatever is written in between; 410 Expired once the history is gone."""

from __future__ import annotations

import asyncio

import pytest

from iagent_sandbox.kube.errors import ApiError
from iagent_sandbox.kube.resources import rt
from iagent_sandbox.kube.store import CONTINUE_EXPIRED

from .store_fixtures import new_store, pod_body

PODS = rt("pods")


def _seed(store, count: int, namespaces: int = 4) -> set[tuple[str, str]]:
    for n in range(namespaces):
        store.create(rt("namespaces"), {"metadata": {"name": f"ns-{n}"}})
    for i in range(count):
        store.create(PODS, pod_body(f"pod-{i:04d}"), namespace=f"ns-{i % namespaces}")
    return {(f"ns-{i % namespaces}", f"pod-{i:04d}") for i in range(count)}


def _keys(items: list[dict]) -> list[tuple[str, str]]:
    return [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in items]


def _all_pages(store, limit: int, **kw) -> tuple[list[tuple[str, str]], str]:
    items, rv, last = store.list_page(PODS, limit=limit, **kw)
    seen = _keys(items)
    while last is not None:
        items, page_rv, last = store.list_page(PODS, limit=limit, after=last, at_rv=int(rv), **kw)
        assert page_rv == rv
        seen += _keys(items)
    return seen, rv


async def test_pages_under_churn_show_the_first_pages_version_exactly_once():
    store, _ = new_store(history=5000)
    present = _seed(store, 1000)
    stop = asyncio.Event()
    created: set[tuple[str, str]] = set()

    async def churn() -> None:
        i = 0
        victims = sorted(present)
        while not stop.is_set():
            ns = f"ns-{i % 4}"
            store.create(PODS, pod_body(f"churn-{i:04d}"), namespace=ns)  # sorts among the others
            created.add((ns, f"churn-{i:04d}"))
            victim = victims[(i * 37) % len(victims)]
            if store.get(PODS, *victim) is not None:
                store.delete(PODS, *victim, grace_period_seconds=0)
            i += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(churn())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    items, rv, last = store.list_page(PODS, limit=100)
    at_first = {k for k in present | created if store_had(store, k, int(rv))}
    seen = _keys(items)
    pages = 1
    while last is not None:
        await asyncio.sleep(0)  # the churn task writes between every two pages
        items, page_rv, last = store.list_page(PODS, limit=100, after=last, at_rv=int(rv))
        assert page_rv == rv and len(items) <= 100
        seen += _keys(items)
        if last is not None:  # remainingItemCount: what the later pages will bring
            assert store.count_after(PODS, None, last, int(rv)) == len(at_first) - len(seen)
        pages += 1
    stop.set()
    await task
    assert len(created) > pages  # writes really happened between pages
    assert len(seen) == len(set(seen)), "an object came twice"
    assert set(seen) == at_first
    assert seen == sorted(seen)
    assert {k for k in created if k in set(seen)} == {k for k in created if k in at_first}


def store_had(store, key: tuple[str, str], rv: int) -> bool:
    """Whether key existed at rv, from the store's history (the independent check of the pages)."""
    born = died = None
    for change in store._history:
        if change.rt == PODS and (change.obj["metadata"]["namespace"],
                                  change.obj["metadata"]["name"]) == key:
            if change.type == "ADDED":
                born = change.rv
            elif change.type == "DELETED":
                died = change.rv
    return born is not None and born <= rv and (died is None or died > rv)


def test_a_later_page_shows_objects_as_they_were_at_the_first_page():
    store, _ = new_store()
    _seed(store, 30, namespaces=1)
    items, rv, last = store.list_page(PODS, limit=10)
    store.mutate(PODS, "ns-0", "pod-0025", lambda o: o["metadata"].setdefault("labels", {})
                 .update(changed="yes"))
    store.delete(PODS, "ns-0", "pod-0026", grace_period_seconds=0)
    store.create(PODS, pod_body("pod-0020a"), namespace="ns-0")
    rest, _, _ = store.list_page(PODS, after=last, at_rv=int(rv))
    names = [o["metadata"]["name"] for o in rest]
    assert names == [f"pod-{i:04d}" for i in range(10, 30)]
    changed = next(o for o in rest if o["metadata"]["name"] == "pod-0025")
    assert "changed" not in changed["metadata"]["labels"]
    now, _, _ = store.list_page(PODS, after=last)
    assert "pod-0020a" in [o["metadata"]["name"] for o in now]
    assert "pod-0026" not in [o["metadata"]["name"] for o in now]


def test_pages_within_a_namespace_and_with_a_selector():
    store, _ = new_store()
    _seed(store, 40)
    seen, _ = _all_pages(store, 3, namespace="ns-1")
    assert store.count_after(PODS, "ns-1", seen[2], int(store.resource_version)) == 7
    assert store.count_after(PODS, "ns-0", seen[2], int(store.resource_version)) == 0
    assert seen == sorted((f"ns-1", f"pod-{i:04d}") for i in range(1, 40, 4))
    store.mutate(PODS, "ns-2", "pod-0002", lambda o: o["metadata"]["labels"].update(app="db"))
    seen, _ = _all_pages(store, 1, label_selector="app=db")
    assert seen == [("ns-2", "pod-0002")]
    assert _all_pages(store, 7, field_selector="metadata.namespace=ns-3")[0] == \
        sorted(("ns-3", f"pod-{i:04d}") for i in range(3, 40, 4))


def test_a_page_costs_the_page_not_the_whole_list():
    store, _ = new_store()
    _seed(store, 2000)
    items, rv, last = store.list_page(PODS, limit=100)
    stored = store._objects[PODS][last]
    assert items[-1] is stored  # served as stored: no deep copy of the type for one page
    assert len(items) == 100


def test_a_token_older_than_the_history_is_expired():
    store, _ = new_store(history=20)
    _seed(store, 10, namespaces=1)
    _, rv, last = store.list_page(PODS, limit=5)
    for i in range(25):
        store.create(PODS, pod_body(f"late-{i}"), namespace="ns-0")
    with pytest.raises(ApiError) as err:
        store.list_page(PODS, limit=5, after=last, at_rv=int(rv))
    assert (err.value.status, err.value.reason, err.value.message) == (410, "Expired", CONTINUE_EXPIRED)
