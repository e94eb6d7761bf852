"""The workload controllers of kube-controller-manager, run together: Deployments (rolling
updates, rollout restart, scaling, revisions), ReplicaSets, DaemonSets (EC2 nodes only) and
StatefulSets (ordinal pods, claims bound to EBS volumes), the endpoints controller that lists
each Service's pods, persistent volume binding/provisioning, Jobs (with TTL after finished),
CronJobs, and the disruption controller behind PodDisruptionBudgets. Each lives in its own module."""

from __future__ import annotations

import asyncio

from . import (cronjobs, daemonsets, deployments, disruption, endpoints, jobs, replicasets, statefulsets,
               volumes)


async def run(world) -> None:
    await asyncio.gather(deployments.run(world), replicasets.run(world),
                         daemonsets.run(world), statefulsets.run(world),
                         endpoints.run(world), volumes.run(world),
                         jobs.run(world), cronjobs.run(world),
                         disruption.run(world))
