"""Bulk loading for large scenarios: put complete objects into the store as the controllers would
have left them (status, timestamps, annotations and all), without running each controller step.

Each object still goes through the store's one commit path, so it gets a uid and a resourceVersion,
lands in the sorted list index and reaches every open watch as ADDED, exactly like a create; only
admission, defaulting and validation are skipped, because the objects are copies of ones that
already passed them.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from .resources import ResourceType
from .resources import rt as resolve_rt

if TYPE_CHECKING:
    from .store import ObjectStore


def new_uid(store: "ObjectStore") -> str:
    """A uid from the store's seeded stream, as create() draws them."""
    return str(uuid.UUID(int=store._rng.getrandbits(128), version=4))


def load(store: "ObjectStore", rtype: ResourceType, obj: dict) -> dict:
    """Commit ``obj`` (which must carry its final name, namespace and uid) as a new object. The
    store keeps ``obj`` itself: the caller must not touch it afterwards."""
    meta = obj["metadata"]
    key = (meta.get("namespace") or "", meta["name"])
    if key in store._objects[rtype]:
        raise ValueError(f"{rtype.plural} {key[0]}/{key[1]} already exists")
    meta.pop("resourceVersion", None)
    stored = store._commit(rtype, "ADDED", obj, None)
    if rtype is EVENTS:
        ref = obj.get("involvedObject") or {}
        identity = ref.get("uid") or f"{ref.get('kind')}/{key[0]}/{ref.get('name')}"
        store._remember_event((identity, obj.get("reason"), obj.get("message")), key)
    return stored


EVENTS = resolve_rt("events")
