"""The workload controllers of kube-controller-manager, run together: Deployments (rolling
updates, rollout restart, scaling, revisions), ReplicaSets, DaemonSets (EC2 nodes only) and
StatefulSets (ordinal pods, claims bound to EBS volumes), the endpoints controller that lists
each Service's pods, and persistent volume binding/provisioning. Each lives in its own module."""

from __future__ import annotations

import asyncio

from . import daemonsets, deployments, endpoints, replicasets, statefulsets, volumes


async def run(world) -> None:
    await asyncio.gather(deployments.run(world), replicasets.run(world),
                         daemonsets.run(world), statefulsets.run(world),
                         endpoints.run(world), volumes.run(world))
