"""What a ClusterMonitor builds its Snapshots from, kept current incrementally.

At 5,000 pods under churn the monitor publishes every ~100 ms with a handful of pods changed.
Building each snapshot from scratch (every object visited and its resourceVersion compared, every
resource sorted, the newest events picked from 40,000, every pod IP indexed for the target join)
took a quarter of a second a build (bench/monitor_mem.py). Here each Reflector store says which
keys changed (kube.TrackedStore): only those are converted, the order is updated by bisection, a
tuple is rebuilt only when what it holds changed, and the indexes the snapshot needs (node compute
types, pods by node and by IP, the newest creation time) follow the same changes.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..model import ComputeType, Event, Pod, TargetGroup
from . import convert
from .event_window import EventWindow
from .kube import (
    DAEMONSETS,
    DEPLOYMENTS,
    EVENTS,
    INGRESSES,
    NODES,
    PERSISTENTVOLUMECLAIMS,
    PERSISTENTVOLUMES,
    PODS,
    SERVICES,
    STATEFULSETS,
    TARGETGROUPBINDINGS,
    Reflector,
    Resource,
)

Key = tuple[str, str]
Diff = list[tuple[Any, Any]]  # (old model or None, new model or None) per changed object


def _resource_version(raw: Mapping[str, Any]) -> str:
    return (raw.get("metadata") or {}).get("resourceVersion", "") or ""


class SortedModels:
    """One resource's model records in (namespace, name) order, the order of its store's keys."""

    def __init__(self, convert_fn: Callable[[Any], Any], marker: Callable[[Any], str] = _resource_version) -> None:
        self._convert = convert_fn
        self._marker = marker  # unchanged marker: the model is still right ("" = always convert)
        self._markers: dict[Key, str] = {}
        self._keys: list[Key] = []  # sorted; _models[i] is the model of _keys[i]
        self._models: list[Any] = []
        self._tuple: tuple | None = ()

    def apply(self, changed: Iterable[Key], raw_of: Callable[[Key], Any]) -> Diff:
        diff: Diff = []
        for key in changed:
            raw = raw_of(key)
            known = key in self._markers
            at = bisect_left(self._keys, key)
            if raw is None:
                if known:
                    del self._markers[key], self._keys[at]
                    diff.append((self._models.pop(at), None))
                continue
            marker = self._marker(raw)
            if known and marker and self._markers[key] == marker:
                continue
            model = self._convert(raw)
            self._markers[key] = marker
            if known:
                diff.append((self._models[at], model))
                self._models[at] = model
            else:
                self._keys.insert(at, key)
                self._models.insert(at, model)
                diff.append((None, model))
        if diff:
            self._tuple = None
        return diff

    @property
    def models(self) -> tuple:
        if self._tuple is None:
            self._tuple = tuple(self._models)
        return self._tuple


class SnapshotParts:
    """Every resource's models and the joins between them, for one set of Reflectors."""

    def __init__(self) -> None:
        self.nodes = SortedModels(convert.node_from_raw)
        self.pods = SortedModels(self._pod_from_raw, self._pod_marker)
        # In kind order (DaemonSet, Deployment, StatefulSet): the snapshot sorts workloads by kind.
        self.workloads = {res: SortedModels(convert.workload_from_raw) for res in (DAEMONSETS, DEPLOYMENTS, STATEFULSETS)}
        self.services = SortedModels(convert.service_from_raw)
        self.ingresses = SortedModels(convert.ingress_from_raw)
        self.tgbs = SortedModels(convert.tgb_from_raw)
        self.volume_claims = SortedModels(convert.volume_claim_from_raw)
        self.volumes = SortedModels(convert.volume_from_raw)
        self.newest_written: datetime | None = None  # the newest creationTimestamp of a node or pod
        self._node_types: dict[str, ComputeType] = {}
        self._pods_on_node: dict[str, set[Key]] = {}
        self._pods_by_ip: dict[str, set[Key]] = {}
        self._ips_changed = 0  # bumped whenever _pods_by_ip changes
        self._windows: list[EventWindow] = []
        self._events: tuple[tuple[Event, ...], ...] = ()
        self._merged_events: tuple[Event, ...] = ()
        self._lists_seen = -1
        self._joined: tuple[Any, int, dict[str, str | None], tuple[TargetGroup, ...]] | None = None

    # -- refresh from the stores --------------------------------------------------------------
    def refresh(self, reflectors: list[Reflector]) -> None:
        by_resource: dict[Resource, list[Reflector]] = {}
        for r in reflectors:
            by_resource.setdefault(r.resource, []).append(r)

        def apply(models: SortedModels, res: Resource, also: Iterable[Key] = ()) -> Diff:
            stores = [r.items for r in by_resource.get(res, ())]
            changed = set(also).union(*(s.take_changes() for s in stores))
            if len(stores) == 1:
                return models.apply(changed, stores[0].get)
            return models.apply(changed, lambda key: next((s[key] for s in stores if key in s), None))

        retyped = self._note_nodes(apply(self.nodes, NODES))
        self._windows = [r.items for r in by_resource.get(EVENTS, ()) if isinstance(r.items, EventWindow)]
        self._note_pods(apply(self.pods, PODS, retyped))
        for res, models in self.workloads.items():
            apply(models, res)
        for models, res in ((self.services, SERVICES), (self.ingresses, INGRESSES), (self.tgbs, TARGETGROUPBINDINGS),
                            (self.volume_claims, PERSISTENTVOLUMECLAIMS), (self.volumes, PERSISTENTVOLUMES)):
            apply(models, res)
        lists = sum(r.lists for res in (PODS, EVENTS) for r in by_resource.get(res, ()))
        if lists != self._lists_seen:
            # A list (first or after 410 Gone) may bring pull events of pods deleted meanwhile.
            self._lists_seen = lists
            live = {(p.namespace, p.name): p.uid for p in self.pods.models}
            for window in self._windows:
                window.retain_pulls_of(live)

    def _note_nodes(self, diff: Diff) -> set[Key]:
        """Track compute types by node name; the pods on a node whose type changed (a node that
        arrived after its pods) are to be converted again."""
        retyped: set[Key] = set()
        for old, new in diff:
            name = (new or old).name
            before = self._node_types.get(name)
            if new is None:
                self._node_types.pop(name, None)
            else:
                self._node_types[name] = new.compute_type
                self._note_written(new.created)
            if self._node_types.get(name) != before:
                retyped |= self._pods_on_node.get(name, set())
        return retyped

    def _note_pods(self, diff: Diff) -> None:
        for old, new in diff:
            either = new if new is not None else old
            key = (either.namespace, either.name)
            old_node, old_ip = (old.node, old.ip) if old is not None else ("", "")
            new_node, new_ip = (new.node, new.ip) if new is not None else ("", "")
            if old_node != new_node:
                _unindex(self._pods_on_node, old_node, key)
                _index(self._pods_on_node, new_node, key)
            if old_ip != new_ip:
                _unindex(self._pods_by_ip, old_ip, key)
                _index(self._pods_by_ip, new_ip, key)
                self._ips_changed += 1
            if new is not None:
                self._note_written(new.created)
            if new is None or old is None or old.uid != new.uid:
                for window in self._windows:
                    window.retain_pulls(key, new.uid if new is not None else None)

    def _note_written(self, created: datetime | None) -> None:
        if created is not None and (self.newest_written is None or created > self.newest_written):
            self.newest_written = created

    def _pod_marker(self, raw: Mapping[str, Any]) -> str:
        # A pod's compute type also depends on its node, which may arrive after the pod.
        node = (raw.get("spec") or {}).get("nodeName", "")
        return f"{_resource_version(raw)}|{self._node_types.get(node, '')}"

    def _pod_from_raw(self, raw: Mapping[str, Any]) -> Pod:
        return convert.pod_from_raw(raw, self._node_types)

    # -- what the snapshot holds --------------------------------------------------------------
    def workload_models(self) -> tuple:
        return tuple(w for models in self.workloads.values() for w in models.models)

    def events(self) -> tuple[Event, ...]:
        """Every window's events, oldest first (one window unless namespaces are chosen)."""
        parts = tuple(window.events() for window in self._windows)
        if len(parts) == 1:
            return parts[0]
        if parts != self._events:
            self._events = parts
            self._merged_events = tuple(heapq.merge(*parts, key=_oldest_first))
        return self._merged_events

    def pod_for_ip(self, ip: str) -> str | None:
        keys = self._pods_by_ip.get(ip)
        if not keys:
            return None
        namespace, name = max(keys)  # pods sharing an IP (host network): the last in pod order
        return f"{namespace}/{name}"

    def target_groups(self, groups: tuple[TargetGroup, ...]) -> tuple[TargetGroup, ...]:
        """The target groups with each target's pod (by IP), joined again only when the groups
        or the pods behind their targets changed."""
        if self._joined is not None and self._joined[0] is groups and self._joined[1] == self._ips_changed:
            return self._joined[3]
        wanted = {t.id: self.pod_for_ip(t.id) for tg in groups for t in tg.targets if t.pod is None}
        if self._joined is not None and self._joined[0] is groups and self._joined[2] == wanted:
            self._joined = (groups, self._ips_changed, wanted, self._joined[3])
            return self._joined[3]
        joined = tuple(
            replace(tg, targets=tuple(replace(t, pod=wanted[t.id]) if t.pod is None and wanted[t.id] else t
                                      for t in tg.targets))
            if any(t.pod is None and wanted[t.id] for t in tg.targets) else tg
            for tg in groups
        )
        self._joined = (groups, self._ips_changed, wanted, joined)
        return joined


def _oldest_first(event: Event) -> tuple:
    # The windows' own order: undated events count as the newest.
    return (event.last_seen.timestamp() if event.last_seen is not None else math.inf, event.namespace, event.name)


def _index(index: dict[str, set[Key]], value: str, key: Key) -> None:
    if value:
        index.setdefault(value, set()).add(key)


def _unindex(index: dict[str, set[Key]], value: str, key: Key) -> None:
    keys = index.get(value)
    if keys is not None:
        keys.discard(key)
        if not keys:
            del index[value]

