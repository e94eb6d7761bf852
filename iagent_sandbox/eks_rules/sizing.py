"""Fargate pod sizing (DOMAIN.md 1.1-1.3): the compute configuration a pod gets, which becomes its
``CapacityProvisioned`` annotation, or None when no configuration holds it.

Rule, from the EKS user guide page "Fargate Pod configuration":
- per resource, the larger of the biggest init-container request and the sum of the long-running
  containers' requests;
- plus 256 MiB of memory for kubelet, kube-proxy and containerd;
- rounded up to the first configuration of the table, walking vCPU options upwards and, within
  one, memory options upwards ("GB" is GiB);
- nothing requested gives the smallest, 0.25 vCPU / 0.5 GB;
- beyond 16 vCPU / 120 GB the pod stays Pending (TOO_LARGE_REASON / TOO_LARGE_MESSAGE).
A missing request is the limit (Kubernetes defaults it so). Native sidecars (init containers with
``restartPolicy: Always``) are not documented; they are counted the way Kubernetes counts a pod's
requests: they run beside the app containers, and beside every init container started after them.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

from .quantities import cpu_millicores, memory_bytes

TOO_LARGE_REASON = "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE"
TOO_LARGE_MESSAGE = "Your pod's cpu/memory requirements exceed the max Fargate configuration"
OVERHEAD_MIB = 256
MIB = 1024 * 1024

# DOMAIN.md 1.1: vCPU -> memory options in GB, ascending.
CONFIGURATIONS: tuple[tuple[float, tuple[float, ...]], ...] = (
    (0.25, (0.5, 1, 2)),
    (0.5, (1, 2, 3, 4)),
    (1, (2, 3, 4, 5, 6, 7, 8)),
    (2, tuple(range(4, 16 + 1))),
    (4, tuple(range(8, 30 + 1))),
    (8, tuple(range(16, 60 + 1, 4))),
    (16, tuple(range(32, 120 + 1, 8))),
)


class FargateSize(NamedTuple):
    vcpu: float
    memory_gb: float

    def __str__(self) -> str:
        # Observed annotation text, Go's %g: "0.25vCPU 0.5GB", "2vCPU 9GB".
        return f"{self.vcpu:g}vCPU {self.memory_gb:g}GB"


Request = tuple[int, int]  # (millicores, bytes)


def _plus(a: Request, b: Request) -> Request:
    return a[0] + b[0], a[1] + b[1]


def _peak(a: Request, b: Request) -> Request:
    return max(a[0], b[0]), max(a[1], b[1])


def _container(container: Mapping[str, Any]) -> Request:
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    cpu = requests.get("cpu", limits.get("cpu"))
    memory = requests.get("memory", limits.get("memory"))
    return (cpu_millicores(cpu) if cpu is not None else 0,
            memory_bytes(memory) if memory is not None else 0)


def pod_request(spec: Mapping[str, Any]) -> Request:
    """(millicores, bytes) the pod asks for, before Fargate's 256 MiB and rounding."""
    running: Request = (0, 0)
    for container in spec.get("containers") or ():
        running = _plus(running, _container(container))
    sidecars: Request = (0, 0)
    init_peak: Request = (0, 0)
    for container in spec.get("initContainers") or ():
        request = _container(container)
        if container.get("restartPolicy") == "Always":
            sidecars = _plus(sidecars, request)
            running = _plus(running, request)
            init_peak = _peak(init_peak, sidecars)
        else:
            init_peak = _peak(init_peak, _plus(request, sidecars))
    return _peak(running, init_peak)


def configuration_for(millicores: int, request_bytes: int) -> FargateSize | None:
    """The smallest configuration with at least this CPU and this memory plus 256 MiB."""
    needed = request_bytes + OVERHEAD_MIB * MIB
    for vcpu, memories in CONFIGURATIONS:
        if vcpu * 1000 < millicores:
            continue
        for memory_gb in memories:
            if memory_gb * 1024 * MIB >= needed:
                return FargateSize(vcpu, memory_gb)
    return None


def fargate_size(spec: Mapping[str, Any]) -> FargateSize | None:
    """The pod's Fargate configuration, or None when it is too large for Fargate."""
    return configuration_for(*pod_request(spec))
