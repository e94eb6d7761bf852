"""Fargate pod sizing: which vCPU/memory configuration a pod spec provisions.

Sources (DOMAIN.md section 1; AWS EKS User Guide "Fargate Pod configuration",
https://docs.aws.amazon.com/eks/latest/userguide/fargate-pod-configuration.html):

* the largest init-container request and the sum of the long-running containers' requests are
  compared, and the larger is used, per resource;
* Fargate adds 256 MB (MiB arithmetic) to the memory for kubelet, kube-proxy and containerd;
* the result is rounded up to the smallest supported combination (table 1.1), walking vCPU
  options in ascending order and, for each, memory options in ascending order;
* no requests at all gives the smallest size, 0.25 vCPU / 0.5 GB;
* beyond 16 vCPU / 120 GB the pod stays Pending with POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE.

A missing request defaults to the limit (Kubernetes API defaulting), so limits-only pods are
sized on their limits. Quantities are compared exactly (integers: millicores and bytes), because
256Mi must fit 0.5 GB while 257Mi needs 1 GB.

Assumption (DOMAIN.md 1.2 "open question"): native sidecars, i.e. init containers with
``restartPolicy: Always``, are handled as Kubernetes itself computes effective pod requests
(k8s.io/component-helpers resource.PodRequests): they are summed with the app containers, and each
ordinary init container that starts after a sidecar also counts the sidecars started before it.
The docs say nothing about sidecars; this is the Kubernetes-consistent choice. ``spec.overhead``
(RuntimeClass pod overhead) is ignored: Fargate documents its own 256 MB reservation instead.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import NamedTuple

from ..model import Container, PodSpec
from .quantities import GIB, MIB, cpu_millicores, memory_bytes

CAPACITY_PROVISIONED_ANNOTATION = "CapacityProvisioned"
TOO_LARGE_REASON = "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE"
TOO_LARGE_MESSAGE = "Your pod's cpu/memory requirements exceed the max Fargate configuration"
KUBERNETES_COMPONENTS_MIB = 256  # "Fargate adds 256 MB to each Pod's memory reservation"

# Table 1.1 of DOMAIN.md (EKS User Guide). GB behaves as GiB.
SUPPORTED_SIZES: tuple[tuple[float, tuple[float, ...]], ...] = (
    (0.25, (0.5, 1, 2)),
    (0.5, (1, 2, 3, 4)),
    (1, tuple(range(2, 9))),
    (2, tuple(range(4, 17))),
    (4, tuple(range(8, 31))),
    (8, tuple(range(16, 61, 4))),
    (16, tuple(range(32, 121, 8))),
)

# Ephemeral storage (DOMAIN.md 1.4): 20 GiB by default, up to 175 GiB; provisioned as
# sum(requests) + 10% + 5 GiB (AWS containers blog on larger ephemeral volumes).
DEFAULT_EPHEMERAL_GIB = 20
MAX_EPHEMERAL_GIB = 175


@dataclass(frozen=True, order=True)
class FargateSize:
    """One Fargate compute configuration; ``str()`` is the CapacityProvisioned annotation text."""

    vcpu: float
    memory_gb: float

    def __str__(self) -> str:
        # Observed annotation format is Go's %g: "0.25vCPU 0.5GB", "2vCPU 9GB".
        return f"{self.vcpu:g}vCPU {self.memory_gb:g}GB"

    @property
    def millicores(self) -> int:
        return round(self.vcpu * 1000)

    @property
    def memory_mib(self) -> int:
        return round(self.memory_gb * 1024)


SMALLEST_SIZE = FargateSize(0.25, 0.5)
LARGEST_SIZE = FargateSize(16, 120)

# Tolerant on purpose, like eks-node-viewer's "(.*?)vCPU (.*?)GB" (pkg/model/pod.go): extra
# spaces and a missing space are accepted, but both numbers must be there.
_CAPACITY_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*vCPU\s*(\d+(?:\.\d*)?|\.\d+)\s*GB\s*")


def parse_capacity_provisioned(text: str) -> FargateSize:
    """Parse a ``CapacityProvisioned`` annotation ("0.25vCPU 0.5GB"). ValueError if malformed."""
    match = _CAPACITY_RE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"malformed {CAPACITY_PROVISIONED_ANNOTATION} annotation {text!r}: "
            "expected '<vCPU>vCPU <memory>GB', for example '0.25vCPU 0.5GB'"
        )
    return FargateSize(float(match[1]), float(match[2]))


class PodRequest(NamedTuple):
    """Effective pod request: CPU in cores, memory in MiB (before Fargate's 256 MiB)."""

    cpu_cores: float
    memory_mib: float


class ExactRequest(NamedTuple):
    millicores: int
    memory_bytes: int
    ephemeral_bytes: int


def container_request(container: Container) -> ExactRequest:
    """One container's requests, each missing request defaulting to its limit."""
    requests, limits, name = container.requests, container.limits, container.name

    def pick(resource: str, convert) -> int:
        value = requests.get(resource, limits.get(resource))
        if value is None:
            return 0
        try:
            return convert(value)
        except ValueError as exc:
            raise ValueError(f"container {name!r}: {resource}: {exc}") from None

    return ExactRequest(
        pick("cpu", cpu_millicores), pick("memory", memory_bytes), pick("ephemeral-storage", memory_bytes)
    )


def pod_request_exact(pod_spec: PodSpec) -> ExactRequest:
    """Effective requests by the documented rule (max of init vs sum of app; see module doc)."""
    total = [0, 0, 0]
    for container in pod_spec.containers:
        total = [a + b for a, b in zip(total, container_request(container))]
    sidecars = [0, 0, 0]
    init_peak = [0, 0, 0]
    for container in pod_spec.init_containers:
        request = list(container_request(container))
        if container.is_sidecar:
            total = [a + b for a, b in zip(total, request)]
            sidecars = [a + b for a, b in zip(sidecars, request)]
            request = sidecars
        else:
            request = [a + b for a, b in zip(request, sidecars)]
        init_peak = [max(a, b) for a, b in zip(init_peak, request)]
    return ExactRequest(*(max(a, b) for a, b in zip(total, init_peak)))


def pod_request(pod_spec: PodSpec) -> PodRequest:
    """(cpu_cores, memory_mib) the pod asks for, before Fargate's rounding and 256 MiB."""
    exact = pod_request_exact(pod_spec)
    return PodRequest(exact.millicores / 1000, exact.memory_bytes / MIB)


def size_for(millicores: int, memory_bytes_: int) -> FargateSize | None:
    """Smallest supported size holding the request plus 256 MiB, or None when none does."""
    needed_bytes = memory_bytes_ + KUBERNETES_COMPONENTS_MIB * MIB
    for vcpu, memories in SUPPORTED_SIZES:
        if round(vcpu * 1000) < millicores:
            continue
        for memory_gb in memories:
            if round(memory_gb * GIB) >= needed_bytes:
                return FargateSize(vcpu, memory_gb)
    return None


def fargate_size(pod_spec: PodSpec) -> FargateSize | None:
    """The CapacityProvisioned size for a pod spec; None = too large for Fargate
    (the pod would stay Pending with reason TOO_LARGE_REASON)."""
    exact = pod_request_exact(pod_spec)
    return size_for(exact.millicores, exact.memory_bytes)


def ephemeral_request_gib(pod_spec: PodSpec) -> float:
    """Effective ephemeral-storage request of the pod in GiB (0 when none is requested)."""
    return pod_request_exact(pod_spec).ephemeral_bytes / GIB


def provisioned_ephemeral_gib(pod_spec: PodSpec) -> float:
    """Ephemeral storage Fargate provisions: 20 GiB, or requests + 10% + 5 GiB when larger
    ("a request of 100 GiB will provision a Fargate task with 115 GiB")."""
    requested = ephemeral_request_gib(pod_spec)
    if requested == 0:
        return float(DEFAULT_EPHEMERAL_GIB)
    return max(float(DEFAULT_EPHEMERAL_GIB), requested * 1.1 + 5)


def billable_ephemeral_gib(pod_spec: PodSpec) -> int:
    """GiB billed beyond the free 20 GiB. DOMAIN.md 1.4 leaves requested-vs-provisioned open;
    the default documented there is max(0, ceil(sum of requests in GiB) - 20)."""
    return billable_ephemeral_gib_of(pod_request_exact(pod_spec).ephemeral_bytes)


def billable_ephemeral_gib_of(ephemeral_bytes: int) -> int:
    """``billable_ephemeral_gib`` for an effective request already computed, in bytes."""
    return max(0, math.ceil(ephemeral_bytes / GIB) - DEFAULT_EPHEMERAL_GIB)
