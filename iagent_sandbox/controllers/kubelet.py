"""The kubelets of every node, EC2 and Fargate alike: one PodWorker per pod bound to a node
(see podworker.py for the pod's life), each node's image cache, and the pod garbage collector's
rule that pods bound to a node that no longer exists are removed.

Fargate nodes start with an empty image cache and hold one pod, so every Fargate pod pulls its
images (DOMAIN.md 7.1: "No image cache: every pod is a fresh node"); EC2 nodes keep what they
pulled, so a second replica on the same node finds its image "already present on machine".
"""

from __future__ import annotations

import asyncio

from . import ipam
from . import kubeutil as ku
from .images import parse_image
from .podworker import PodWorker

PODGC_QUARANTINE_S = 40.0  # podgc waits this long before deleting pods of a vanished node


class Kubelet:
    def __init__(self, world) -> None:
        self.world = world
        self.workers: dict[str, PodWorker] = {}
        self._images: dict[str, set[str]] = {}
        self._nodes: set[str] = set()

    def image_cached(self, node_name: str, image: str) -> bool:
        return parse_image(image).full in self._images.get(node_name, set())

    def remember_image(self, node_name: str, image: str) -> None:
        self._images.setdefault(node_name, set()).add(parse_image(image).full)

    def on_pod(self, event: str, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        if event == "DELETED":
            status = pod.get("status") or {}
            if status.get("podIP") and status.get("podIP") != status.get("hostIP"):
                ipam.release_ip(self.world, status["podIP"])
            worker = self.workers.pop(uid, None)
            if worker is not None and worker.task is not None:
                worker.task.cancel()
            return
        node_name = pod["spec"].get("nodeName")
        if not node_name:
            return
        worker = self.workers.get(uid)
        if worker is not None:
            worker.notify(pod)
            return
        worker = PodWorker(self, pod)
        self.workers[uid] = worker
        worker.task = asyncio.ensure_future(worker.run())

    def on_resync(self, uids: set[str]) -> None:
        for uid in [u for u in self.workers if u not in uids]:
            worker = self.workers.pop(uid)
            if worker.task is not None:
                worker.task.cancel()

    def on_node(self, event: str, node: dict) -> None:
        name = node["metadata"]["name"]
        if event != "DELETED":
            self._nodes.add(name)
            return
        self._nodes.discard(name)
        self._images.pop(name, None)
        # podgc: pods on a node that is gone will never be stopped by a kubelet; delete them at
        # once so their controllers replace them elsewhere. Finished pods (a Job's, whose
        # Fargate node went away when it completed) wait out podgc's 40 s quarantine first, so
        # `kubectl get pods` shows them Completed for a while, as on EKS.
        pods, _ = self.world.store.list(ku.PODS, field_selector=f"spec.nodeName={name}")
        for pod in pods:
            meta = pod["metadata"]
            if ku.is_finished(pod):
                asyncio.get_running_loop().call_later(
                    self.world.clock.wall_seconds(PODGC_QUARANTINE_S), self._collect,
                    meta["namespace"], meta["name"], meta["uid"])
                continue
            self.world.store.delete(ku.PODS, meta["namespace"], meta["name"], grace_period_seconds=0)

    def _collect(self, namespace: str, name: str, uid: str) -> None:
        pod = self.world.store.get(ku.PODS, namespace, name)
        if pod is not None and pod["metadata"]["uid"] == uid:
            self.world.store.delete(ku.PODS, namespace, name, grace_period_seconds=0)

    async def run(self) -> None:
        try:
            await asyncio.gather(ku.informer(self.world.store, ku.NODES, self.on_node),
                                 ku.informer(self.world.store, ku.PODS, self.on_pod,
                                             on_resync=self.on_resync))
        finally:
            for worker in self.workers.values():
                if worker.task is not None:
                    worker.task.cancel()


async def run(world) -> None:
    await Kubelet(world).run()
