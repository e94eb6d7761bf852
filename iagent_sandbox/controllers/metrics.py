"""Resource usage for ``kubectl top`` (metrics.k8s.io): plausible and repeatable.

Each running container uses a fixed share of its request (drawn per container from the seed,
15-60 % CPU, 30-70 % memory) that wobbles a little from one simulated minute to the next, and
stays below the request, as a healthy, right-sized workload does. Containers without requests
use a small constant (a few millicores, tens of MiB). Nodes add their system daemons' share.
"""

from __future__ import annotations

from . import kubeutil as ku

MIB = 1024 * 1024
NO_REQUEST_CPU_M, NO_REQUEST_MEM = 5, 24 * MIB
EC2_SYSTEM = (85, 560 * MIB)      # kubelet, containerd, OS
FARGATE_SYSTEM = (12, 160 * MIB)  # the microVM's own agents


class SandboxMetrics:
    def __init__(self, world) -> None:
        self.world = world

    def _container_usage(self, uid: str, container: dict) -> tuple[int, int]:
        clock = self.world.clock
        cpu_req, mem_req = ku.container_requests(container)
        name = container["name"]
        minute = int(clock.elapsed() // 60)
        wobble = clock.draw(f"usage:{uid}:{name}:{minute}", 0.85, 1.1)
        cpu = (cpu_req * min(0.95, clock.draw(f"usage-cpu:{uid}:{name}", 0.15, 0.6) * wobble)
               if cpu_req else NO_REQUEST_CPU_M * wobble)
        mem = (mem_req * min(0.95, clock.draw(f"usage-mem:{uid}:{name}", 0.3, 0.7) * (0.97 + wobble * 0.03))
               if mem_req else NO_REQUEST_MEM * (0.97 + wobble * 0.03))
        return max(1, int(cpu)), int(mem)

    def _pod_numbers(self, pod: dict) -> dict[str, tuple[int, int]] | None:
        status = pod.get("status") or {}
        if status.get("phase") != "Running":
            return None
        running = {cs["name"] for cs in status.get("containerStatuses") or () if "running" in cs.get("state", {})}
        return {c["name"]: self._container_usage(pod["metadata"]["uid"], c)
                for c in pod["spec"].get("containers") or () if c["name"] in running}

    def pod_usage(self, pod: dict) -> dict[str, dict[str, str]] | None:
        numbers = self._pod_numbers(pod)
        if numbers is None:
            return None
        return {name: {"cpu": f"{cpu}m", "memory": f"{mem // 1024}Ki"} for name, (cpu, mem) in numbers.items()}

    def node_usage(self, node: dict) -> dict[str, str] | None:
        if not ku.node_ready(node):
            return None
        cpu, mem = FARGATE_SYSTEM if ku.is_fargate_node(node) else EC2_SYSTEM
        pods, _ = self.world.store.list(ku.PODS, field_selector=f"spec.nodeName={node['metadata']['name']}")
        for pod in pods:
            for c, m in (self._pod_numbers(pod) or {}).values():
                cpu, mem = cpu + c, mem + m
        return {"cpu": f"{cpu}m", "memory": f"{mem // 1024}Ki"}
