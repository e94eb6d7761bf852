"""Per-workload Fargate checks on a pod template (codes FG001-FG017, FG025; see findings.py)."""

from __future__ import annotations

from typing import Callable, Iterator, Mapping

from ..model import Container, NodeSelectorRequirement, PodSpec, PodVolume, Volume, VolumeClaim
from .findings import Finding, finding
from .pricing import RateCard
from .quantities import GIB, cpu_millicores, memory_bytes
from .rejection import (
    ADVANCED_CAPABILITIES,
    PERMITTED_CAPABILITIES,
    has_host_port,
    host_fields,
    pvc_problem,
)
from .sizing import (
    KUBERNETES_COMPONENTS_MIB,
    MAX_EPHEMERAL_GIB,
    TOO_LARGE_REASON,
    pod_request_exact,
    size_for,
)

# Labels a Fargate node carries (DOMAIN 3.7). Region, zone and hostname vary per node, so a
# requirement on them is assumed satisfiable; any other key is absent from every Fargate node.
FARGATE_NODE_LABELS = {
    "kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/arch": "amd64",
    "kubernetes.io/os": "linux",
    "beta.kubernetes.io/os": "linux",
    "eks.amazonaws.com/compute-type": "fargate",
}
VARIABLE_NODE_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "topology.kubernetes.io/region",
        "topology.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
    }
)
ACCELERATOR_PREFIXES = ("nvidia.com/", "amd.com/gpu", "aws.amazon.com/neuron", "habana.ai/", "gpu.intel.com/")


def _requirement_satisfiable(requirement: NodeSelectorRequirement) -> bool:
    key, operator, values = requirement.key, requirement.operator, requirement.values
    if key in VARIABLE_NODE_LABELS:
        return True
    value = FARGATE_NODE_LABELS.get(key)
    if operator == "In":
        return value in values
    if operator == "NotIn":
        return value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    return False  # Gt/Lt: no Fargate node label is numeric


def unsatisfiable_node_constraints(spec: PodSpec) -> list[str]:
    """nodeSelector entries and required node-affinity terms no Fargate node satisfies."""
    problems = [
        f"nodeSelector {key}={value}"
        for key, value in spec.node_selector.items()
        if key not in VARIABLE_NODE_LABELS and FARGATE_NODE_LABELS.get(key) != value
    ]
    terms = spec.required_node_terms
    # Terms are ORed, expressions inside a term ANDed; matchFields (metadata.name) is variable.
    if terms and not any(all(_requirement_satisfiable(e) for e in t.expressions) for t in terms):
        expressions = [f"{e.key} {e.operator} {list(e.values) or ''}".strip() for t in terms for e in t.expressions]
        problems.append("required node affinity " + "; ".join(expressions))
    return problems


def check_pod_spec(
    obj: str,
    kind: str,
    spec: PodSpec,
    *,
    pvc_lookup: Callable[[str], VolumeClaim | None] | None,  # None: claims unknown, not judged
    pvs: Mapping[str, Volume],
    rates: RateCard,
    waste_threshold: float,
) -> Iterator[Finding]:
    """Every per-pod finding for one workload's pod template."""
    if kind == "DaemonSet":
        yield finding("FG010", obj, "kind: DaemonSet")
    fields = host_fields(spec)
    if fields:
        evidence = ", ".join(f"{f[0].lower()}{f[1:]}: true" for f in fields)
        yield finding("FG001", obj, evidence, fields=", ".join(fields))
    if has_host_port(spec):
        yield finding("FG002", obj, "ports[].hostPort or hostIP set")
    for container in spec.all_containers:
        yield from _container_findings(obj, container)
    for volume in spec.volumes:
        yield from _volume_findings(obj, volume, pvc_lookup, pvs)
    if any(c.has_volume_devices for c in spec.all_containers):
        yield finding("FG009", obj, "volumeDevices set")
    for problem in unsatisfiable_node_constraints(spec):
        yield finding("FG011", obj, problem)
    accelerators = sorted(
        {
            key
            for c in spec.all_containers
            for section in (c.requests, c.limits)
            for key in section
            if key.startswith(ACCELERATOR_PREFIXES)
        }
    )
    if accelerators:
        yield finding("FG012", obj, f"resources: {', '.join(accelerators)}")
    yield from _sizing_findings(obj, spec, rates, waste_threshold)


def _container_findings(obj: str, container: Container) -> Iterator[Finding]:
    name = container.name
    if container.privileged:
        yield finding("FG003", obj, f"container {name}: privileged: true")
    added = container.capabilities_added
    rejected = [c for c in added if c not in PERMITTED_CAPABILITIES | ADVANCED_CAPABILITIES]
    advanced = [c for c in added if c in ADVANCED_CAPABILITIES]
    if rejected:
        listed = ", ".join(rejected)
        yield finding("FG004", obj, f"container {name}: capabilities.add: {listed}", capabilities=listed)
    if advanced:
        listed = ", ".join(advanced)
        yield finding("FG005", obj, f"container {name}: capabilities.add: {listed}", capabilities=listed)
    if container.allow_privilege_escalation:
        yield finding("FG006", obj, f"container {name}: allowPrivilegeEscalation: true")
    requests, limits = container.requests, container.limits
    try:
        differing = [
            f"{r} {requests[r]} != {limits[r]}"
            for r, exact in (("cpu", cpu_millicores), ("memory", memory_bytes))
            if r in requests and r in limits and exact(requests[r]) != exact(limits[r])
        ]
    except ValueError:
        differing = []  # reported once as FG026 by the sizing checks
    if differing:
        yield finding("FG015", obj, f"container {name}: {', '.join(differing)}")
    missing = [r for r in ("cpu", "memory") if r not in requests and r not in limits]
    if missing:
        yield finding("FG016", obj, f"container {name}: no {' or '.join(missing)} request")


def _volume_findings(obj: str, volume: PodVolume, pvc_lookup: Callable[[str], VolumeClaim | None] | None,
                     pvs: Mapping[str, Volume]) -> Iterator[Finding]:
    name, kind = volume.name, volume.type
    if kind == "persistentVolumeClaim":
        if pvc_lookup is None:  # the claims could not be read: unknown is not "fine" but not "wrong" either
            return
        claim = volume.claim_name
        pvc = pvc_lookup(claim)
        problem = pvc_problem(claim, {claim: pvc} if pvc else {}, pvs)
        if problem:
            yield finding("FG008", obj, f"volume {name}: {problem}", volume=name)
    elif kind == "nfs":
        yield finding("FG025", obj, f"volume {name}: nfs")
    elif kind not in ("emptyDir", "secret", "configMap", "projected", "downwardAPI"):
        yield finding("FG007", obj, f"volume {name}: {kind}", volume=name, type=kind)


def _sizing_findings(obj: str, spec: PodSpec, rates: RateCard, waste_threshold: float) -> Iterator[Finding]:
    try:
        exact = pod_request_exact(spec)
    except ValueError as exc:
        yield finding("FG026", obj, str(exc))
        return
    size = size_for(exact.millicores, exact.memory_bytes)
    requested = f"{exact.millicores / 1000:g} vCPU / {exact.memory_bytes / GIB:.3g} GiB"
    if size is None:
        yield finding("FG013", obj, f"requests {requested}", reason=TOO_LARGE_REASON)
    if exact.ephemeral_bytes > MAX_EPHEMERAL_GIB * GIB:
        evidence = f"ephemeral-storage {exact.ephemeral_bytes / GIB:g} GiB"
        yield finding("FG014", obj, evidence, max_gib=MAX_EPHEMERAL_GIB)
    if size is None:
        return
    reserved_gb = KUBERNETES_COMPONENTS_MIB / 1024
    spare_cpu = size.vcpu - exact.millicores / 1000
    spare_gb = size.memory_gb - exact.memory_bytes / GIB - reserved_gb
    price = rates.hourly(size.vcpu, size.memory_gb)
    waste = rates.hourly(spare_cpu, spare_gb)
    if price > 0 and waste / price > waste_threshold:
        evidence = (
            f"requests {requested} -> {size}: {spare_cpu:g} vCPU and {spare_gb:.3g} GB unrequested "
            f"({waste / price:.0%} of ${price:.4f}/h)"
        )
        yield finding("FG017", obj, evidence, size=size, usable_gb=size.memory_gb - reserved_gb)
