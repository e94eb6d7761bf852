"""The StatefulSet controller: pods ``<sts>-0 .. <sts>-(n-1)`` created in order (OrderedReady waits
for each to be Running and Ready; Parallel does not), a PersistentVolumeClaim
``<template>-<sts>-<ordinal>`` per volumeClaimTemplate, scale-down from the highest ordinal,
rolling replacement after a template change, and status with current/update revisions.

Claims are bound by volumes.py (EBS dynamic provisioning for the gp2 default class).
"""

from __future__ import annotations

import asyncio
import copy

from . import kubeutil as ku
from . import volumes
from .replicasets import pod_from_template

COMPONENT = "statefulset-controller"


def ordinal(sts_name: str, pod_name: str) -> int | None:
    prefix = f"{sts_name}-"
    tail = pod_name[len(prefix):] if pod_name.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else None


class StatefulSetController:
    def __init__(self, world) -> None:
        self.world = world
        self.store = world.store
        self.queue = ku.WorkQueue()
        self.pods = ku.PodCache()

    def on_sts(self, event: str, sts: dict) -> None:
        if event != "DELETED":
            self.queue.add(ku.obj_key(sts))

    def on_pod(self, event: str, pod: dict) -> None:
        self.pods.update(event, pod)
        ref = ku.controller_ref(pod)
        if ref and ref.get("kind") == "StatefulSet":
            self.queue.add((pod["metadata"]["namespace"], ref["name"]))

    # -- volumes ----------------------------------------------------------------------------
    def ensure_claim(self, sts: dict, template: dict, index: int) -> str:
        namespace, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        claim_name = f"{template['metadata']['name']}-{name}-{index}"
        claim = self.store.get(ku.PVCS, namespace, claim_name)
        if claim is None:
            spec = copy.deepcopy(template.get("spec") or {})
            spec.setdefault("storageClassName", volumes.DEFAULT_STORAGE_CLASS)
            spec.setdefault("volumeMode", "Filesystem")
            labels = dict(((sts["spec"].get("selector") or {}).get("matchLabels")) or {})
            claim = self.store.create(ku.PVCS, {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim_name, "namespace": namespace, "labels": labels},
                "spec": spec})
            self.store.record_event(sts, "SuccessfulCreate",
                                    f"create Claim {claim_name} Pod {name}-{index} in StatefulSet {name} success",
                                    component=COMPONENT)
        if (claim.get("status") or {}).get("phase") != "Bound":
            volumes.provision_now(self.world, claim)  # bound before its pod exists
        return claim_name

    # -- pods -------------------------------------------------------------------------------
    def make_pod(self, sts: dict, index: int, revision: str) -> dict:
        name = sts["metadata"]["name"]
        pod = pod_from_template(sts, sts["spec"]["template"])
        meta = pod["metadata"]
        del meta["generateName"]
        meta["name"] = f"{name}-{index}"
        meta["labels"].update({"controller-revision-hash": revision,
                               "statefulset.kubernetes.io/pod-name": meta["name"],
                               "apps.kubernetes.io/pod-index": str(index)})
        spec = pod["spec"]
        spec["hostname"] = meta["name"]
        if sts["spec"].get("serviceName"):
            spec["subdomain"] = sts["spec"]["serviceName"]
        volumes = spec.setdefault("volumes", [])
        for template in sts["spec"].get("volumeClaimTemplates") or ():
            claim = self.ensure_claim(sts, template, index)
            volumes[:] = [v for v in volumes if v.get("name") != template["metadata"]["name"]]
            volumes.append({"name": template["metadata"]["name"],
                            "persistentVolumeClaim": {"claimName": claim}})
        return pod

    def reconcile(self, key: tuple[str, str]) -> None:
        namespace, name = key
        sts = self.store.get(ku.STATEFULSETS, namespace, name)
        if sts is None or ku.is_terminating(sts):
            return
        revision = f"{name}-{ku.template_hash_text(sts['spec']['template'])}"
        replicas = int(sts["spec"].get("replicas", 1))
        ordered = (sts["spec"].get("podManagementPolicy") or "OrderedReady") == "OrderedReady"
        owned = {}
        for pod in self.pods.owned(sts["metadata"]["uid"]):
            index = ordinal(name, pod["metadata"]["name"])
            if index is not None:
                owned[index] = pod
        for index in range(replicas):
            pod = owned.get(index)
            if pod is None:
                created = self.store.create(ku.PODS, self.make_pod(sts, index, revision))
                self.pods.update("ADDED", created)
                owned[index] = created
                self.store.record_event(sts, "SuccessfulCreate",
                                        f"create Pod {created['metadata']['name']} in StatefulSet {name} successful",
                                        component=COMPONENT)
                if ordered:
                    break
            elif ordered and not (ku.pod_ready(pod) and ku.is_active(pod)):
                break
        all_ready = all(ku.pod_ready(owned[i]) for i in range(replicas) if i in owned)
        for index in sorted((i for i in owned if i >= replicas), reverse=True):
            pod = owned[index]
            if ku.is_terminating(pod):
                if ordered:
                    break
                continue
            if ordered and not all_ready:
                break
            self._delete(sts, pod)
            if ordered:
                break
        # Rolling update: replace the highest outdated ordinal once every pod is ready.
        outdated = [i for i in range(replicas) if i in owned and
                    (owned[i]["metadata"].get("labels") or {}).get("controller-revision-hash") != revision
                    and not ku.is_terminating(owned[i])]
        if outdated and all_ready and (sts["spec"].get("updateStrategy") or {}).get("type") != "OnDelete":
            self._delete(sts, owned[max(outdated)])
        self._status(sts, owned, replicas, revision)

    def _delete(self, sts: dict, pod: dict) -> None:
        gone = self.store.delete(ku.PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
        self.pods.update("MODIFIED" if gone and gone["metadata"].get("deletionTimestamp") else "DELETED",
                         gone or pod)
        self.store.record_event(sts, "SuccessfulDelete",
                                f"delete Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} successful",
                                component=COMPONENT)

    def _status(self, sts: dict, owned: dict, replicas: int, revision: str) -> None:
        active = [p for p in owned.values() if ku.is_active(p)]
        ready = sum(1 for p in active if ku.pod_ready(p))
        updated = sum(1 for p in active if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == revision)
        revisions = sorted({(p["metadata"].get("labels") or {}).get("controller-revision-hash", revision)
                            for p in active} - {revision})
        current = revisions[0] if revisions and updated < len(active) else revision
        status = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": len(active),
                  "readyReplicas": ready, "currentReplicas": len(active) - updated if current != revision else updated,
                  "updatedReplicas": updated, "availableReplicas": ready, "currentRevision": current,
                  "updateRevision": revision, "collisionCount": 0}
        for field in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not status[field]:
                del status[field]
        self.store.mutate(ku.STATEFULSETS, sts["metadata"]["namespace"], sts["metadata"]["name"],
                          lambda obj: obj.__setitem__("status", status), status=True)

    async def run(self) -> None:
        await asyncio.gather(ku.informer(self.store, ku.STATEFULSETS, self.on_sts),
                             ku.informer(self.store, ku.PODS, self.on_pod),
                             ku.run_workers(self.queue, self.reconcile, COMPONENT))


async def run(world) -> None:
    await StatefulSetController(world).run()
