"""The workload controllers of kube-controller-manager, run together: Deployments (rolling
updates, rollout restart, scaling, revisions), ReplicaSets, DaemonSets (EC2 nodes only) and
StatefulSets (ordinal pods, claims bound to EBS volumes), and the endpoints controller that
lists each Service's pods. Each lives in its own module."""

from __future__ import annotations

import asyncio

from . import daemonsets, deployments, endpoints, replicasets, statefulsets


async def run(world) -> None:
    await asyncio.gather(deployments.run(world), replicasets.run(world),
                         daemonsets.run(world), statefulsets.run(world),
                         endpoints.run(world))
