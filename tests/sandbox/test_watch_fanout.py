"""A change fans out to many watchers without a copy per watcher: serializing consumers (the HTTP
watch stream) get the stored object itself (next_shared); in-process consumers still get private
copies; controllers read the store without copies (scan) and never see their edits stored."""

from __future__ import annotations

import asyncio

from iagent_sandbox.kube.resources import rt

from .store_fixtures import new_store, pod_body

PODS = rt("pods")


async def test_one_object_reaches_every_watcher_uncopied():
    store, _ = new_store()
    watches = [store.watch(PODS, "default") for _ in range(200)]
    store.create(PODS, pod_body("web-1"))
    got = [await asyncio.wait_for(w.next_shared(), 2) for w in watches]
    assert {kind for kind, _ in got} == {"ADDED"}
    assert len({id(obj) for _, obj in got}) == 1, "one object for every watcher"
    assert got[0][1] is store._objects[PODS][("default", "web-1")]


async def test_iterating_a_watch_still_hands_out_private_copies():
    store, _ = new_store()
    w = store.watch(PODS, "default")
    store.create(PODS, pod_body("web-1"))
    kind, obj = await asyncio.wait_for(w.__anext__(), 2)
    obj["metadata"]["labels"] = {"edited": "by the consumer"}
    assert store.get(PODS, "default", "web-1")["metadata"].get("labels") != {"edited": "by the consumer"}


def test_scan_is_the_list_without_copies():
    store, _ = new_store()
    for name in ("a", "b", "c"):
        store.create(PODS, pod_body(name))
    listed, _ = store.list(PODS, "default")
    scanned = store.scan(PODS, "default")
    assert listed == scanned
    assert all(s is store._objects[PODS][("default", s["metadata"]["name"])] for s in scanned)
    assert [p["metadata"]["name"] for p in store.scan(PODS, "default", field_selector="metadata.name=b")] == ["b"]
