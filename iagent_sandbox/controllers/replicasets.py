"""The ReplicaSet controller: keep ``spec.replicas`` active pods from the template, report
replicas/ready/available in status (pkg/controller/replicaset). Pods are created with
generateName ``<rs>-`` (the API server appends five random characters, as for real pods).

The ReplicationController manager is the same controller over v1 ReplicationControllers, as in
kube-controller-manager (pkg/controller/replication wraps the ReplicaSet one)."""

from __future__ import annotations

import asyncio
import copy

from . import kubeutil as ku
from ..clock import parse_rfc3339
from ..kube.resources import rt

BURST = 500  # the controller's slow-start batch cap


def pod_from_template(owner: dict, template: dict) -> dict:
    meta = template.get("metadata") or {}
    pod_meta = {"generateName": f"{owner['metadata']['name']}-",
                "namespace": owner["metadata"]["namespace"],
                "labels": dict(meta.get("labels") or {}),
                "ownerReferences": [ku.owner_reference(owner)]}
    if meta.get("annotations"):
        pod_meta["annotations"] = dict(meta["annotations"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta,
            "spec": copy.deepcopy(template.get("spec") or {})}


def available(pod: dict, min_ready_seconds: int, now) -> bool:
    cond = ku.get_condition(pod, "Ready")
    if not cond or cond.get("status") != "True" or not ku.is_active(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = cond.get("lastTransitionTime")
    return bool(since) and (now - parse_rfc3339(since)).total_seconds() >= min_ready_seconds


def deletion_rank(pod: dict) -> tuple:
    """Which pods go first on scale-down (controller.ActivePods ordering): unassigned, then
    pending, then not ready, then the most restarted, then the newest."""
    status = pod.get("status") or {}
    restarts = sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or ())
    return (bool(pod["spec"].get("nodeName")), status.get("phase") == "Running", ku.pod_ready(pod),
            -restarts, _negated(pod["metadata"].get("creationTimestamp", "")))


def _negated(text: str) -> tuple:
    return tuple(-ord(ch) for ch in text)


class ReplicaSetController:
    resource = ku.REPLICASETS
    kind = "ReplicaSet"
    component = "replicaset-controller"

    def __init__(self, world) -> None:
        self.world = world
        self.store = world.store
        self.queue = ku.WorkQueue()
        self.pods = ku.PodCache()

    def on_rs(self, event: str, rs: dict) -> None:
        if event != "DELETED":
            self.queue.add(ku.obj_key(rs))

    def on_pod(self, event: str, pod: dict) -> None:
        self.pods.update(event, pod)
        ref = ku.controller_ref(pod)
        if ref and ref.get("kind") == self.kind:
            self.queue.add((pod["metadata"]["namespace"], ref["name"]))

    def reconcile(self, key: tuple[str, str]) -> None:
        namespace, name = key
        rs = self.store.get(self.resource, namespace, name)
        if rs is None or ku.is_terminating(rs):
            return
        active = [p for p in self.pods.owned(rs["metadata"]["uid"]) if ku.is_active(p)]
        wanted = int(rs["spec"].get("replicas", 1))
        diff = wanted - len(active)
        if diff > 0:
            for _ in range(min(diff, BURST)):
                created = self.store.create(ku.PODS, pod_from_template(rs, rs["spec"]["template"]))
                self.pods.update("ADDED", created)
                active.append(created)
                self.store.record_event(rs, "SuccessfulCreate",
                                        f"Created pod: {created['metadata']['name']}",
                                        component=self.component)
        elif diff < 0:
            for pod in sorted(active, key=deletion_rank)[:-diff]:
                gone = self.store.delete(ku.PODS, namespace, pod["metadata"]["name"])
                self.pods.update("DELETED" if gone is None or not gone["metadata"].get("deletionTimestamp")
                                 else "MODIFIED", gone or pod)
                active.remove(pod)
                self.store.record_event(rs, "SuccessfulDelete",
                                        f"Deleted pod: {pod['metadata']['name']}",
                                        component=self.component)
        self._status(rs, active)

    def _status(self, rs: dict, active: list[dict]) -> None:
        min_ready = int(rs["spec"].get("minReadySeconds", 0) or 0)
        now = self.world.clock.now()
        template_labels = ((rs["spec"]["template"].get("metadata") or {}).get("labels") or {})
        ready = sum(1 for p in active if ku.pod_ready(p))
        avail = sum(1 for p in active if available(p, min_ready, now))
        fully = sum(1 for p in active if all((p["metadata"].get("labels") or {}).get(k) == v
                                             for k, v in template_labels.items()))
        generation = rs["metadata"].get("generation", 1)

        def apply(obj: dict) -> None:
            st = {"replicas": len(active), "fullyLabeledReplicas": fully,
                  "observedGeneration": generation}
            if ready:
                st["readyReplicas"] = ready
            if avail:
                st["availableReplicas"] = avail
            obj["status"] = st
        self.store.mutate(self.resource, rs["metadata"]["namespace"], rs["metadata"]["name"],
                          apply, status=True)
        if min_ready and ready > avail:
            # Availability is time based: look again when the youngest ready pod qualifies.
            self.queue.add_after(ku.obj_key(rs), self.world.clock.wall_seconds(min_ready))

    async def run(self) -> None:
        await asyncio.gather(ku.informer(self.store, self.resource, self.on_rs),
                             ku.informer(self.store, ku.PODS, self.on_pod),
                             ku.run_workers(self.queue, self.reconcile, self.component))


class ReplicationManager(ReplicaSetController):
    resource = rt("replicationcontrollers")
    kind = "ReplicationController"
    component = "replication-controller"


async def run(world) -> None:
    await asyncio.gather(ReplicaSetController(world).run(), ReplicationManager(world).run())
