"""Right-sizing: the Fargate size each workload needs by its observed usage, and what that saves.

Rules (each listed in ``RightSizing.assumptions`` for the report's reader):

* per workload container, the recommended request is its p95 usage over the window (``usage.py``)
  plus the headroom (``rightsizing.headroom_percent``, 20 % by default), rounded *up* to a whole
  millicore and a whole MiB: never below usage plus headroom;
* the pod's Fargate size is what fargate-scheduler would give those requests (``sizing.size_for``:
  the largest init container against the sum of the app containers, +256 MiB, up to the next
  supported combination), so a recommendation can only land on a valid Fargate size; containers
  without samples keep their requests, and so do init containers;
* Fargate runs pods with requests = limits (guaranteed), so the recommendation is one value per
  resource, for both;
* only pods that run on Fargate after the migration are right-sized; what stays on EC2 keeps its
  requests. A workload without samples keeps its current size (listed as "no usage").
* the saving per workload = (price of the current size - price of the right-sized size) x pods x
  hours per month; the current size is CapacityProvisioned when present, else the projection
  from requests. A right-sized size larger than today's (usage + headroom above the request) is
  shown as such, with a negative saving, and counted: the "as right-sized" total is honest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from ..model import Container, Pod
from .cost import PodCost
from .pricing import HOURS_PER_MONTH, RateCard
from .quantities import MIB
from .sizing import FargateSize, container_request, pod_request_exact, size_for
from .usage import UsageStat, UsageSummary
from .workloads import workload_of

DEFAULT_HEADROOM_PERCENT = 20.0


@dataclass(frozen=True)
class ContainerAdvice:
    container: str
    requested_millicores: int
    requested_bytes: int
    p95_millicores: float | None      # None: no samples for this container
    p95_bytes: int | None
    recommended_millicores: int
    recommended_bytes: int
    samples: int = 0

    @property
    def recommended(self) -> str:
        """As it goes into the pod template (requests = limits on Fargate)."""
        return f"cpu: {self.recommended_millicores}m, memory: {math.ceil(self.recommended_bytes / MIB)}Mi"


@dataclass(frozen=True)
class WorkloadAdvice:
    workload: str                 # "Deployment/prod/iagent-api"
    namespace: str
    pods: int                     # pods of it on Fargate after the migration
    current_size: FargateSize | None
    rightsized_size: FargateSize | None
    current_hourly: float         # per pod, as requested (or provisioned)
    rightsized_hourly: float      # per pod, right-sized
    containers: tuple[ContainerAdvice, ...]
    samples: int
    saving_hourly: float = 0.0    # all its pods together (replicas mid-move may differ today)

    @property
    def verdict(self) -> str:
        if not self.samples:
            return "no usage"
        if self.current_size is None or self.rightsized_size is None or self.rightsized_size == self.current_size:
            return "same size"
        return "smaller" if self.rightsized_hourly < self.current_hourly else "larger"

    @property
    def monthly_saving(self) -> float:
        return self.saving_hourly * HOURS_PER_MONTH


@dataclass(frozen=True)
class RightSizing:
    headroom_percent: float
    usage: UsageSummary
    workloads: tuple[WorkloadAdvice, ...]           # by namespace, then workload
    pod_hourly: Mapping[str, float]                  # pod key -> right-sized $/h (Fargate after only)
    assumptions: tuple[str, ...] = ()

    @property
    def monthly_saving(self) -> float:
        return sum(w.monthly_saving for w in self.workloads)


def recommend(p95: float, headroom_percent: float) -> int:
    """p95 plus headroom, rounded up to a whole unit: the floor a recommendation never goes under."""
    return math.ceil(p95 * (1 + headroom_percent / 100) - 1e-9)


def _advise_container(container: Container, stat: UsageStat | None, headroom: float) -> ContainerAdvice:
    request = container_request(container)
    if stat is None:
        return ContainerAdvice(container.name, request.millicores, request.memory_bytes, None, None,
                               request.millicores, request.memory_bytes)
    cpu = max(1, recommend(stat.cpu_p95_millicores, headroom))
    memory = recommend(stat.memory_p95_bytes / MIB, headroom) * MIB
    return ContainerAdvice(container.name, request.millicores, request.memory_bytes, stat.cpu_p95_millicores,
                           stat.memory_p95_bytes, cpu, memory, stat.samples)


def _rightsized_spec(pod: Pod, advice: Sequence[ContainerAdvice]):
    by_name = {a.container: a for a in advice}
    containers = []
    for c in pod.spec.containers:
        a = by_name.get(c.name)
        if a is None or a.p95_millicores is None:
            containers.append(c)
            continue
        value = {"cpu": f"{a.recommended_millicores}m", "memory": str(a.recommended_bytes)}
        containers.append(replace(c, requests={**c.requests, **value}, limits={**c.limits, **value}))
    return replace(pod.spec, containers=tuple(containers))


def rightsize(after: Sequence[tuple[Pod, PodCost]], usage: UsageSummary, rates: RateCard,
              headroom_percent: float = DEFAULT_HEADROOM_PERCENT) -> RightSizing:
    """Advice for the pods that run on Fargate after the migration (see the module docstring)."""
    if headroom_percent < 0:
        raise ValueError(f"headroom must be 0 % or more, got {headroom_percent}")
    groups: dict[str, list[tuple[Pod, PodCost]]] = {}
    for pod, cost in after:
        groups.setdefault(str(workload_of(pod)), []).append((pod, cost))
    advice: list[WorkloadAdvice] = []
    pod_hourly: dict[str, float] = {}
    for workload, members in sorted(groups.items(), key=lambda item: (item[1][0][0].namespace, item[0])):
        pod, cost = members[0]  # replicas share a template; the first speaks for the spec
        containers = tuple(_advise_container(c, usage.stats.get((workload, c.name)), headroom_percent)
                           for c in pod.spec.containers)
        samples = sum(a.samples for a in containers)
        rightsized_size = cost.size
        if samples:
            exact = pod_request_exact(_rightsized_spec(pod, containers))
            rightsized_size = size_for(exact.millicores, exact.memory_bytes) or cost.size
        extra = cost.ephemeral_hourly or 0.0
        current = cost.hourly or 0.0
        rightsized = current if rightsized_size is None or not samples else \
            rates.hourly(rightsized_size.vcpu, rightsized_size.memory_gb) + extra
        saving = 0.0
        for member, member_cost in members:
            member_current = member_cost.hourly or 0.0
            pod_hourly[member.key] = rightsized if samples else member_current
            saving += member_current - pod_hourly[member.key]
        advice.append(WorkloadAdvice(workload, pod.namespace or "default", len(members), cost.size, rightsized_size,
                                     current, rightsized, containers, samples, saving))
    window = usage.window_seconds
    assumptions = (
        f"right-sizing: per container, p95 of metrics-server usage over {window / 60:g} min (nearest rank, "
        f"replicas pooled) + {headroom_percent:g} % headroom, rounded up to 1m CPU and 1 MiB; the pod's "
        "Fargate size from those requests by the sizing rule (+256 MiB, next supported combination)",
        "right-sizing applies to the pods on Fargate after the migration; init containers, containers "
        "without samples and everything that stays on EC2 keep their requests; savings per workload are "
        "before any Savings Plans discount",
    )
    return RightSizing(headroom_percent, usage, tuple(advice), MappingProxyType(pod_hourly), assumptions)


__all__ = ["DEFAULT_HEADROOM_PERCENT", "ContainerAdvice", "RightSizing", "WorkloadAdvice", "recommend", "rightsize"]
