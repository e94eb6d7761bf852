"""core/v1 Events as client-go's event recorder writes them, including its aggregation: the same
(involved object, reason, message) seen again within 10 minutes bumps count and lastTimestamp on
the existing Event instead of writing a new one (what `kubectl describe` shows as "x5 over 2m")."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..clock import parse_rfc3339, rfc3339
from .errors import ApiError
from .resources import rt as resolve_rt

if TYPE_CHECKING:
    from .store import ObjectStore

AGGREGATION_WINDOW = timedelta(minutes=10)


def object_reference(involved: dict, field_path: str | None = None) -> dict[str, Any]:
    """An ObjectReference from a full object or from a reference dict (kind, name, ...)."""
    if "metadata" in involved:
        meta = involved["metadata"]
        ref = {"kind": involved.get("kind"), "namespace": meta.get("namespace"),
               "name": meta.get("name"), "uid": meta.get("uid"),
               "apiVersion": involved.get("apiVersion"),
               "resourceVersion": meta.get("resourceVersion")}
    else:
        ref = {k: involved.get(k) for k in ("kind", "namespace", "name", "uid", "apiVersion",
                                            "resourceVersion", "fieldPath")}
    if field_path:
        ref["fieldPath"] = field_path
    if not ref.get("kind") or not ref.get("name"):
        raise ValueError("record_event needs an involved object with a kind and a name")
    return {k: v for k, v in ref.items() if v not in (None, "")}


def record_event(store: "ObjectStore", involved: dict, reason: str, message: str, type: str,
                 component: str, host: str | None, field_path: str | None) -> dict:
    events = resolve_rt("events")
    ref = object_reference(involved, field_path)
    namespace = ref.get("namespace") or "default"
    now = store.clock.now()
    identity = ref.get("uid") or f"{ref['kind']}/{namespace}/{ref['name']}"
    agg_key = (identity, reason, message)

    where = store._event_index.get(agg_key)
    if where is not None:
        existing = store.get(events, where[0], where[1])
        if existing is not None and now - parse_rfc3339(existing["lastTimestamp"]) <= AGGREGATION_WINDOW:
            def bump(ev: dict) -> None:
                ev["count"] = ev.get("count", 1) + 1
                ev["lastTimestamp"] = rfc3339(now)
                ev["involvedObject"] = ref
            updated = store.mutate(events, where[0], where[1], bump)
            if updated is not None:
                return updated

    source = {"component": component}
    if host:
        source["host"] = host
    nanos = int(now.timestamp() * 1_000_000_000)
    name = f"{ref['name']}.{nanos:x}"
    while store.get(events, namespace, name) is not None:
        nanos += 1
        name = f"{ref['name']}.{nanos:x}"
    event = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": ref,
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": rfc3339(now),
        "lastTimestamp": rfc3339(now),
        "count": 1,
        "type": type,
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "reportingComponent": component,
        "reportingInstance": host or "",
    }
    try:
        created = store.create(events, event, namespace=namespace)
    except ApiError as exc:
        if exc.status in (403, 404):
            # Like client-go's recorder: an event for a namespace that is gone or terminating
            # is dropped, never an error for the component reporting it.
            return event
        raise
    store._remember_event(agg_key, (namespace, name))
    return created
