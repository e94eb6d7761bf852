"""The business case: what the cluster's compute costs now and after the migration, per namespace.

Rules (every one is listed in ``BusinessCase.assumptions`` so a reader of the report sees them):

* **EC2 now** = every EC2 node priced at its instance type's on-demand rate (``ec2_pricing``).
  A pod's share of its node is its requests weighted as Fargate's rates weight them
  (vCPU x vCPU-hour rate + GiB x GB-hour rate) over the node's capacity weighted the same way;
  what no request claims is shown as ``(unallocated)``, never spread over the workloads.
* **Fargate now** = the pods billed by ``CapacityProvisioned`` (``cost.py``).
* **After**: pods whose workload has an error-level *blocker* finding (DaemonSet, EBS volume,
  privileged, …: read from the Assessment's findings, not re-derived) stay on EC2, as do
  DaemonSets (they run on every node that remains); every other pod runs on Fargate at its
  CapacityProvisioned size, or, still on EC2, at the size the sizing rule gives its requests.
  The stay-on-EC2 pods get the smallest node group that fits them (``ec2_fit``) — not zero.
* Monthly = hourly x 730. A Savings Plans discount (``pricing.discount_percent``, 0 by default)
  is applied to EC2 and Fargate alike, as Compute Savings Plans cover both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..model import Pod, Snapshot
from .codes import CODES
from .cost import PodCost, rounding_waste_hourly
from .ec2_fit import NodeGroupFit, Request, smallest_node_group
from .ec2_pricing import PRICES_CHECKED, PRICES_SOURCE, SHAPES
from .finding import Finding
from .pricing import HOURS_PER_MONTH, RateCard
from .quantities import GIB
from .rightsizing import DEFAULT_HEADROOM_PERCENT, RightSizing, rightsize
from .sizing import pod_request_exact
from .usage import UsageSummary
from .workloads import workload_of

UNALLOCATED = "(unallocated)"
NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup"


class _Comparison:
    """Before against after, as requested and as right-sized: the same arithmetic for one
    namespace and for the whole cluster (which sums its namespaces)."""
    ec2_hourly: float
    fargate_hourly: float
    fargate_projected_hourly: float
    ec2_remaining_hourly: float
    fargate_rightsized_hourly: float | None

    @property
    def before_hourly(self) -> float:
        return self.ec2_hourly + self.fargate_hourly

    @property
    def after_hourly(self) -> float:
        return self.fargate_projected_hourly + self.ec2_remaining_hourly

    @property
    def savings_percent(self) -> float | None:
        return savings_percent(self.before_hourly, self.after_hourly)

    @property
    def after_rightsized_hourly(self) -> float | None:
        r = self.fargate_rightsized_hourly
        return None if r is None else r + self.ec2_remaining_hourly

    @property
    def savings_rightsized_percent(self) -> float | None:
        after = self.after_rightsized_hourly
        return None if after is None else savings_percent(self.before_hourly, after)


@dataclass(frozen=True)
class NamespaceCase(_Comparison):
    namespace: str
    ec2_hourly: float = 0.0                 # share of the EC2 nodes now
    fargate_hourly: float = 0.0             # billed on Fargate now
    fargate_projected_hourly: float = 0.0   # on Fargate after the migration
    ec2_remaining_hourly: float = 0.0       # share of the node group that remains
    fargate_rightsized_hourly: float | None = None  # Fargate after, right-sized; None: not evaluated


@dataclass(frozen=True)
class NodeCost:
    node: str
    nodegroup: str
    instance_type: str
    hourly: float | None  # None: no price for the instance type


@dataclass(frozen=True)
class BusinessCase(_Comparison):
    region: str
    hours_per_month: float
    discount_percent: float
    nodes: tuple[NodeCost, ...]
    namespaces: tuple[NamespaceCase, ...]    # by namespace name; UNALLOCATED last
    workload_ec2_hourly: Mapping[str, float]  # "Deployment/prod/api" -> share of EC2 now
    stays_on_ec2: tuple[str, ...]            # pod keys (DaemonSet pods not included)
    daemonsets: tuple[str, ...]              # DaemonSets counted on every remaining node
    remaining: NodeGroupFit | None           # None: no priced instance type fits
    rounding_waste_hourly: float             # Fargate after: paid for rounding up to a size
    assumptions: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    rightsizing: RightSizing | None = None   # None: not evaluated, rightsizing_note says why
    rightsizing_note: str = ""

    def _sum(self, attr: str) -> float:
        return sum(getattr(n, attr) for n in self.namespaces)

    @property
    def ec2_hourly(self) -> float:
        return self._sum("ec2_hourly")

    @property
    def fargate_hourly(self) -> float:
        return self._sum("fargate_hourly")

    @property
    def fargate_projected_hourly(self) -> float:
        return self._sum("fargate_projected_hourly")

    @property
    def ec2_remaining_hourly(self) -> float:
        return self._sum("ec2_remaining_hourly")


    @property
    def fargate_rightsized_hourly(self) -> float | None:
        return None if self.rightsizing is None else self._sum("fargate_rightsized_hourly")

    def monthly(self, hourly: float) -> float:
        return hourly * self.hours_per_month


def savings_percent(before: float, after: float) -> float | None:
    """(before - after) / before in percent; None when nothing is spent before."""
    return None if before <= 0 else (before - after) / before * 100


def _weight(millicores: float, memory_bytes: float, rates: RateCard) -> float:
    """Requests weighted as Fargate's rates weight them: what they would cost per hour there."""
    return millicores / 1000 * rates.vcpu_hour + memory_bytes / GIB * rates.gb_hour


def _request(pod: Pod) -> Request:
    try:
        exact = pod_request_exact(pod.spec)
    except ValueError:  # unparsable quantities: a finding says so; the pod claims nothing here
        return Request(pod.key, 0, 0)
    return Request(pod.key, exact.millicores, exact.memory_bytes)


def _share_node(price: float, instance_type: str, pods: Iterable[tuple[str, Request]], rates: RateCard,
                shares: dict[str, float]) -> None:
    """Add each pod's share of one node's price to ``shares`` (by namespace key given), the rest
    to UNALLOCATED."""
    shape = SHAPES[instance_type]
    capacity = _weight(shape.vcpu * 1000, shape.memory_gib * GIB, rates)
    claimed = 0.0
    for key, request in pods:
        part = price * min(1.0, _weight(request.millicores, request.memory_bytes, rates) / capacity)
        part = min(part, price - claimed)  # over-committed requests cannot claim more than the node
        shares[key] += part
        claimed += part
    shares[UNALLOCATED] += price - claimed


def stay_on_ec2_objects(findings: Sequence[Finding]) -> frozenset[str]:
    """Objects ("Kind/ns/name") with a blocker whose code is an error by definition: they cannot
    run on Fargate as they are. The finding's own severity is not used, because a blocker outside
    the migration plan is shown as info yet still keeps its workload on EC2."""
    return frozenset(f.object for f in findings
                     if f.category == "blocker" and CODES.get(f.code) is not None and CODES[f.code].severity == "error")


def _live(pod: Pod) -> bool:
    return pod.phase not in ("Succeeded", "Failed") and not pod.deleting


def _rightsizing(after: list[tuple[Pod, PodCost]], usage: UsageSummary | None, rates: RateCard,
                 headroom_percent: float) -> tuple[RightSizing | None, str]:
    """Right-sizing of the Fargate-after pods, or None and why it was not evaluated."""
    if usage is None:
        return None, ("not evaluated: no usage sampled (the dashboard samples metrics-server while it runs; "
                      "headless: --usage-window 10m)")
    if usage.not_evaluated:
        return None, f"not evaluated: {usage.not_evaluated}"
    if not usage.stats:
        return None, "not evaluated: no usage samples yet (metrics.k8s.io served no PodMetrics for these pods)"
    return rightsize(after, usage, rates, headroom_percent), ""


def business_case(snap: Snapshot, findings: Sequence[Finding], pod_costs: Mapping[str, PodCost], rates: RateCard,
                  ec2_prices: Mapping[str, float], discount_percent: float = 0.0, usage: UsageSummary | None = None,
                  headroom_percent: float = DEFAULT_HEADROOM_PERCENT) -> BusinessCase:
    """The comparison for one snapshot (see the module docstring for every rule)."""
    factor = 1 - discount_percent / 100
    notes: list[str] = []
    pods = [p for p in snap.pods if _live(p)]
    by_node: dict[str, list[Pod]] = defaultdict(list)
    for pod in pods:
        by_node[pod.node].append(pod)

    ec2_now: dict[str, float] = defaultdict(float)
    workload_share: dict[str, float] = defaultdict(float)
    node_costs = []
    for node in sorted((n for n in snap.nodes if n.compute_type == "ec2"), key=lambda n: n.name):
        price = ec2_prices.get(node.instance_type)
        node_costs.append(NodeCost(node.name, node.labels.get(NODEGROUP_LABEL, ""), node.instance_type, price))
        if price is None or node.instance_type not in SHAPES:
            notes.append(f"node {node.name}: no {'price' if price is None else 'shape'} for instance type "
                         f"{node.instance_type or '?'}; set pricing.{rates.region}.ec2 to include it")
            continue
        on_node = [(p, _request(p)) for p in by_node.get(node.name, ())]
        per_pod: dict[str, float] = defaultdict(float)
        _share_node(price, node.instance_type, ((p.key, r) for p, r in on_node), rates, per_pod)
        ec2_now[UNALLOCATED] += per_pod.pop(UNALLOCATED)
        for pod, _ in on_node:
            ec2_now[pod.namespace] += per_pod[pod.key]
            workload_share[str(workload_of(pod))] += per_pod[pod.key]

    blocked = stay_on_ec2_objects(findings)
    daemonset_pods = [p for p in pods if p.owner_kind == "DaemonSet"]
    stays = [p for p in pods if p.owner_kind != "DaemonSet"
             and (str(workload_of(p)) in blocked or f"Pod/{p.namespace}/{p.name}" in blocked)]
    stay_keys = {p.key for p in stays}

    fargate_now: dict[str, float] = defaultdict(float)
    fargate_after: dict[str, float] = defaultdict(float)
    waste = 0.0
    after: list[tuple[Pod, PodCost]] = []
    for pod in pods:
        cost = pod_costs.get(pod.key)
        if pod.owner_kind == "DaemonSet" or pod.key in stay_keys:
            continue
        if cost is None or cost.hourly is None:
            notes.append(f"pod {pod.key}: no Fargate price ({cost.note if cost else 'not sized'}); left out of 'after'")
            continue
        fargate_after[pod.namespace] += cost.hourly
        after.append((pod, cost))
        waste += rounding_waste_hourly(cost, rates)
        if cost.basis == "provisioned":
            fargate_now[pod.namespace] += cost.hourly

    # One copy of each DaemonSet per remaining node: its largest pod, as the scheduler must fit it.
    overhead: dict[str, tuple[Pod, Request]] = {}
    for pod in daemonset_pods:
        name = str(workload_of(pod))
        request = _request(pod)
        if name not in overhead or (request.millicores, request.memory_bytes) > (overhead[name][1].millicores, overhead[name][1].memory_bytes):
            overhead[name] = (pod, request)
    fit = smallest_node_group([_request(p) for p in stays], [r for _, r in overhead.values()], ec2_prices)
    remaining: dict[str, float] = defaultdict(float)
    if fit is None:
        notes.append("no priced instance type holds the pods that stay on EC2; 'after' leaves their node group out")
    else:
        staying = {p.key: (p.namespace, _request(p)) for p in stays}
        for node_pods in fit.placement:
            per_ns: dict[str, float] = defaultdict(float)
            members = [staying[k] for k in node_pods]
            members += [(pod.namespace, r) for pod, r in overhead.values()]
            _share_node(fit.hourly_price, fit.instance_type, members, rates, per_ns)
            for ns, value in per_ns.items():
                remaining[ns] += value

    sized, sized_note = _rightsizing(after, usage, rates, headroom_percent)
    rightsized: dict[str, float] = defaultdict(float)
    for pod, _ in after:
        if sized is not None:
            rightsized[pod.namespace] += sized.pod_hourly[pod.key]
    namespaces = sorted({*ec2_now, *fargate_now, *fargate_after, *remaining}, key=lambda n: (n == UNALLOCATED, n))
    cases = tuple(NamespaceCase(ns, ec2_now[ns] * factor, fargate_now[ns] * factor, fargate_after[ns] * factor,
                                remaining[ns] * factor, None if sized is None else rightsized[ns] * factor)
                  for ns in namespaces)
    assumptions = (
        f"region {rates.region}; {HOURS_PER_MONTH:g} hours per month (365 x 24 / 12)",
        f"Fargate on-demand rates: ${rates.vcpu_hour} per vCPU-hour, ${rates.gb_hour} per GB-hour ({rates.source})",
        f"EC2 on-demand Linux prices ({PRICES_SOURCE}, checked {PRICES_CHECKED}); overridable in pricing.{rates.region}.ec2",
        f"Savings Plans discount {discount_percent:g} % on EC2 and Fargate alike (pricing.discount_percent)",
        "EC2 cost per workload: its requests weighted by the Fargate rates over the node's capacity weighted "
        "the same way; capacity no request claims is shown as (unallocated)",
        "after: pods with an error-level blocker finding and DaemonSets stay on EC2; everything else runs on "
        "Fargate at CapacityProvisioned, or at the size its requests round up to",
        "remaining EC2: the cheapest single-type node group that fits the staying pods plus one copy of each "
        "DaemonSet per node (first-fit decreasing, no headroom for surge or zone spread)",
        "Fargate ephemeral storage beyond 20 GiB is included where the region has a rate; load balancers, "
        "EBS volumes, data transfer and the EKS control plane are the same before and after and are left out",
    )
    return BusinessCase(
        region=rates.region, hours_per_month=HOURS_PER_MONTH, discount_percent=discount_percent,
        nodes=tuple(node_costs), namespaces=cases,
        workload_ec2_hourly={k: v * factor for k, v in sorted(workload_share.items())},
        stays_on_ec2=tuple(sorted(stay_keys)), daemonsets=tuple(sorted(overhead)), remaining=fit,
        rounding_waste_hourly=waste * factor, assumptions=(*assumptions, *(sized.assumptions if sized else ())),
        notes=tuple(notes), rightsizing=sized, rightsizing_note=sized_note)


__all__ = ["UNALLOCATED", "BusinessCase", "NamespaceCase", "NodeCost", "business_case", "savings_percent",
           "stay_on_ec2_objects"]
