"""EKS on Fargate, Kubernetes side: the mutating admission webhook that hands a new pod to the
fargate-scheduler when an ACTIVE profile selects it, and the fargate-scheduler, which checks the
spec, provisions one microVM (a ``fargate-ip-…`` Node) per pod after a capacity delay, binds the
pod to it, and removes the node when the pod goes away (DOMAIN.md 3.5, 3.7, 3.8, 5.2, 7.1).

Profile matching, sizing and the rejection clauses are the sandbox's own (``eks_rules``), written
from DOMAIN.md apart from the product's, so that the twin can catch the product's mistakes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from datetime import datetime, timedelta

from ..clock import parse_rfc3339, rfc3339
from ..eks_rules.profiles import PROFILE_LABEL, match_profile
from ..eks_rules.rejection import UNSUPPORTED_REASON, rejection_clauses, rejection_message
from ..eks_rules.sizing import TOO_LARGE_MESSAGE, TOO_LARGE_REASON, fargate_size
from . import fargate_auth, ipam
from . import kubeutil as ku

log = logging.getLogger(__name__)

SCHEDULER_NAME = "fargate-scheduler"
COMPUTE_TYPE_ANNOTATION = "eks.amazonaws.com/compute-type"
PRIORITY_CLASS, PRIORITY = "system-node-critical", 2000001000
CAPACITY_DELAY_S = (30.0, 45.0)  # microVM provisioning + node registration (DOMAIN.md 7.1)
KUBELET_VERSION = "v1.31.0-eks-a737599"
LOGGING_NAMESPACE, LOGGING_CONFIGMAP = "aws-observability", "aws-logging"
LOGGING_ENABLED = ("LoggingEnabled", "Normal", "Successfully enabled logging for pod", "LoggingEnabled")
LOGGING_DISABLED = ("LoggingDisabled", "Warning",
                    'Disabled logging because aws-logging configmap was not found. configmap '
                    '"aws-logging" not found', "LoggingDisabled: LOGGING_CONFIGMAP_NOT_FOUND")
RETRY_BLOCKED_S = 60.0  # fargate-scheduler's retry of launches blocked by the execution role
RETRY_VOLUMES_S = 30.0  # a missing or unbound claim can resolve (binding catches up): look again


def profiles(world) -> list[dict]:
    try:
        return world.aws.fargate_profiles(world.cluster_name)
    except Exception:  # noqa: BLE001 - no cluster on the AWS side: nothing selects the pod
        log.exception("fargate: cannot read Fargate profiles of %s", world.cluster_name)
        return []


def admit(world, rtype, pod: dict) -> None:
    """The EKS Fargate mutating webhook: selection happens once, at pod creation (existing pods
    are never moved), and a pod annotated compute-type ec2 is left to the default scheduler."""
    if rtype.kind != "Pod":
        return
    spec, meta = pod.setdefault("spec", {}), pod.setdefault("metadata", {})
    if spec.get("nodeName") or spec.get("schedulerName", "default-scheduler") != "default-scheduler":
        return
    if (meta.get("annotations") or {}).get(COMPUTE_TYPE_ANNOTATION) == "ec2":
        return
    profile = match_profile(meta.get("namespace") or "default", meta.get("labels") or {}, profiles(world))
    if profile is None:
        return
    spec["schedulerName"] = SCHEDULER_NAME
    meta.setdefault("labels", {})[PROFILE_LABEL] = profile["fargateProfileName"]
    spec["priorityClassName"] = PRIORITY_CLASS
    spec["priority"] = PRIORITY


def fargate_node(world, ip: str, az: str, uid: str, size, at: datetime | None = None) -> dict:
    dashed = ip.replace(".", "-")
    host = f"ip-{dashed}.{world.region}.compute.internal"
    name = f"fargate-{host}"
    digest = hashlib.sha256(f"{world.clock.seed}:{uid}".encode()).hexdigest()
    now = rfc3339(at) if at else ku.now_text(world)
    # Node size has no relation to the pod's (DOMAIN.md 1.3); the observed small-pod node is
    # 2 CPU / 4037540Ki, bigger pods get a microVM big enough to hold them.
    cpu = max(2, math.ceil(size.vcpu))
    mem_ki = max(4037540, int(size.memory_gb * 1024 * 1024) + 262144)
    conditions = [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                "eks.amazonaws.com/compute-type": "fargate",
                "failure-domain.beta.kubernetes.io/region": world.region,
                "failure-domain.beta.kubernetes.io/zone": az,
                "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": host,
                "kubernetes.io/os": "linux",
                "topology.kubernetes.io/region": world.region, "topology.kubernetes.io/zone": az,
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                            "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": {
            "providerID": f"aws:///{az}/{digest[:10]}-{digest[10:42]}/{name}",
            "taints": [{"key": "eks.amazonaws.com/compute-type", "value": "fargate",
                        "effect": "NoSchedule"}],
        },
        "status": {
            "capacity": {"cpu": str(cpu), "memory": f"{mem_ki}Ki", "ephemeral-storage": "30787492Ki",
                         "hugepages-1Gi": "0", "hugepages-2Mi": "0", "pods": "1"},
            "allocatable": {"cpu": str(cpu), "memory": f"{mem_ki - 102400}Ki",
                            "ephemeral-storage": "28373752513", "hugepages-1Gi": "0",
                            "hugepages-2Mi": "0", "pods": "1"},
            "conditions": [{"type": t, "status": s, "reason": r, "message": m,
                            "lastHeartbeatTime": now, "lastTransitionTime": now}
                           for t, s, r, m in conditions],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": host},
                          {"type": "InternalDNS", "address": host}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": digest[:32], "systemUUID": "ec2" + digest[3:32],
                "bootID": f"{digest[32:40]}-{digest[40:44]}-{digest[44:48]}-{digest[48:52]}-{digest[52:64]}",
                "kernelVersion": "5.10.230-223.885.amzn2.x86_64", "osImage": "Amazon Linux 2",
                "containerRuntimeVersion": "containerd://1.7.23", "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION, "operatingSystem": "linux", "architecture": "amd64",
            },
        },
    }


def _may_resolve(rejection: str) -> bool:
    """Only a claim that is missing or not yet bound (DOMAIN.md 5.2: "not found" shows
    transiently) or a blocked profile can resolve; an EBS-bound claim or a privileged flag never
    will."""
    return ("not found" in rejection or "not bound" in rejection
            or rejection.startswith("Misconfigured Fargate Profile"))


class FargateScheduler:
    def __init__(self, world) -> None:
        self.world = world
        self.store = world.store
        self.placing: dict[str, asyncio.Task] = {}

    def on_pod(self, event: str, pod: dict) -> None:
        meta, spec = pod["metadata"], pod["spec"]
        uid = meta["uid"]
        if event == "DELETED" or ku.is_terminating(pod):
            task = self.placing.pop(uid, None)
            if task is not None:
                task.cancel()
            node_name = spec.get("nodeName") or ""
            if event == "DELETED" and node_name.startswith("fargate-"):
                # One microVM per pod: it goes away with its pod.
                if self.store.get(ku.NODES, None, node_name) is not None:
                    self.store.delete(ku.NODES, None, node_name)
                ipam.release_ip(self.world, (pod.get("status") or {}).get("podIP"))
            return
        node_name = spec.get("nodeName") or ""
        if ku.is_finished(pod) and node_name.startswith("fargate-"):
            # A finished pod's microVM stops (a Job's pod, say): its node leaves the cluster
            # while the pod object stays until the pod garbage collector removes it.
            if self.store.get(ku.NODES, None, node_name) is not None:
                self.store.delete(ku.NODES, None, node_name)
            return
        if spec.get("schedulerName") != SCHEDULER_NAME or spec.get("nodeName") or uid in self.placing:
            return
        judged = ku.get_condition(pod, "PodScheduled")
        if judged is not None and not _may_resolve(judged.get("message") or ""):
            return  # refused for good: a pod it rejected keeps its condition
        self.placing[uid] = asyncio.ensure_future(self._place(meta["namespace"], meta["name"], uid))

    def on_resync(self, uids: set[str]) -> None:
        """After a watch gap: forget placements of pods that are gone and remove microVMs
        whose pod is gone (their DELETED events were missed)."""
        for uid in [u for u in self.placing if u not in uids]:
            self.placing.pop(uid).cancel()
        pods = self.store.scan(ku.PODS)
        in_use = {p["spec"].get("nodeName") for p in pods}
        nodes = self.store.scan(ku.NODES)
        for node in nodes:
            name = node["metadata"]["name"]
            if ku.is_fargate_node(node) and name not in in_use:
                self.store.delete(ku.NODES, None, name)

    def _volumes(self, namespace: str, spec: dict) -> tuple[dict, dict]:
        pvcs, pvs = {}, {}
        for volume in spec.get("volumes") or ():
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            pvc = self.store.get(ku.PVCS, namespace, claim)
            if pvc is None:
                continue
            pvcs[claim] = pvc
            volume_name = (pvc.get("spec") or {}).get("volumeName")
            if volume_name and (pv := self.store.get(ku.PVS, None, volume_name)) is not None:
                pvs[volume_name] = pv
        return pvcs, pvs

    def _unschedulable(self, pod: dict, reason: str, message: str, event: bool) -> None:
        now = ku.now_text(self.world)
        meta = pod["metadata"]
        self.store.mutate(ku.PODS, meta["namespace"], meta["name"], lambda p: ku.set_condition(
            p.setdefault("status", {}), "PodScheduled", "False", now, reason, message,
            probe_time=True), status=True)
        if event:
            self.store.record_event(pod, "FailedScheduling", message, type="Warning",
                                    component=SCHEDULER_NAME)

    async def _place(self, namespace: str, name: str, uid: str) -> None:
        try:
            await self._place_once(namespace, name, uid)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.exception("fargate-scheduler: placing %s/%s failed", namespace, name)
        finally:
            if self.placing.get(uid) is asyncio.current_task():
                del self.placing[uid]

    async def _place_once(self, namespace: str, name: str, uid: str) -> None:
        while True:
            pod = self.store.get(ku.PODS, namespace, name)
            if pod is None or pod["metadata"]["uid"] != uid or pod["spec"].get("nodeName"):
                return
            pvcs, pvs = self._volumes(namespace, pod["spec"])
            clauses = rejection_clauses(pod["spec"], pvcs, pvs)
            if not clauses:
                break
            self._unschedulable(pod, UNSUPPORTED_REASON, rejection_message(clauses), event=True)
            if not _may_resolve(", ".join(clauses)):
                return
            await self.world.clock.sleep(RETRY_VOLUMES_S)
        size = fargate_size(pod["spec"])
        if size is None:
            self._unschedulable(pod, TOO_LARGE_REASON, TOO_LARGE_MESSAGE, event=False)
            return
        profile_name = (pod["metadata"].get("labels") or {}).get(PROFILE_LABEL)
        profile = next((p for p in profiles(self.world)
                        if p.get("fargateProfileName") == profile_name), None)
        capacity_from = parse_rfc3339(pod["metadata"]["creationTimestamp"])
        while profile is not None and not fargate_auth.execution_role_ok(self.world, profile):
            # Blocked launches are retried: fixing the role lets the pending pod start.
            self._unschedulable(pod, "Unschedulable", fargate_auth.blocked_message(profile_name), event=True)
            await self.world.clock.sleep(RETRY_BLOCKED_S)
            pod = self.store.get(ku.PODS, namespace, name)
            if pod is None or pod["metadata"]["uid"] != uid or ku.is_terminating(pod):
                return
            capacity_from = self.world.clock.now()  # provisioning starts once launches resume
        # Capacity arrives a drawn delay after the pod was created, on the simulated timeline:
        # a lagging event loop must not stretch what the pod's conditions report.
        clock = self.world.clock
        ready_at = capacity_from + timedelta(
            seconds=clock.draw(f"fargate-capacity:{uid}", *CAPACITY_DELAY_S))
        await clock.sleep((ready_at - clock.now()).total_seconds())
        at = min(ready_at, clock.now())
        pod = self.store.get(ku.PODS, namespace, name)
        if pod is None or pod["metadata"]["uid"] != uid or ku.is_terminating(pod) or pod["spec"].get("nodeName"):
            return
        # A profile created without subnets uses the cluster's private subnets.
        subnets = (profile or {}).get("subnets") or ipam.private_subnets(self.world)
        subnet = subnets[self.world.clock.rng(f"fargate-subnet:{uid}").randrange(len(subnets))]
        cidr, az = ipam.subnet_info(self.world, subnet)
        ip = ipam.allocate_ip(self.world, cidr, uid)
        node = self.store.create(ku.NODES, fargate_node(self.world, ip, az, uid, size, at))
        self._bind(pod, node["metadata"]["name"], str(size), at)

    def _bind(self, pod: dict, node_name: str, capacity: str, at: datetime) -> None:
        meta = pod["metadata"]
        enabled = self.store.get(ku.rt("configmaps"), LOGGING_NAMESPACE, LOGGING_CONFIGMAP) is not None
        reason, etype, message, annotation = LOGGING_ENABLED if enabled else LOGGING_DISABLED
        now = rfc3339(at)

        def apply(p: dict) -> None:
            annotations = p["metadata"].setdefault("annotations", {})
            annotations["CapacityProvisioned"] = capacity
            annotations["Logging"] = annotation
            p["spec"]["nodeName"] = node_name
            ku.set_condition(p.setdefault("status", {}), "PodScheduled", "True", now, probe_time=True)

        bound = self.store.mutate(ku.PODS, meta["namespace"], meta["name"], apply)
        if bound is None:
            return
        ku.record_event_at(self.store, at, bound, "Scheduled", f"Successfully assigned {meta['namespace']}/"
                           f"{meta['name']} to {node_name}", component=SCHEDULER_NAME)
        ku.record_event_at(self.store, at, bound, reason, message, type=etype, component=SCHEDULER_NAME)

    async def run(self) -> None:
        try:
            await ku.informer(self.store, ku.PODS, self.on_pod, on_resync=self.on_resync)
        finally:
            for task in self.placing.values():
                task.cancel()


def install_admission(world) -> None:
    """Register the webhook once per store (the controller may be restarted after a crash)."""
    if not world.extras.get("fargate.admission"):
        world.store.add_admission_hook(lambda rtype, obj: admit(world, rtype, obj))
        world.extras["fargate.admission"] = True


async def run(world) -> None:
    install_admission(world)
    await FargateScheduler(world).run()
