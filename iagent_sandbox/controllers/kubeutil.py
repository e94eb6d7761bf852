"""Plumbing shared by the simulated workload controllers: a keyed work queue fed by store watches
(list, then watch from the list's resourceVersion, re-list when the watch ends or is too old — the
informer pattern of client-go), pod conditions, resource requests and node predicates.

Controllers are level-triggered like the real ones: a watch event only names *what* to look at;
the reconcile function reads the current state from the store and makes it right.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable
from datetime import datetime
from typing import Any

from ..clock import rfc3339
from ..eks_rules.quantities import cpu_millicores, memory_bytes
from ..kube.errors import ApiError
from ..kube.resources import ResourceType, rt

log = logging.getLogger(__name__)

PODS, NODES, EVENTS = rt("pods"), rt("nodes"), rt("events")
DEPLOYMENTS, REPLICASETS = rt("deployments"), rt("replicasets")
DAEMONSETS, STATEFULSETS = rt("daemonsets"), rt("statefulsets")
PVCS, PVS = rt("persistentvolumeclaims"), rt("persistentvolumes")
COMPUTE_TYPE_LABEL = "eks.amazonaws.com/compute-type"


class WorkQueue:
    """Keys to reconcile, each queued at most once (client-go's workqueue semantics): a burst of
    watch events for one object costs one reconcile."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Hashable] = asyncio.Queue()
        self._pending: set[Hashable] = set()
        self._timers: dict[Hashable, asyncio.TimerHandle] = {}

    def add(self, key: Hashable) -> None:
        if key not in self._pending:
            self._pending.add(key)
            self._queue.put_nowait(key)

    def add_after(self, key: Hashable, wall_seconds: float) -> None:
        """Queue ``key`` later; a newer request for the same key replaces the pending one, so
        a controller that re-arms a deadline on every reconcile keeps one timer, not hundreds."""
        loop = asyncio.get_running_loop()
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()

        def fire() -> None:
            self._timers.pop(key, None)
            self.add(key)

        self._timers[key] = loop.call_later(max(0.0, wall_seconds), fire)

    async def get(self) -> Hashable:
        key = await self._queue.get()
        self._pending.discard(key)
        return key

    def close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()


async def informer(store, rtype: ResourceType, on_event: Callable[[str, dict], None],
                   namespace: str | None = None,
                   on_resync: Callable[[set[str]], None] | None = None) -> None:
    """Call ``on_event(type, obj)`` for every object now (as ADDED) and every change after, for
    ever. When the store ends the watch (an API server restart, a consumer too slow), start over
    with a fresh list, as a client-go reflector re-lists; handlers are idempotent. Deletions that
    happened in the gap produce no event: ``on_resync`` gets the uids that exist after a re-list
    so a controller can drop what it still holds for the others."""
    first = True
    while True:
        if not first and on_resync is not None:
            items, _ = store.list(rtype, namespace)
            try:
                on_resync({obj["metadata"]["uid"] for obj in items})
            except Exception:  # noqa: BLE001
                log.exception("%s informer: resync failed", rtype.plural)
        first = False
        watch = store.watch(rtype, namespace, initial_events=True)
        try:
            async for event_type, obj in watch:
                if event_type == "BOOKMARK":
                    continue
                try:
                    on_event(event_type, obj)
                except Exception:  # noqa: BLE001 - one bad object must not stop the informer
                    log.exception("%s informer: handling %s failed", rtype.plural, event_type)
        finally:
            watch.close()
        await asyncio.sleep(0)  # never spin if the store keeps closing watches at once


async def run_workers(queue: WorkQueue, reconcile: Callable[[Hashable], Awaitable[None] | None],
                      name: str) -> None:
    """Drain the queue for ever; a failing reconcile is logged and retried shortly, never fatal
    (a controller that dies silently leaves the twin frozen)."""
    try:
        while True:
            key = await queue.get()
            try:
                result = reconcile(key)
                if asyncio.iscoroutine(result):
                    await result
            except asyncio.CancelledError:
                raise
            except ApiError as exc:
                if exc.status not in (404, 409):
                    log.warning("%s: reconcile %s failed: %s", name, key, exc.message)
                queue.add_after(key, 0.05)
            except Exception:  # noqa: BLE001 - keep the controller alive, say what broke
                log.exception("%s: reconcile %s failed", name, key)
                queue.add_after(key, 0.5)
    finally:
        queue.close()


class PodCache:
    """A controller's own view of the pods, fed by its informer (client-go's indexer): list
    calls against the store deep-copy every object, which turns a 300-pod rollout quadratic.
    Controllers also record what they just created or deleted (client-go "expectations"), so a
    reconcile that runs before the watch event arrives never acts twice."""

    def __init__(self) -> None:
        self.by_uid: dict[str, dict] = {}
        self._by_owner: dict[str, dict[str, dict]] = {}

    def update(self, event: str, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        old = self.by_uid.pop(uid, None)
        if old is not None and (ref := controller_ref(old)):
            self._by_owner.get(ref["uid"], {}).pop(uid, None)
        if event == "DELETED":
            return
        self.by_uid[uid] = pod
        if ref := controller_ref(pod):
            self._by_owner.setdefault(ref["uid"], {})[uid] = pod

    def owned(self, owner_uid: str) -> list[dict]:
        return list(self._by_owner.get(owner_uid, {}).values())

    def all(self) -> list[dict]:
        return list(self.by_uid.values())


def obj_key(obj: dict) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def now_text(world) -> str:
    return rfc3339(world.clock.now())


def record_event_at(store, at: datetime | None, involved: dict, reason: str, message: str,
                    type: str = "Normal", component: str = "", host: str | None = None,
                    field_path: str | None = None) -> dict:
    """record_event, stamped with a simulated instant in the past (a controller's own timeline,
    see PodWorker) rather than the moment the event loop got round to writing it."""
    event = store.record_event(involved, reason, message, type=type, component=component,
                               host=host, field_path=field_path)
    if at is None:
        return event
    stamp = rfc3339(at)
    if event.get("lastTimestamp", stamp) <= stamp:
        return event

    def restamp(ev: dict) -> None:
        ev["lastTimestamp"] = stamp
        if ev.get("count", 1) == 1:
            ev["firstTimestamp"] = stamp
            ev["eventTime"] = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    meta = event["metadata"]
    return store.mutate(EVENTS, meta["namespace"], meta["name"], restamp) or event


def controller_ref(obj: dict) -> dict | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref
    return None


def owner_reference(owner: dict) -> dict:
    meta = owner["metadata"]
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": meta["name"],
            "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}


def owned_by(objs: Iterable[dict], owner_uid: str) -> list[dict]:
    return [o for o in objs if (ref := controller_ref(o)) and ref.get("uid") == owner_uid]


# -- conditions ------------------------------------------------------------------------------
def set_condition(status: dict, ctype: str, value: str, now: str, reason: str | None = None,
                  message: str | None = None, probe_time: bool = False) -> None:
    """Set one condition; lastTransitionTime moves only when the status flips (API convention)."""
    conditions = status.setdefault("conditions", [])
    current = next((c for c in conditions if c["type"] == ctype), None)
    if current is None:
        current = {"type": ctype}
        conditions.append(current)
    if current.get("status") != value:
        current["lastTransitionTime"] = now
    current["status"] = value
    if probe_time:
        current["lastProbeTime"] = None
    for field_name, field_value in (("reason", reason), ("message", message)):
        if field_value:
            current[field_name] = field_value
        else:
            current.pop(field_name, None)


def get_condition(obj: dict, ctype: str) -> dict | None:
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if cond.get("type") == ctype:
            return cond
    return None


def condition_true(obj: dict, ctype: str) -> bool:
    cond = get_condition(obj, ctype)
    return bool(cond and cond.get("status") == "True")


# -- pods -----------------------------------------------------------------------------------
def is_terminating(obj: dict) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def is_finished(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_active(pod: dict) -> bool:
    """Counts towards a controller's replicas: not finished and not being deleted."""
    return not is_terminating(pod) and not is_finished(pod)


def pod_ready(pod: dict) -> bool:
    return condition_true(pod, "Ready")


def container_requests(container: dict) -> tuple[int, int]:
    """(millicores, bytes) requested; a missing request defaults to the limit (API defaulting)."""
    resources = container.get("resources") or {}
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    cpu = requests.get("cpu", limits.get("cpu"))
    mem = requests.get("memory", limits.get("memory"))
    return (cpu_millicores(cpu) if cpu is not None else 0,
            memory_bytes(mem) if mem is not None else 0)


def pod_requests(spec: dict) -> tuple[int, int]:
    """Effective pod requests as the scheduler computes them: the larger of the sum of the app
    containers and the largest init container, per resource."""
    cpu = mem = 0
    for container in spec.get("containers") or ():
        c, m = container_requests(container)
        cpu, mem = cpu + c, mem + m
    for container in spec.get("initContainers") or ():
        c, m = container_requests(container)
        cpu, mem = max(cpu, c), max(mem, m)
    return cpu, mem


# -- nodes ----------------------------------------------------------------------------------
def is_fargate_node(node: dict) -> bool:
    return (node["metadata"].get("labels") or {}).get(COMPUTE_TYPE_LABEL) == "fargate"


def node_ready(node: dict) -> bool:
    return condition_true(node, "Ready")


def node_internal_ip(node: dict) -> str | None:
    for address in (node.get("status") or {}).get("addresses") or ():
        if address.get("type") == "InternalIP":
            return address.get("address")
    return None


def toleration_matches(toleration: dict, taint: dict) -> bool:
    """k8s.io/api/core/v1 Toleration.ToleratesTaint."""
    effect = toleration.get("effect")
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key")
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def untolerated_taint(node: dict, tolerations: list[dict] | None,
                      effects: tuple[str, ...] = ("NoSchedule", "NoExecute")) -> dict | None:
    for taint in (node.get("spec") or {}).get("taints") or ():
        if taint.get("effect") not in effects:
            continue
        if not any(toleration_matches(t, taint) for t in tolerations or ()):
            return taint
    return None


def _expression_matches(expr: dict, values: dict[str, str]) -> bool:
    key, operator = expr.get("key"), expr.get("operator")
    wanted = expr.get("values") or []
    present = key in values
    if operator == "In":
        return present and values[key] in wanted
    if operator == "NotIn":
        return not present or values[key] not in wanted
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and wanted:
        try:
            have, limit = int(values[key]), int(wanted[0])
        except ValueError:
            return False
        return have > limit if operator == "Gt" else have < limit
    return False


def node_matches_pod(node: dict, spec: dict) -> bool:
    """nodeSelector and requiredDuringSchedulingIgnoredDuringExecution node affinity (terms are
    ORed, expressions inside a term ANDed; matchFields supports metadata.name as the DaemonSet
    controller uses it)."""
    labels = node["metadata"].get("labels") or {}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms")
    if not terms:
        return True
    fields = {"metadata.name": node["metadata"]["name"]}
    for term in terms:
        exprs, field_exprs = term.get("matchExpressions") or [], term.get("matchFields") or []
        if not exprs and not field_exprs:
            continue  # an empty term matches nothing
        if all(_expression_matches(e, labels) for e in exprs) and \
                all(_expression_matches(e, fields) for e in field_exprs):
            return True
    return False


def template_hash_text(value: Any) -> str:
    """k8s' rand.SafeEncodeString over the decimal of a 32-bit FNV-1a hash: the alphabet that
    gives ReplicaSet names like coredns-5d78c9869d (no vowels, no 0/1/3 that spell words)."""
    import json

    data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(alphabet[ord(ch) % len(alphabet)] for ch in str(h))
