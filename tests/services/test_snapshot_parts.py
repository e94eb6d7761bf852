"""Snapshot parts kept current from a store's changes (services.snapshot_parts.SortedModels over a
kube.TrackedStore) equal what converting and sorting everything from scratch gives, whatever the
sequence of additions, updates, deletions and re-lists."""

from __future__ import annotations

import random

from iagent_tui.services.kube import TrackedStore
from iagent_tui.services.snapshot_parts import SortedModels


def _raw(namespace: str, name: str, version: int) -> dict:
    return {"metadata": {"namespace": namespace, "name": name, "resourceVersion": str(version)}}


def _model(raw: dict) -> tuple:
    meta = raw["metadata"]
    return meta["namespace"], meta["name"], meta["resourceVersion"]


def test_incremental_models_equal_a_full_rebuild():
    rng = random.Random(3)
    store, models = TrackedStore(), SortedModels(_model)
    conversions = []
    counted = SortedModels(lambda raw: conversions.append(raw) or _model(raw))
    version = 0
    for step in range(400):
        for _ in range(rng.randint(0, 12)):
            key = (f"ns-{rng.randint(0, 3)}", f"pod-{rng.randint(0, 40)}")
            version += 1
            if rng.random() < 0.3:
                store.pop(key, None)
            else:
                store[key] = _raw(*key, version)
        if step % 97 == 96:  # a re-list: every key marked, nothing actually different
            fresh = dict(store)
            store.clear()
            store.update(fresh)
        changed = store.take_changes()
        models.apply(changed, store.get)
        counted.apply(changed, store.get)
        assert models.models == tuple(sorted(_model(raw) for raw in store.values()))
    # only what changed is converted: a re-list of unchanged objects converts nothing
    fresh = dict(store)
    store.clear()
    store.update(fresh)
    conversions.clear()
    assert counted.apply(store.take_changes(), store.get) == [] and conversions == []
