"""What the panels show beyond the raw snapshot: cost, start times and findings.

The rules live in iagent_tui.insights (one implementation for the product, the reports and the
sandbox); this module only calls them once per snapshot and reshapes the results into the small
records the panels need, so a panel never computes anything itself. Findings are recomputed only
when their inputs (workload versions, profiles, the CoreDNS add-on) change: a snapshot that only
moves a target from initial to healthy costs no compatibility scan.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from iagent_tui.insights.compatibility import check_workloads
from iagent_tui.insights.cost import PodCost, pod_hourly_cost, rollup
from iagent_tui.insights.pricing import RateCard, rate_card
from iagent_tui.insights.startup import pod_start_phases
from iagent_tui.model import EMPTY_MAP, Addon, Event, FargateProfile, Pod, Snapshot

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class StartTimes:
    """Seconds from pod creation to each phase (None while the phase has not happened)."""
    scheduled: float | None = None
    ready: float | None = None
    pull_seconds: float | None = None


@dataclass(frozen=True)
class FindingView:
    severity: str
    code: str
    object: str
    message: str
    fix: str = ""
    evidence: str = ""


@dataclass(frozen=True)
class Derived:
    pod_cost: Mapping[str, float] = field(default_factory=lambda: EMPTY_MAP)  # "ns/name" -> $/h
    pod_cost_projected: frozenset[str] = frozenset()  # not on Fargate yet: priced from requests
    profile_cost: Mapping[str, float] = field(default_factory=lambda: EMPTY_MAP)
    start: Mapping[str, StartTimes] = field(default_factory=lambda: EMPTY_MAP)
    findings: tuple[FindingView, ...] = ()
    start_target: float = 120.0
    fargate_hourly: float | None = None
    notes: tuple[str, ...] = ()  # why something could not be derived (unknown region...)


def frozen(data: dict) -> Mapping:
    return MappingProxyType(data)


def profile_as_api(p: FargateProfile) -> Mapping[str, Any]:
    """The EKS API shape the insights take (the monitor keeps DescribeFargateProfile as raw)."""
    if p.raw:
        return p.raw
    return {"fargateProfileName": p.name, "status": p.status, "subnets": list(p.subnets),
            "podExecutionRoleArn": p.pod_execution_role_arn,
            "selectors": [{"namespace": s.namespace, "labels": dict(s.labels)} for s in p.selectors]}


def addon_as_api(a: Addon) -> Mapping[str, Any]:
    if a.raw:
        return a.raw
    return {"addonName": a.name, "status": a.status, "addonVersion": a.version,
            "configurationValues": json.dumps(dict(a.configuration)) if a.configuration else ""}


def event_as_api(e: Event) -> Mapping[str, Any]:
    if e.raw:
        return e.raw
    stamp = e.last_seen.strftime("%Y-%m-%dT%H:%M:%SZ") if e.last_seen else None
    return {"involvedObject": {"kind": e.kind, "namespace": e.namespace, "name": e.name},
            "reason": e.reason, "message": e.message, "type": e.type, "count": e.count,
            "firstTimestamp": stamp, "lastTimestamp": stamp}


@dataclass(frozen=True)
class _PodFacts:
    pod: Pod                       # the object these facts were derived from (identity = unchanged)
    pulls: tuple[Event, ...]
    hourly: float | None
    billed: PodCost | None         # set when priced from CapacityProvisioned
    start: StartTimes


class Deriver:
    """Derives per snapshot, remembering what does not need recomputing: per-pod facts while the
    monitor hands over the same Pod object and pull events, findings while their inputs hold."""

    def __init__(self, start_target: float = 120.0, rate_overrides: Mapping[str, Any] | None = None) -> None:
        self.start_target = start_target
        self.rate_overrides = rate_overrides
        self._findings_key: Any = None
        self._findings: tuple[FindingView, ...] = ()
        self._pods: dict[str, _PodFacts] = {}
        self._region = ""

    def __call__(self, snap: Snapshot) -> Derived:
        notes: list[str] = []
        region = snap.cluster.region if snap.cluster else ""
        rates: RateCard | None = None
        if region:
            try:
                rates = rate_card(region, self.rate_overrides)
            except ValueError as exc:
                notes.append(str(exc))  # unknown region: costs shown as "-", never guessed
        if region != self._region:
            self._pods.clear()
            self._region = region
        facts = self._pod_facts(snap, rates)
        pod_cost = {key: f.hourly for key, f in facts.items() if f.hourly is not None}
        projected = {key for key, f in facts.items() if f.hourly is not None and f.billed is None}
        billed = [f.billed for f in facts.values() if f.billed is not None]
        profile_cost = {row.key: row.hourly for row in rollup(billed, rates, "profile")} if rates else {}
        return Derived(pod_cost=frozen(pod_cost), pod_cost_projected=frozenset(projected),
                       profile_cost=frozen(profile_cost),
                       start=frozen({key: f.start for key, f in facts.items()}),
                       findings=self._findings_for(snap, rates), start_target=self.start_target,
                       fargate_hourly=sum(c.hourly for c in billed) if rates else None, notes=tuple(notes))

    def _pod_facts(self, snap: Snapshot, rates: RateCard | None) -> dict[str, _PodFacts]:
        pulls: dict[tuple[str, str], list[Event]] = {}
        for e in snap.events:
            if e.kind == "Pod" and e.reason in ("Pulling", "Pulled"):
                pulls.setdefault((e.namespace, e.name), []).append(e)
        facts: dict[str, _PodFacts] = {}
        for pod in snap.pods:
            if not pod.raw:
                continue
            mine = tuple(pulls.get((pod.namespace, pod.name), ()))
            known = self._pods.get(pod.key)
            if known is None or known.pod is not pod or known.pulls != mine:
                known = _derive_pod(pod, mine, rates)
            facts[pod.key] = known
        self._pods = facts  # forget pods that are gone
        return facts

    def _findings_for(self, snap: Snapshot, rates: RateCard | None) -> tuple[FindingView, ...]:
        bare_pods = [p for p in snap.pods if p.raw and not p.owner_kind]
        key = (tuple((w.key, _version(w.raw)) for w in snap.workloads),
               tuple((p.key, _version(p.raw)) for p in bare_pods),
               tuple((p.name, p.status) for p in snap.profiles),
               tuple((a.name, a.status, a.compute_type) for a in snap.addons),
               tuple((s.key, _version(s.raw)) for s in snap.services),
               tuple((i.namespace, i.name, _version(i.raw)) for i in snap.ingresses),
               tuple(str(r) for r in snap.pod_execution_roles),
               rates.region if rates else "")
        if key != self._findings_key:
            found = check_workloads(
                [w.raw for w in snap.workloads if w.raw] + [p.raw for p in bare_pods],
                profiles=[profile_as_api(p) for p in snap.profiles] if snap.profiles or snap.cluster else None,
                services=[s.raw for s in snap.services if s.raw],
                ingresses=[i.raw for i in snap.ingresses if i.raw],
                pod_execution_roles=list(snap.pod_execution_roles),
                coredns_addon=next((addon_as_api(a) for a in snap.addons if a.name == "coredns"), None),
                rates=rates)
            self._findings = tuple(FindingView(f.severity, f.code, f.object, f.message, f.fix, f.evidence)
                                   for f in found)
            self._findings_key = key
        return self._findings


def _version(raw: Mapping[str, Any]) -> str:
    meta = raw.get("metadata") or {}
    return str(meta.get("resourceVersion") or meta.get("uid") or id(raw))


def _derive_pod(pod: Pod, pulls: tuple[Event, ...], rates: RateCard | None) -> _PodFacts:
    hourly: float | None = None
    billed: PodCost | None = None
    if rates is not None and pod.phase not in ("Succeeded", "Failed"):
        cost = pod_hourly_cost(pod.raw, rates)
        hourly = cost.hourly
        if hourly is not None and cost.basis == "provisioned":
            billed = cost
    phases = pod_start_phases(pod.raw, [event_as_api(e) for e in pulls])
    return _PodFacts(pod, pulls, hourly, billed,
                     StartTimes(phases.to_scheduled, phases.to_ready, phases.image_pull))


def derive(snapshot: Snapshot, start_target: float = 120.0,
           rate_overrides: Mapping[str, Any] | None = None) -> Derived:
    """One-off derivation (no caching across snapshots)."""
    return Deriver(start_target, rate_overrides)(snapshot)
