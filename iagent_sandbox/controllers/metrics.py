"""Resource usage for ``kubectl top`` and right-sizing (metrics.k8s.io): plausible and repeatable.

metrics-server scrapes every kubelet once per resolution period (``--metric-resolution``, 15 s by
default) and serves only the latest scrape; so does this source. Usage is a function of the
simulated scrape time and the seed alone, so two clients reading the same scrape see the same
numbers, and a sampler that reads every scrape of a window sees a distribution worth a p95:

* each workload's container uses a base share of its request (drawn per workload and container:
  15-55 % CPU, 30-65 % memory), each replica a little more or less (0.9-1.1);
* a slow load curve over that base (CPU +-25 %, memory +-8 %, a period of 20-40 simulated minutes
  with its own phase), noise per scrape (CPU +-8 %, memory +-2 %), and now and then (3 % of scrapes)
  a CPU burst of 30 %;
* never above 95 % of the request (a right-sized, healthy container); containers without
  requests use a few millicores and tens of MiB.

Nodes add their system daemons' share.
"""

from __future__ import annotations

import math
from datetime import datetime

from . import kubeutil as ku

MIB = 1024 * 1024
RESOLUTION_SECONDS = 15  # metrics-server's default --metric-resolution
NO_REQUEST_CPU_M, NO_REQUEST_MEM = 5, 24 * MIB
EC2_SYSTEM = (85, 560 * MIB)      # kubelet, containerd, OS
FARGATE_SYSTEM = (12, 160 * MIB)  # the microVM's own agents
WORKLOAD_LABELS = ("app.kubernetes.io/name", "app", "k8s-app", "name")


def _workload_id(pod: dict) -> str:
    """What the replicas of one workload share (their names differ): a name label, else the pod's name."""
    meta = pod["metadata"]
    labels = meta.get("labels") or {}
    name = next((labels[k] for k in WORKLOAD_LABELS if labels.get(k)), meta.get("name", ""))
    return f"{meta.get('namespace', '')}/{name}"


class SandboxMetrics:
    def __init__(self, world) -> None:
        self.world = world
        self._pinned: int | None = None

    def _scrape(self) -> int:
        if self._pinned is not None:
            return self._pinned
        return int(self.world.clock.elapsed() // RESOLUTION_SECONDS)

    def pin(self) -> None:
        """Answer from one scrape until ``unpin``: a list's items and their timestamps agree even
        when the clock crosses a scrape boundary while the list is built."""
        self._pinned = None
        self._pinned = self._scrape()

    def unpin(self) -> None:
        self._pinned = None

    def scraped_at(self) -> datetime:
        """When the latest scrape happened (the PodMetrics/NodeMetrics timestamp)."""
        return self.world.clock.at(self._scrape() * RESOLUTION_SECONDS)

    def _factor(self, key: str, scrape: int, swing: float, noise: float) -> float:
        clock = self.world.clock
        period = clock.draw(f"usage-period:{key}", 20 * 60, 40 * 60)
        phase = clock.draw(f"usage-phase:{key}", 0, 2 * math.pi)
        t = scrape * RESOLUTION_SECONDS
        return (1 + swing * math.sin(2 * math.pi * t / period + phase)) * \
            clock.draw(f"usage-noise:{key}:{scrape}", 1 - noise, 1 + noise)

    def _container_usage(self, pod: dict, container: dict, scrape: int) -> tuple[int, int]:
        clock = self.world.clock
        cpu_req, mem_req = ku.container_requests(container)
        workload, name = _workload_id(pod), container["name"]
        replica = clock.draw(f"usage-replica:{pod['metadata'].get('name')}:{name}", 0.9, 1.1)
        key = f"{workload}:{name}"
        cpu_factor = self._factor(f"cpu:{key}", scrape, 0.25, 0.08)
        if clock.draw(f"usage-burst:{key}:{scrape}", 0, 1) < 0.03:
            cpu_factor *= 1.3
        mem_factor = self._factor(f"mem:{key}", scrape, 0.08, 0.02)
        cpu = (cpu_req * min(0.95, clock.draw(f"usage-cpu:{key}", 0.15, 0.55) * replica * cpu_factor)
               if cpu_req else NO_REQUEST_CPU_M * cpu_factor)
        mem = (mem_req * min(0.95, clock.draw(f"usage-mem:{key}", 0.3, 0.65) * replica * mem_factor)
               if mem_req else NO_REQUEST_MEM * mem_factor)
        return max(1, int(cpu)), int(mem)

    def _pod_numbers(self, pod: dict, scrape: int) -> dict[str, tuple[int, int]] | None:
        status = pod.get("status") or {}
        if status.get("phase") != "Running":
            return None
        running = {cs["name"] for cs in status.get("containerStatuses") or () if "running" in cs.get("state", {})}
        return {c["name"]: self._container_usage(pod, c, scrape)
                for c in pod["spec"].get("containers") or () if c["name"] in running}

    def pod_usage(self, pod: dict) -> dict[str, dict[str, str]] | None:
        numbers = self._pod_numbers(pod, self._scrape())
        if numbers is None:
            return None
        return {name: {"cpu": f"{cpu}m", "memory": f"{mem // 1024}Ki"} for name, (cpu, mem) in numbers.items()}

    def node_usage(self, node: dict) -> dict[str, str] | None:
        if not ku.node_ready(node):
            return None
        scrape = self._scrape()
        cpu, mem = FARGATE_SYSTEM if ku.is_fargate_node(node) else EC2_SYSTEM
        pods, _ = self.world.store.list(ku.PODS, field_selector=f"spec.nodeName={node['metadata']['name']}")
        for pod in pods:
            for c, m in (self._pod_numbers(pod, scrape) or {}).values():
                cpu, mem = cpu + c, mem + m
        return {"cpu": f"{cpu}m", "memory": f"{mem // 1024}Ki"}
