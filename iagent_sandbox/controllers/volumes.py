"""Persistent volumes: the PV controller's binding and the EBS CSI driver's dynamic provisioning.

- A PersistentVolume starts ``Available``.
- A claim naming a volume (``spec.volumeName``, static provisioning — how EFS is used on Fargate,
  DOMAIN.md 5.1) binds to it when that volume is free.
- A claim with ``storageClassName: ""`` binds to the smallest free volume of no class that is big
  enough and offers its access modes.
- A claim of an EBS class (gp2, gp3, ebs-sc, or no class: gp2 is the EKS default) gets a new
  volume ``pvc-<claim uid>`` from ebs.csi.aws.com and binds to it. (Real EBS classes bind on
  first consumer; binding at once changes nothing the product reads: the claim is Bound to an EBS
  volume, which is exactly why such a pod cannot run on Fargate.)
- Any other class has no provisioner here: the claim stays Pending with the controller's event.
"""

from __future__ import annotations

import asyncio
import hashlib

from . import kubeutil as ku

COMPONENT = "persistentvolume-controller"
EBS_DRIVER = "ebs.csi.aws.com"
EBS_CLASSES = {"gp2", "gp3", "ebs-sc"}
DEFAULT_STORAGE_CLASS = "gp2"


def _size_bytes(obj_resources: dict | None) -> int:
    value = (obj_resources or {}).get("storage")
    return ku.memory_bytes(value) if value is not None else 0


def _bind(store, pvc: dict, pv_name: str) -> None:
    meta, spec = pvc["metadata"], pvc["spec"]
    pv = store.get(ku.PVS, None, pv_name)
    claim_ref = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": meta["name"],
                 "namespace": meta["namespace"], "uid": meta["uid"]}
    store.mutate(ku.PVS, None, pv_name, lambda obj: obj["spec"].__setitem__("claimRef", claim_ref))
    store.mutate(ku.PVS, None, pv_name, lambda obj: obj.__setitem__("status", {"phase": "Bound"}), status=True)

    def claim(obj: dict) -> None:
        obj["spec"]["volumeName"] = pv_name
        annotations = obj["metadata"].setdefault("annotations", {})
        annotations["pv.kubernetes.io/bind-completed"] = "yes"
        if not spec.get("volumeName"):
            annotations["pv.kubernetes.io/bound-by-controller"] = "yes"
    store.mutate(ku.PVCS, meta["namespace"], meta["name"], claim)
    store.mutate(ku.PVCS, meta["namespace"], meta["name"], lambda obj: obj.__setitem__("status", {
        "phase": "Bound", "accessModes": pv["spec"].get("accessModes") or spec.get("accessModes") or [],
        "capacity": dict(pv["spec"].get("capacity") or {})}), status=True)


def ebs_volume(world, pvc: dict) -> dict:
    meta, spec = pvc["metadata"], pvc["spec"]
    size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    handle = "vol-0" + hashlib.sha256(meta["uid"].encode()).hexdigest()[:16]
    zone = f"{world.region}a"
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": f"pvc-{meta['uid']}",
                     "annotations": {"pv.kubernetes.io/provisioned-by": EBS_DRIVER,
                                     "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                                     "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""},
                     "finalizers": ["kubernetes.io/pv-protection",
                                    "external-provisioner.volume.kubernetes.io/finalizer"]},
        "spec": {"accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                 "capacity": {"storage": size},
                 "csi": {"driver": EBS_DRIVER, "fsType": "ext4", "volumeHandle": handle,
                         "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity":
                                              "1700000000000-8081-ebs.csi.aws.com"}},
                 "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                     {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}]}},
                 "persistentVolumeReclaimPolicy": "Delete",
                 "storageClassName": spec.get("storageClassName") or DEFAULT_STORAGE_CLASS,
                 "volumeMode": spec.get("volumeMode", "Filesystem")}}


class VolumeController:
    def __init__(self, world) -> None:
        self.world = world
        self.store = world.store
        self.queue = ku.WorkQueue()

    def on_pvc(self, event: str, pvc: dict) -> None:
        if event != "DELETED" and (pvc.get("status") or {}).get("phase") != "Bound":
            self.queue.add(("pvc", *ku.obj_key(pvc)))

    def on_pv(self, event: str, pv: dict) -> None:
        if event == "DELETED":
            return
        if not pv.get("status", {}).get("phase"):
            self.store.mutate(ku.PVS, None, pv["metadata"]["name"],
                              lambda obj: obj.__setitem__("status", {"phase": "Available"}), status=True)
        # A new or released volume may be what a pending claim waits for.
        pending, _ = self.store.list(ku.PVCS)
        for pvc in pending:
            if (pvc.get("status") or {}).get("phase") != "Bound":
                self.queue.add(("pvc", *ku.obj_key(pvc)))

    def reconcile(self, key: tuple[str, str, str]) -> None:
        _, namespace, name = key
        pvc = self.store.get(ku.PVCS, namespace, name)
        if pvc is None or ku.is_terminating(pvc) or (pvc.get("status") or {}).get("phase") == "Bound":
            return
        spec = pvc.get("spec") or {}
        wanted = spec.get("volumeName")
        if wanted:
            pv = self.store.get(ku.PVS, None, wanted)
            ref = (pv or {}).get("spec", {}).get("claimRef")
            if pv is not None and (not ref or ref.get("uid") == pvc["metadata"]["uid"]):
                _bind(self.store, pvc, wanted)
            return
        storage_class = spec.get("storageClassName")
        if storage_class == "":
            pv = self._find_static(pvc)
            if pv is not None:
                _bind(self.store, pvc, pv["metadata"]["name"])
            return
        if (storage_class or DEFAULT_STORAGE_CLASS) in EBS_CLASSES:
            volume = ebs_volume(self.world, pvc)
            if self.store.get(ku.PVS, None, volume["metadata"]["name"]) is None:
                self.store.create(ku.PVS, volume)
                self.store.record_event(pvc, "ProvisioningSucceeded",
                                        f"Successfully provisioned volume {volume['metadata']['name']}",
                                        component=f"{EBS_DRIVER}_ebs-csi-controller")
            _bind(self.store, pvc, volume["metadata"]["name"])
            return
        self.store.record_event(pvc, "ProvisioningFailed",
                                f'storageclass.storage.k8s.io "{storage_class}" not found',
                                type="Warning", component=COMPONENT)

    def _find_static(self, pvc: dict) -> dict | None:
        need = _size_bytes(((pvc["spec"].get("resources") or {}).get("requests")))
        modes = set(pvc["spec"].get("accessModes") or [])
        pvs, _ = self.store.list(ku.PVS)
        free = [pv for pv in pvs if not pv["spec"].get("claimRef") and not pv["spec"].get("storageClassName")
                and _size_bytes(pv["spec"].get("capacity")) >= need
                and modes <= set(pv["spec"].get("accessModes") or [])]
        return min(free, key=lambda pv: (_size_bytes(pv["spec"].get("capacity")), pv["metadata"]["name"]),
                   default=None)

    async def run(self) -> None:
        await asyncio.gather(ku.informer(self.store, ku.PVS, self.on_pv),
                             ku.informer(self.store, ku.PVCS, self.on_pvc),
                             ku.run_workers(self.queue, self.reconcile, COMPONENT))


def provision_now(world, pvc: dict) -> None:
    """Bind a claim at once (used by the StatefulSet controller, which waits for nothing)."""
    VolumeController(world).reconcile(("pvc", pvc["metadata"]["namespace"], pvc["metadata"]["name"]))


async def run(world) -> None:
    await VolumeController(world).run()
