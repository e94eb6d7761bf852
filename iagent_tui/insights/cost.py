"""What Fargate pods cost, per pod and rolled up per workload, namespace and profile.

The billed size is the pod's ``CapacityProvisioned`` annotation ("it determines the cost of your
Pod running on Fargate", DOMAIN.md 1.3) and never the node's capacity, which is unrelated. A pod
without the annotation (still on EC2, or Pending) is *projected* from its requests with the same
rule fargate-scheduler applies (``sizing.fargate_size``); ``basis`` says which.

Waste is provisioned minus requested, in vCPU, GB and dollars. It includes the 0.25 GB Fargate
reserves for kubelet/kube-proxy/containerd, which no request can avoid; ``rounding_waste_hourly``
leaves that reservation out and is what the "bad rounding" finding looks at.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Literal

from ..model import Pod
from .pricing import HOURS_PER_MONTH, RateCard
from .quantities import GIB
from .sizing import (
    KUBERNETES_COMPONENTS_MIB,
    ExactRequest,
    FargateSize,
    billable_ephemeral_gib_of,
    parse_capacity_provisioned,
    pod_request_exact,
    size_for,
)
from .workloads import workload_of

Basis = Literal["provisioned", "projected"]
RESERVED_GB = KUBERNETES_COMPONENTS_MIB / 1024
NO_PROFILE = "(no profile)"


@dataclass(frozen=True)
class PodCost:
    namespace: str
    name: str
    workload: str  # "Deployment prod/api"
    profile: str | None  # eks.amazonaws.com/fargate-profile label, None when not on Fargate
    basis: Basis  # provisioned = CapacityProvisioned annotation; projected = from requests
    size: FargateSize | None  # None: too large for Fargate, cannot be priced
    requested_vcpu: float
    requested_gb: float
    compute_hourly: float | None
    ephemeral_hourly: float | None  # None when storage is billable but the region has no rate
    note: str = ""

    @property
    def hourly(self) -> float | None:
        if self.compute_hourly is None:
            return None
        return self.compute_hourly + (self.ephemeral_hourly or 0.0)

    @property
    def monthly(self) -> float | None:
        hourly = self.hourly
        return None if hourly is None else hourly * HOURS_PER_MONTH

    @property
    def waste_vcpu(self) -> float:
        return 0.0 if self.size is None else max(0.0, self.size.vcpu - self.requested_vcpu)

    @property
    def waste_gb(self) -> float:
        return 0.0 if self.size is None else max(0.0, self.size.memory_gb - self.requested_gb)


def _waste_dollars(cost: PodCost, rates: RateCard, reserved_gb: float) -> float:
    if cost.size is None:
        return 0.0
    return rates.hourly(cost.waste_vcpu, max(0.0, cost.waste_gb - reserved_gb))


def waste_hourly(cost: PodCost, rates: RateCard) -> float:
    """Dollars per hour paid for capacity nobody requested (including the 0.25 GB reservation)."""
    return _waste_dollars(cost, rates, 0.0)


def rounding_waste_hourly(cost: PodCost, rates: RateCard) -> float:
    """Dollars per hour lost to rounding up to a supported size (reservation excluded)."""
    return _waste_dollars(cost, rates, RESERVED_GB)


def pod_hourly_cost(pod: Pod, rates: RateCard) -> PodCost:
    """Cost of one pod, from its CapacityProvisioned annotation when present, else projected."""
    annotation = pod.capacity_provisioned or None
    basis: Basis = "projected"
    note = ""
    try:
        exact = pod_request_exact(pod.spec)
    except ValueError as exc:
        # Only reachable with objects the API server would have refused; keep the bill if known.
        exact, note = ExactRequest(0, 0, 0), f"requests unreadable: {exc}"
    size: FargateSize | None = None
    if annotation is not None:
        try:
            size, basis = parse_capacity_provisioned(annotation), "provisioned"
        except ValueError as exc:
            note = f"{exc}; projected from requests instead"
    if basis == "projected" and not note.startswith("requests unreadable"):
        size = size_for(exact.millicores, exact.memory_bytes)
        if size is None:
            note = note or "too large for Fargate (over 16 vCPU / 120 GB)"
    ephemeral_gib = billable_ephemeral_gib_of(exact.ephemeral_bytes)
    if ephemeral_gib == 0:
        ephemeral_hourly: float | None = 0.0
    elif rates.ephemeral_gb_hour is None:
        ephemeral_hourly = None
        note = note or f"{ephemeral_gib} GiB extra ephemeral storage unpriced: no rate for {rates.region}"
    else:
        ephemeral_hourly = ephemeral_gib * rates.ephemeral_gb_hour
    return PodCost(
        namespace=pod.namespace or "default",
        name=pod.name or "?",
        workload=str(workload_of(pod)),
        profile=pod.fargate_profile or None,
        basis=basis,
        size=size,
        requested_vcpu=exact.millicores / 1000,
        requested_gb=exact.memory_bytes / GIB,
        compute_hourly=None if size is None else rates.hourly(size.vcpu, size.memory_gb),
        ephemeral_hourly=ephemeral_hourly,
        note=note,
    )


@dataclass(frozen=True)
class CostRollup:
    key: str
    pods: int
    provisioned_pods: int  # pods billed now (CapacityProvisioned present)
    hourly: float  # provisioned and projected pods together
    provisioned_hourly: float
    waste_hourly: float
    rounding_waste_hourly: float
    unpriced_pods: int  # too large, or storage without a rate: not in the sums

    @property
    def monthly(self) -> float:
        return self.hourly * HOURS_PER_MONTH

    @property
    def provisioned_monthly(self) -> float:
        return self.provisioned_hourly * HOURS_PER_MONTH


GroupBy = Literal["workload", "namespace", "profile"]


def _group_key(cost: PodCost, by: GroupBy) -> str:
    key = cost.workload if by == "workload" else cost.namespace if by == "namespace" else cost.profile
    return key or NO_PROFILE


def hourly_by(costs: Iterable[PodCost], by: GroupBy) -> dict[str, float]:
    """The hourly totals of ``rollup`` alone (what the dashboard shows per row), without the
    waste figures: one pass, no rate card needed."""
    totals: dict[str, float] = {}
    for cost in costs:
        key = _group_key(cost, by)
        priced = cost.hourly is not None and cost.ephemeral_hourly is not None
        totals[key] = totals.get(key, 0.0) + (cost.hourly if priced else 0.0)  # type: ignore[operator]
    return totals


def rollup(costs: Iterable[PodCost], rates: RateCard, by: GroupBy) -> list[CostRollup]:
    """Totals per workload, namespace or profile, most expensive first (ties by key)."""
    if by not in ("workload", "namespace", "profile"):
        raise ValueError(f"cannot roll costs up by {by!r}; use workload, namespace or profile")
    groups: dict[str, list[PodCost]] = defaultdict(list)
    for cost in costs:
        groups[_group_key(cost, by)].append(cost)
    result = []
    for key, members in groups.items():
        priced = [c for c in members if c.hourly is not None and c.ephemeral_hourly is not None]
        result.append(
            CostRollup(
                key=key,
                pods=len(members),
                provisioned_pods=sum(c.basis == "provisioned" for c in members),
                hourly=sum(c.hourly for c in priced),
                provisioned_hourly=sum(c.hourly for c in priced if c.basis == "provisioned"),
                waste_hourly=sum(waste_hourly(c, rates) for c in priced),
                rounding_waste_hourly=sum(rounding_waste_hourly(c, rates) for c in priced),
                unpriced_pods=len(members) - len(priced),
            )
        )
    return sorted(result, key=lambda r: (-r.hourly, r.key))
