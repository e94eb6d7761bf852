"""Shared set-up for the workload-dynamics tests: a world with the real object store and the real
AwsSandbox (moto in-process), the workload controllers running, EC2 nodes shaped like the node
group's, and condition waits with a timeout (never fixed sleeps)."""

from __future__ import annotations

import asyncio
import contextlib

from iagent_sandbox.aws.sandbox import AwsSandbox
from iagent_sandbox.clock import SandboxClock
from iagent_sandbox.controllers import fargate, kubelet, scheduler, workloads
from iagent_sandbox.kube.resources import rt
from iagent_sandbox.kube.store import ObjectStore
from iagent_sandbox.world import SandboxWorld

PODS, NODES, EVENTS = rt("pods"), rt("nodes"), rt("events")


def ec2_node(name_ip: str, zone: str = "eu-central-1a", cpu: str = "1930m", memory: str = "7220180Ki") -> dict:
    host = f"ip-{name_ip.replace('.', '-')}.eu-central-1.compute.internal"
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": host, "labels": {
                "kubernetes.io/hostname": host, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                "eks.amazonaws.com/nodegroup": "existing-nodes", "topology.kubernetes.io/zone": zone,
                "node.kubernetes.io/instance-type": "t3.large"}},
            "spec": {"providerID": f"aws:///{zone}/i-0123456789abcdef0"},
            "status": {"capacity": {"cpu": "2", "memory": "8047540Ki", "pods": "35"},
                       "allocatable": {"cpu": cpu, "memory": memory, "pods": "35"},
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                       "addresses": [{"type": "InternalIP", "address": name_ip},
                                     {"type": "Hostname", "address": host}]}}


@contextlib.asynccontextmanager
async def running_world(scenario: str = "pre-migration", speed: float = 500, seed: int = 1):
    clock = SandboxClock(speed=speed, seed=seed)
    aws = AwsSandbox(clock)
    await aws.start()
    aws.seed(scenario)
    world = SandboxWorld(clock=clock, store=ObjectStore(clock), aws=aws, scenario=scenario)
    fargate.install_admission(world)
    tasks = [asyncio.create_task(m.run(world)) for m in (fargate, scheduler, kubelet, workloads)]
    try:
        yield world
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await aws.stop()


async def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def pods_of(world, namespace: str, prefix: str) -> list[dict]:
    pods, _ = world.store.list(PODS, namespace)
    return [p for p in pods if p["metadata"]["name"].startswith(prefix)]


def events_for(world, pod: dict) -> list[dict]:
    events, _ = world.store.list(EVENTS, pod["metadata"]["namespace"])
    found = [e for e in events if e["involvedObject"].get("uid") == pod["metadata"]["uid"]]
    return sorted(found, key=lambda e: (e.get("firstTimestamp") or "", int(e["metadata"]["resourceVersion"])))


def ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions") or ())
