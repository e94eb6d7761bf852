"""What the panels show beyond the raw snapshot: cost, start times and findings.

The rules live in iagent_tui.insights (one implementation for the product, the reports and the
sandbox); this module only calls them once per snapshot and reshapes the results into the small
records the panels need, so a panel never computes anything itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from iagent_tui.insights.cost import pod_hourly_cost, rollup
from iagent_tui.insights.pricing import rate_card
from iagent_tui.model import EMPTY_MAP, Snapshot

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class StartTimes:
    """Seconds from pod creation to each phase (None while the phase has not happened)."""
    scheduled: float | None = None
    pulled: float | None = None
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


def derive(snapshot: Snapshot, start_target: float = 120.0,
           rate_overrides: Mapping | None = None) -> Derived:
    """Cost, start times and findings for one snapshot (see iagent_tui.insights)."""
    pod_cost, projected, profile_cost, fargate_hourly = _costs(snapshot, rate_overrides)
    return Derived(pod_cost=frozen(pod_cost), pod_cost_projected=frozenset(projected),
                   profile_cost=frozen(profile_cost), start_target=start_target,
                   fargate_hourly=fargate_hourly)


def _costs(snapshot: Snapshot, rate_overrides: Mapping | None):
    pod_cost: dict[str, float] = {}
    projected: set[str] = set()
    profile_cost: dict[str, float] = {}
    region = snapshot.cluster.region if snapshot.cluster else ""
    try:
        rates = rate_card(region, rate_overrides)
    except ValueError:
        return pod_cost, projected, profile_cost, None  # unknown region: shown as "-", not guessed
    costs = []
    for pod in snapshot.pods:
        if not pod.raw or pod.phase in ("Succeeded", "Failed"):
            continue
        cost = pod_hourly_cost(pod.raw, rates)
        if cost.hourly is None:
            continue
        pod_cost[pod.key] = cost.hourly
        if cost.basis != "provisioned":
            projected.add(pod.key)
        else:
            costs.append(cost)
    for row in rollup(costs, rates, "profile"):
        profile_cost[row.key] = row.hourly
    return pod_cost, projected, profile_cost, sum(c.hourly for c in costs) if costs else 0.0


def findings_worst_first(findings: list[FindingView]) -> tuple[FindingView, ...]:
    return tuple(sorted(findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.code, f.object)))


def frozen(data: dict) -> Mapping:
    return MappingProxyType(data)
