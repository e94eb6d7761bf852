"""Per-workload Fargate checks on a pod template (codes FG001-FG017, FG025; see findings.py)."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

from .findings import Finding
from .pricing import RateCard
from .quantities import GIB, cpu_millicores, memory_bytes
from .rejection import (
    ADVANCED_CAPABILITIES,
    PERMITTED_CAPABILITIES,
    has_host_port,
    host_fields,
    pvc_problem,
    volume_type,
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


def _containers(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]


def _requirement_satisfiable(expression: Mapping[str, Any]) -> bool:
    key, operator = expression.get("key", ""), expression.get("operator", "")
    values = [str(v) for v in expression.get("values") or []]
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


def unsatisfiable_node_constraints(spec: Mapping[str, Any]) -> list[str]:
    """nodeSelector entries and required node-affinity terms no Fargate node satisfies."""
    problems = [
        f"nodeSelector {key}={value}"
        for key, value in (spec.get("nodeSelector") or {}).items()
        if key not in VARIABLE_NODE_LABELS and FARGATE_NODE_LABELS.get(key) != str(value)
    ]
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {})
    terms = required.get("nodeSelectorTerms") or []
    # Terms are ORed, expressions inside a term ANDed; matchFields (metadata.name) is variable.
    if terms and not any(all(_requirement_satisfiable(e) for e in t.get("matchExpressions") or []) for t in terms):
        expressions = [
            f"{e.get('key')} {e.get('operator')} {e.get('values') or ''}".strip()
            for t in terms
            for e in t.get("matchExpressions") or []
        ]
        problems.append("required node affinity " + "; ".join(expressions))
    return problems


def check_pod_spec(
    obj: str,
    kind: str,
    spec: Mapping[str, Any],
    *,
    pvc_lookup: Callable[[str], Mapping[str, Any] | None],
    pvs: Mapping[str, Mapping[str, Any]],
    rates: RateCard,
    waste_threshold: float,
) -> Iterator[Finding]:
    """Every per-pod finding for one workload's pod template."""

    def finding(code, severity, evidence, message, fix):
        return Finding(code, severity, obj, evidence, message, fix)

    if kind == "DaemonSet":
        yield finding("FG010", "error", "kind: DaemonSet", "DaemonSets aren't supported on Fargate: "
                      "every Fargate node runs exactly one pod.", "Run it as a sidecar in the pods that "
                      "need it, or keep it on an EC2 node group.")  # fmt: skip
    fields = host_fields(spec)
    if fields:
        yield finding("FG001", "error", ", ".join(f"{f[0].lower()}{f[1:]}: true" for f in fields),
                      f"Pods on Fargate can't use {', '.join(fields)}.",
                      "Remove hostNetwork/hostPID/hostIPC, or keep the workload on EC2.")  # fmt: skip
    if has_host_port(spec):
        yield finding("FG002", "error", "ports[].hostPort/hostIP set", "Pods on Fargate can't specify "
                      "HostPort or HostIP.", "Remove hostPort/hostIP; expose the pod through a Service.")  # fmt: skip
    for container in _containers(spec):
        name = container.get("name", "?")
        context = container.get("securityContext") or {}
        if context.get("privileged") is True:
            yield finding("FG003", "error", f"container {name}: privileged: true",
                          "Privileged containers aren't supported on Fargate.",
                          "Drop privileged mode, or keep the workload on EC2.")  # fmt: skip
        added = [str(c) for c in (context.get("capabilities") or {}).get("add") or []]
        rejected = [c for c in added if c not in PERMITTED_CAPABILITIES | ADVANCED_CAPABILITIES]
        advanced = [c for c in added if c in ADVANCED_CAPABILITIES]
        if rejected:
            yield finding("FG004", "error", f"container {name}: capabilities.add: {', '.join(rejected)}",
                          f"fargate-scheduler rejects the added capabilities {', '.join(rejected)}.",
                          "Remove them (Fargate admits only containerd's default set, spelled without "
                          "the CAP_ prefix).")  # fmt: skip
        if advanced:
            yield finding("FG005", "warning", f"container {name}: capabilities.add: {', '.join(advanced)}",
                          f"{', '.join(advanced)} is admitted on Fargate only where advanced "
                          "capabilities are enabled.", "Test on Fargate first, or remove it.")  # fmt: skip
        if context.get("allowPrivilegeEscalation") is True:
            yield finding("FG006", "warning", f"container {name}: allowPrivilegeEscalation: true",
                          "Fargate has rejected allowPrivilegeEscalation: true (observed 2020).",
                          "Set allowPrivilegeEscalation: false unless the image needs setuid.")  # fmt: skip
    for volume in spec.get("volumes") or []:
        vol, vtype = volume.get("name", "?"), volume_type(volume)
        if vtype == "persistentVolumeClaim":
            claim = str(volume[vtype].get("claimName", ""))
            problem = pvc_problem(claim, {claim: pvc} if (pvc := pvc_lookup(claim)) else {}, pvs)
            if problem:
                yield finding("FG008", "error", f"volume {vol}: {problem}",
                              f"Volume {vol} can't be mounted on Fargate: only PVCs bound to a static "
                              "EFS CSI (efs.csi.aws.com) volume work.", "Use a statically provisioned EFS "
                              "PersistentVolume; EBS and dynamic provisioning don't work on Fargate.")  # fmt: skip
        elif vtype == "nfs":
            yield finding("FG025", "warning", f"volume {vol}: nfs", "NFS volumes are admitted by "
                          "fargate-scheduler but not documented for Fargate.",
                          "Prefer the EFS CSI driver with a static PersistentVolume.")  # fmt: skip
        elif vtype not in ("emptyDir", "secret", "configMap", "projected", "downwardAPI"):
            yield finding("FG007", "error", f"volume {vol}: {vtype}",
                          f"Volume {vol} is of a type Fargate doesn't support ({vtype}).",
                          "Use emptyDir, configMap, secret, projected, downwardAPI or an EFS-backed PVC.")  # fmt: skip
    if any(c.get("volumeDevices") for c in _containers(spec)):
        yield finding("FG009", "error", "volumeDevices set", "Raw block devices aren't supported on Fargate.",
                      "Mount a filesystem volume instead.")  # fmt: skip
    for problem in unsatisfiable_node_constraints(spec):
        yield finding("FG011", "error", problem, "No Fargate node satisfies this constraint (Fargate "
                      "nodes are linux/amd64 with eks.amazonaws.com/compute-type=fargate).",
                      "Remove the constraint, or keep the workload on EC2.")  # fmt: skip
    accelerators = sorted(
        {
            key
            for c in _containers(spec)
            for section in ("requests", "limits")
            for key in ((c.get("resources") or {}).get(section) or {})
            if key.startswith(ACCELERATOR_PREFIXES)
        }
    )
    if accelerators:
        yield finding("FG012", "error", f"resources: {', '.join(accelerators)}", "GPUs and Inferentia "
                      "aren't available on Fargate.", "Keep the workload on an EC2 GPU node group.")  # fmt: skip
    yield from _sizing_findings(finding, spec, rates, waste_threshold)


def _sizing_findings(finding, spec, rates: RateCard, waste_threshold: float) -> Iterator[Finding]:
    try:
        exact = pod_request_exact(spec)
    except ValueError as exc:
        yield finding("FG026", "error", str(exc), "A resource quantity can't be parsed, so the API "
                      "server would reject the pod and its Fargate size is unknown.",
                      "Fix the quantity (for example 250m, 0.5, 512Mi, 1Gi).")  # fmt: skip
        return
    size = size_for(exact.millicores, exact.memory_bytes)
    requested = f"{exact.millicores / 1000:g} vCPU / {exact.memory_bytes / GIB:.3g} GiB"
    if size is None:
        yield finding("FG013", "error", f"requests {requested}", f"Too large for Fargate: the pod would "
                      f"stay Pending with {TOO_LARGE_REASON}.", "Keep requests within 16 vCPU and 120 GB "
                      "(including Fargate's 256 MiB), or keep the workload on EC2.")  # fmt: skip
    if exact.ephemeral_bytes > MAX_EPHEMERAL_GIB * GIB:
        yield finding("FG014", "error", f"ephemeral-storage {exact.ephemeral_bytes / GIB:g} GiB",
                      f"Fargate provides at most {MAX_EPHEMERAL_GIB} GiB of ephemeral storage.",
                      "Lower the ephemeral-storage request or use EFS.")  # fmt: skip
    for container in _containers(spec):
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        differing = [
            r for r, exact_value in (("cpu", cpu_millicores), ("memory", memory_bytes))
            if r in requests and r in limits and exact_value(requests[r]) != exact_value(limits[r])
        ]  # fmt: skip
        if differing:
            detail = ", ".join(f"{r} {requests[r]} != {limits[r]}" for r in differing)
            yield finding("FG015", "warning", f"container {container.get('name', '?')}: {detail}",
                          "Fargate pods run with guaranteed priority; requests different from limits "
                          "have failed to start (cpu.cfs_quota_us: invalid argument).",
                          "Set requests equal to limits.")  # fmt: skip
        missing = [r for r in ("cpu", "memory") if r not in requests and r not in limits]
        if missing:
            yield finding("FG016", "warning", f"container {container.get('name', '?')}: no {' or '.join(missing)} "
                          "request", "Without requests the pod gets the smallest size (0.25 vCPU, 0.5 GB) "
                          "and is throttled or OOM-killed if it needs more.",
                          "Set CPU and memory requests (equal to limits).")  # fmt: skip
    if size is not None:
        needed_gb = exact.memory_bytes / GIB + KUBERNETES_COMPONENTS_MIB / 1024
        spare_cpu = size.vcpu - exact.millicores / 1000
        spare_gb = size.memory_gb - needed_gb
        price = rates.hourly(size.vcpu, size.memory_gb)
        waste = rates.hourly(spare_cpu, spare_gb)
        if price > 0 and waste / price > waste_threshold:
            yield finding("FG017", "info", f"requests {requested} -> {size}: {spare_cpu:g} vCPU and "
                          f"{spare_gb:.3g} GB unrequested ({waste / price:.0%} of ${price:.4f}/h)",
                          "Rounding up to a Fargate size pays for capacity the pod doesn't request.",
                          f"Raise requests to use what {size} provides (memory up to {size.memory_gb - 0.25:g} "
                          "GiB), or lower them to fit a smaller size.")  # fmt: skip
