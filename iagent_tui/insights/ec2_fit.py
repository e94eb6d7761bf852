"""The smallest EC2 node group that holds the pods that stay on EC2 after the migration.

Rule, written so a reader can check it by hand: for every instance type with a known price and
shape, pack the pods first-fit by decreasing request (CPU, then memory) onto nodes whose room is
allocatable (EKS AMI rule, ``ec2_pricing.InstanceShape``) minus one copy of every DaemonSet pod
(they run on each node); a node also holds at most max-pods pods, DaemonSet pods included. The
cheapest result wins (count x price); ties go to fewer nodes, then the type name. One node group
of one instance type, no headroom for surge or zone spread: that is the floor, and it says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from .ec2_pricing import SHAPES, InstanceShape


@dataclass(frozen=True)
class Request:
    """What one pod asks the scheduler for: millicores and bytes of memory."""
    key: str
    millicores: int
    memory_bytes: int


@dataclass(frozen=True)
class NodeGroupFit:
    instance_type: str
    count: int
    hourly_price: float                     # one instance
    placement: tuple[tuple[str, ...], ...]  # pod keys per node

    @property
    def hourly(self) -> float:
        return self.count * self.hourly_price


def pack(pods: Sequence[Request], overhead: Sequence[Request], shape: InstanceShape) -> list[list[Request]] | None:
    """First-fit decreasing onto nodes of ``shape``; None when a pod fits no empty node."""
    room_cpu = shape.allocatable_millicores - sum(r.millicores for r in overhead)
    room_mem = shape.allocatable_bytes - sum(r.memory_bytes for r in overhead)
    room_pods = shape.max_pods - len(overhead)
    if room_cpu < 0 or room_mem < 0 or room_pods < 0:
        return None
    nodes: list[list[Request]] = []
    free: list[list[int]] = []
    for pod in sorted(pods, key=lambda r: (-r.millicores, -r.memory_bytes, r.key)):
        if pod.millicores > room_cpu or pod.memory_bytes > room_mem or room_pods < 1:
            return None
        for i, (cpu, mem, slots) in enumerate(free):
            if pod.millicores <= cpu and pod.memory_bytes <= mem and slots >= 1:
                nodes[i].append(pod)
                free[i] = [cpu - pod.millicores, mem - pod.memory_bytes, slots - 1]
                break
        else:
            nodes.append([pod])
            free.append([room_cpu - pod.millicores, room_mem - pod.memory_bytes, room_pods - 1])
    return nodes


def smallest_node_group(pods: Sequence[Request], overhead: Sequence[Request], prices: Mapping[str, float],
                        shapes: Mapping[str, InstanceShape] = SHAPES) -> NodeGroupFit | None:
    """The cheapest single-type node group holding ``pods`` (see the module docstring). No pods:
    no node group (its DaemonSets go with the nodes). None when no priced type holds them."""
    if not pods:
        return NodeGroupFit("", 0, 0.0, ())
    best: NodeGroupFit | None = None
    for instance_type, price in prices.items():
        shape = shapes.get(instance_type)
        nodes = pack(pods, overhead, shape) if shape is not None else None
        if nodes is None:
            continue
        fit = NodeGroupFit(instance_type, len(nodes), price, tuple(tuple(r.key for r in n) for n in nodes))
        if best is None or (fit.hourly, fit.count, fit.instance_type) < (best.hourly, best.count, best.instance_type):
            best = fit
    return best


__all__ = ["NodeGroupFit", "Request", "pack", "smallest_node_group"]
