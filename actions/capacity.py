"""How many EC2 nodes a rollback needs so the pods leaving Fargate find room (no avoidable
downtime): the CPU and memory requested by the pods now on Fargate, against what is free on the
node group's Ready nodes, in whole nodes of the group's allocatable size."""

from __future__ import annotations

import math

from iagent_tui.insights.quantities import cpu_millicores, memory_bytes
from iagent_tui.insights.sizing import pod_request_exact
from iagent_tui.services.convert import pod_spec_from_raw

from .cluster_state import on_fargate

# Requests never pack perfectly onto nodes; count only this share of the free room as usable.
PACKING_EFFICIENCY = 0.8
NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup"


def node_ready(node: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or ())


def _running(pod: dict) -> bool:
    return (not (pod.get("metadata") or {}).get("deletionTimestamp")
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


def _owned_by_daemonset(pod: dict) -> bool:
    return any(o.get("kind") == "DaemonSet" for o in (pod.get("metadata") or {}).get("ownerReferences") or ())


def nodes_needed(nodes: list[dict], pods: list[dict], nodegroup: str) -> tuple[int, str]:
    """(Ready nodes the group should have, why) — at least as many as it has now."""
    group = [n for n in nodes if ((n.get("metadata") or {}).get("labels") or {}).get(NODEGROUP_LABEL) == nodegroup
             and node_ready(n)]
    moving = [p for p in pods if _running(p) and on_fargate(p) and not _owned_by_daemonset(p)]
    if not group:
        return 0, "no Ready node in the group to measure"
    alloc_cpu = min(cpu_millicores((n["status"].get("allocatable") or {}).get("cpu", "0")) for n in group)
    alloc_mem = min(memory_bytes((n["status"].get("allocatable") or {}).get("memory", "0")) for n in group)
    names = {n["metadata"]["name"] for n in group}
    used_cpu = used_mem = 0
    for pod in pods:
        if _running(pod) and (pod.get("spec") or {}).get("nodeName") in names:
            request = pod_request_exact(pod_spec_from_raw(pod.get("spec")))
            used_cpu += request.millicores
            used_mem += request.memory_bytes
    need_cpu = need_mem = 0
    for pod in moving:
        request = pod_request_exact(pod_spec_from_raw(pod.get("spec")))
        need_cpu += request.millicores
        need_mem += request.memory_bytes
    free_cpu = max(0, alloc_cpu * len(group) - used_cpu) * PACKING_EFFICIENCY
    free_mem = max(0, alloc_mem * len(group) - used_mem) * PACKING_EFFICIENCY
    extra = 0
    if alloc_cpu and alloc_mem:
        extra = math.ceil(max(0.0, (need_cpu - free_cpu) / alloc_cpu, (need_mem - free_mem) / alloc_mem))
    why = (f"{len(moving)} pod(s) leaving Fargate request {need_cpu}m CPU / {need_mem // 2**20} MiB; "
           f"free on {len(group)} node(s): {int(free_cpu / PACKING_EFFICIENCY)}m / "
           f"{int(free_mem / PACKING_EFFICIENCY) // 2**20} MiB")
    return len(group) + extra, why
