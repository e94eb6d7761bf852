"""The one entry point every view reads: ``assess(snapshot, settings) -> Assessment``.

Everything the dashboard, ``status``, ``doctor``, the walkthrough and the actions' plans show
beyond the raw snapshot is computed here, once per snapshot: Fargate cost per pod, workload,
namespace and profile; start-time phases; one list of Findings (the compatibility checks and the
running-state rules together, merged so one fault has one code); the migration steps.

``Assessor`` is the same computation with memory, for a live dashboard: per-pod facts are kept
while the monitor hands over the same Pod object, and the compatibility scan runs again only when
its inputs (workload versions, profiles, services, ingresses, roles) change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..model import EMPTY_MAP, EMPTY_POD_TEMPLATE, Event, Pod, Snapshot
from .codes import CODES
from .compatibility import check_workloads
from .business_case import BusinessCase, business_case
from .cost import PodCost, hourly_by, pod_hourly_cost
from .doctor import EXIT_ERRORS, EXIT_HEALTHY, EXIT_WARNINGS, Rule, run_rules
from .doctor_model import Context, NotEvaluated
from .finding import CATEGORY_RANK, SEVERITY_RANK, Finding, count_by_severity, merge_findings, worst_severity
from .ec2_pricing import ec2_prices
from .pricing import RateCard, rate_card
from .profiles import wildcard_match
from .startup import StartPhases, pod_start_phases

if TYPE_CHECKING:  # the settings object is only read
    from ..config import Settings
    from .migration import Step

# What the compatibility checks read; any failing means they were not evaluated.
COMPATIBILITY_SOURCES = ("deployments", "daemonsets", "statefulsets", "pods")
COMPATIBILITY_CODES = tuple(code for code in CODES if code.startswith("FG") and code != "FG023")


@dataclass(frozen=True)
class StartTimes:
    """Seconds from pod creation to each phase (None while the phase has not happened)."""
    scheduled: float | None = None
    ready: float | None = None
    pull_seconds: float | None = None


@dataclass(frozen=True)
class Assessment:
    findings: tuple[Finding, ...] = ()            # worst first, one per (code, object)
    not_evaluated: tuple[NotEvaluated, ...] = ()  # checks skipped because a source failed
    pod_cost: Mapping[str, float] = field(default_factory=lambda: EMPTY_MAP)  # "ns/name" -> $/h
    pod_cost_projected: frozenset[str] = frozenset()  # not on Fargate (yet): priced from requests
    workload_cost: Mapping[str, float] = field(default_factory=lambda: EMPTY_MAP)  # billed $/h
    namespace_cost: Mapping[str, float] = field(default_factory=lambda: EMPTY_MAP)
    profile_cost: Mapping[str, float] = field(default_factory=lambda: EMPTY_MAP)
    fargate_hourly: float | None = None           # billed now (CapacityProvisioned); None: no rates
    start: Mapping[str, StartTimes] = field(default_factory=lambda: EMPTY_MAP)
    start_target: float = 120.0
    steps: tuple["Step", ...] = ()                # the migration walkthrough's steps
    notes: tuple[str, ...] = ()                   # why something could not be computed
    rates: RateCard | None = None
    business_case: BusinessCase | None = None     # cost now vs after the migration; None: no rates

    def count(self) -> dict[str, int]:
        return count_by_severity(self.findings)

    def by_category(self, category: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.category == category)

    def for_namespace(self, namespace: str | None) -> "Assessment":
        """Only this namespace's findings and the cluster-wide ones (DNS, profiles, sources)."""
        if namespace is None:
            return self
        return replace(self, findings=tuple(f for f in self.findings if f.namespace in ("", namespace)))

    @property
    def exit_code(self) -> int:
        """What a check command exits with: 0 nothing worse than info, 1 warnings, 2 errors."""
        worst = worst_severity(self.findings)
        return EXIT_ERRORS if worst == "error" else EXIT_WARNINGS if worst == "warning" else EXIT_HEALTHY


def _frozen(data: dict) -> Mapping:
    return MappingProxyType(data)


def _profiles_known(snap: Snapshot) -> bool:
    """Whether "no profile selects it" can be judged: profiles were read (or at least the cluster)."""
    state = snap.sources.get("fargate_profiles")
    if state is not None:
        return state.ok
    return bool(snap.profiles) or snap.cluster is not None


def _read(snap: Snapshot, source: str) -> bool:
    """Whether a source's data can be judged: read fine (a snapshot without the source at all — a
    hand-built one — counts as read, holding what it holds)."""
    state = snap.sources.get(source)
    return state is None or state.ok


def _bare_pods(snap: Snapshot) -> list[Pod]:
    """Pods no controller owns: nothing else carries their template, so they are checked themselves."""
    return [p for p in snap.pods if not p.owner_kind]


def compatibility_findings(snap: Snapshot, rates: RateCard | None) -> list[Finding]:
    # A workload whose template is unknown (a hand-built record) has nothing to judge.
    templated = [w for w in snap.workloads if w.template is not EMPTY_POD_TEMPLATE]
    return check_workloads(
        [*templated, *_bare_pods(snap)],
        profiles=snap.profiles if _profiles_known(snap) else None,
        pvcs=snap.volume_claims if _read(snap, "persistentvolumeclaims") else None,
        pvs=snap.volumes if _read(snap, "persistentvolumes") else None,
        services=snap.services,
        ingresses=snap.ingresses,
        pod_execution_roles=list(snap.pod_execution_roles),
        rates=rates)


@dataclass(frozen=True)
class _PodFacts:
    pod: Pod                       # the object these facts were derived from (identity = unchanged)
    pulls: tuple[Event, ...]
    cost: PodCost | None
    start: StartTimes
    phases: StartPhases


def _derive_pod(pod: Pod, pulls: tuple[Event, ...], rates: RateCard | None) -> _PodFacts:
    cost = pod_hourly_cost(pod, rates) if rates is not None and pod.phase not in ("Succeeded", "Failed") else None
    phases = pod_start_phases(pod, pulls)
    return _PodFacts(pod, pulls, cost, StartTimes(phases.to_scheduled, phases.to_ready, phases.image_pull), phases)


@dataclass(frozen=True)
class _Rollups:
    """Cost totals per workload, namespace and profile, and the billed total, of one list of
    billed pod costs. Kept while the list holds the very same PodCost objects: at 5,000 pods the
    three rollups were a third of a derivation (measured) and change only when a pod does."""
    billed: tuple[PodCost, ...]
    rates: RateCard
    workload: Mapping[str, float]
    namespace: Mapping[str, float]
    profile: Mapping[str, float]
    hourly: float

    @classmethod
    def of(cls, billed: tuple[PodCost, ...], rates: RateCard) -> "_Rollups":
        totals = {by: _frozen(hourly_by(billed, by)) for by in ("workload", "namespace", "profile")}
        return cls(billed, rates, totals["workload"], totals["namespace"], totals["profile"],
                   sum(c.hourly for c in billed if c.hourly is not None))

    def same(self, billed: tuple[PodCost, ...], rates: RateCard) -> bool:
        return rates == self.rates and len(billed) == len(self.billed) \
            and all(a is b for a, b in zip(billed, self.billed))


def _version(obj: Any) -> str:
    """What changes when the object does: its resourceVersion; a hand-built record (none) is
    judged by identity, as the monitor hands over the same record while nothing changed."""
    return obj.resource_version or str(id(obj))


class Assessor:
    """``assess`` with memory across the snapshots of one monitor (see the module docstring)."""

    def __init__(self, start_target: float = 120.0, rate_overrides: Mapping[str, Any] | None = None,
                 planned: Sequence[str] = ("default", "prod", "staging"),
                 stuck_profile_seconds: float = 600.0, discount_percent: float = 0.0,
                 headroom_percent: float = 20.0) -> None:
        if start_target <= 0:
            raise ValueError(f"start-time target must be positive, got {start_target}")
        self.start_target = start_target
        self.rate_overrides = rate_overrides
        self.planned = tuple(planned)
        self.stuck_profile_seconds = stuck_profile_seconds
        if not 0 <= discount_percent < 100:
            raise ValueError(f"discount must be at least 0 and below 100 percent, got {discount_percent}")
        self.discount_percent = discount_percent
        self.headroom_percent = headroom_percent
        self._compat_key: Any = None
        self._compat: list[Finding] = []
        self._pods: dict[str, _PodFacts] = {}
        self._rollups: _Rollups | None = None
        self._region = ""

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Assessor":
        return cls(float(settings.startup_target_seconds), settings.rate_overrides(), tuple(settings.fargate.namespaces),
                   discount_percent=settings.pricing_discount_percent,
                   headroom_percent=settings.rightsizing.headroom_percent)

    def __call__(self, snap: Snapshot) -> Assessment:
        from .migration import migration_steps  # it reads a built Assessment

        notes: list[str] = []
        region = snap.cluster.region if snap.cluster else ""
        rates: RateCard | None = None
        if region:
            try:
                rates = rate_card(region, self.rate_overrides)
            except ValueError as exc:
                notes.append(f"costs not computed: {exc}")  # unknown region: shown as "-", never guessed
        if region != self._region:
            self._pods.clear()
            self._region = region
        facts = self._pod_facts(snap, rates)
        costs = {key: f.cost for key, f in facts.items() if f.cost is not None}
        for key, cost in sorted(costs.items()):
            if cost.hourly is None and cost.basis == "provisioned":
                notes.append(f"pod {key} not priced: {cost.note or 'no size'}")
        billed = tuple(c for c in costs.values() if c.basis == "provisioned" and c.hourly is not None)
        totals = None
        if rates is not None:
            if self._rollups is None or not self._rollups.same(billed, rates):
                self._rollups = _Rollups.of(billed, rates)
            totals = self._rollups
        findings, skipped = self._findings(snap, rates)
        case = None
        if rates is not None:
            try:
                case = business_case(snap, findings, costs, rates, ec2_prices(region, self.rate_overrides),
                                     self.discount_percent, snap.usage, self.headroom_percent)
            except ValueError as exc:
                notes.append(f"business case not computed: {exc}")
        assessment = Assessment(
            findings=findings, not_evaluated=skipped,
            pod_cost=_frozen({k: c.hourly for k, c in costs.items() if c.hourly is not None}),
            pod_cost_projected=frozenset(k for k, c in costs.items() if c.hourly is not None and c.basis == "projected"),
            workload_cost=totals.workload if totals else EMPTY_MAP,
            namespace_cost=totals.namespace if totals else EMPTY_MAP,
            profile_cost=totals.profile if totals else EMPTY_MAP,
            fargate_hourly=totals.hourly if totals else None,
            start=_frozen({key: f.start for key, f in facts.items()}),
            start_target=self.start_target, notes=tuple(notes), rates=rates, business_case=case)
        return replace(assessment, steps=tuple(migration_steps(snap, assessment, self.planned)))

    def _pod_facts(self, snap: Snapshot, rates: RateCard | None) -> dict[str, _PodFacts]:
        pulls: dict[tuple[str, str], list[Event]] = {}
        for e in snap.events:
            if e.kind == "Pod" and e.reason in ("Pulling", "Pulled"):
                pulls.setdefault((e.namespace, e.name), []).append(e)
        facts: dict[str, _PodFacts] = {}
        for pod in snap.pods:
            mine = tuple(pulls.get((pod.namespace, pod.name), ()))
            known = self._pods.get(pod.key)
            if known is None or known.pod is not pod or known.pulls != mine:
                known = _derive_pod(pod, mine, rates)
            facts[pod.key] = known
        self._pods = facts  # forget pods that are gone
        return facts

    def _compatibility(self, snap: Snapshot, rates: RateCard | None) -> list[Finding]:
        key = (tuple((w.key, _version(w)) for w in snap.workloads),
               tuple((p.key, _version(p)) for p in _bare_pods(snap)),
               tuple((p.name, p.status) for p in snap.profiles), _profiles_known(snap),
               tuple((s.key, _version(s)) for s in snap.services),
               tuple((c.namespace, c.name, _version(c)) for c in snap.volume_claims),
               tuple(v.name for v in snap.volumes),
               _read(snap, "persistentvolumeclaims"), _read(snap, "persistentvolumes"),
               tuple((i.namespace, i.name, _version(i)) for i in snap.ingresses),
               tuple(str(r) for r in snap.pod_execution_roles),
               rates.region if rates else "")
        if key != self._compat_key:
            self._compat = [self._outside_plan(f, snap) for f in compatibility_findings(snap, rates)]
            self._compat_key = key
        return self._compat

    def _outside_plan(self, finding: Finding, snap: Snapshot) -> Finding:
        """A blocker on a workload the migration leaves on EC2 — its namespace is not in the plan
        (settings fargate.namespaces) and no profile selects it — is the brief's hybrid approach
        working as meant, not a failure in waiting: it is kept, as info."""
        namespace = finding.namespace
        if finding.category != "blocker" or not namespace or namespace in self.planned:
            return finding
        if any(wildcard_match(s.namespace, namespace) for p in snap.profiles for s in p.selectors):
            return finding
        return replace(finding, severity="info", evidence=(
            *finding.evidence, f"stays on EC2: namespace {namespace} is not in the migration plan "
                               f"({', '.join(self.planned) or 'none'}) and no Fargate profile selects it"))

    def _findings(self, snap: Snapshot, rates: RateCard | None) -> tuple[tuple[Finding, ...], tuple[NotEvaluated, ...]]:
        ctx = Context(snap, start_target_seconds=self.start_target, stuck_profile_seconds=self.stuck_profile_seconds,
                      start_phases={key: facts.phases for key, facts in self._pods.items()})
        compat = Rule("Fargate compatibility of workloads", COMPATIBILITY_CODES, COMPATIBILITY_SOURCES,
                      lambda _ctx: self._compatibility(snap, rates))
        found, skipped = run_rules(ctx, extra=(compat,))
        ordered = sorted(merge_findings(found), key=lambda f: (SEVERITY_RANK[f.severity], CATEGORY_RANK[f.category],
                                                              f.code, f.object))
        return tuple(ordered), tuple(skipped)


def assess(snapshot: Snapshot, settings: "Settings | None" = None) -> Assessment:
    """Everything the views show about one snapshot (one-off: no memory across snapshots).
    Without settings, the defaults (two-minute start target, the brief's three namespaces)."""
    return (Assessor.from_settings(settings) if settings is not None else Assessor())(snapshot)


__all__ = ["Assessment", "Assessor", "StartTimes", "assess", "compatibility_findings"]
