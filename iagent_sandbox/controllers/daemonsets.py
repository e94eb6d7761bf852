"""The DaemonSet controller: one pod per eligible node, pinned with the node-name affinity the
real controller uses (the default scheduler then binds it), the tolerations it adds to every
daemon pod, rolling replacement after a template change, and the status kubectl shows.

Fargate nodes are never eligible: "Daemonsets aren't supported on Fargate" (DOMAIN.md 5.1). Their
compute-type taint already keeps ordinary daemons off; EKS's own (kube-proxy, aws-node) tolerate
every taint and carry a ``compute-type NotIn fargate`` affinity instead — a daemon that tolerates
everything and lacks it would still not run there, because Fargate admits only its one pod.
"""

from __future__ import annotations

import asyncio
import copy

from . import kubeutil as ku
from .replicasets import pod_from_template

COMPONENT = "daemonset-controller"
# DaemonSet controller's AddOrUpdateDaemonPodTolerations (pkg/controller/daemon/util).
DAEMON_TOLERATIONS = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
HOST_NETWORK_TOLERATION = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
                           "effect": "NoSchedule"}


def daemon_tolerations(spec: dict) -> list[dict]:
    tolerations = list(spec.get("tolerations") or [])
    extra = list(DAEMON_TOLERATIONS) + ([HOST_NETWORK_TOLERATION] if spec.get("hostNetwork") else [])
    for toleration in extra:
        if toleration not in tolerations:
            tolerations.append(dict(toleration))
    return tolerations


def should_run(node: dict, template_spec: dict) -> bool:
    if ku.is_fargate_node(node):
        return False
    if not ku.node_matches_pod(node, template_spec):
        return False
    return ku.untolerated_taint(node, daemon_tolerations(template_spec)) is None


def target_node(pod: dict) -> str | None:
    if pod["spec"].get("nodeName"):
        return pod["spec"]["nodeName"]
    terms = ((((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
              .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or [])
    for term in terms:
        for field in term.get("matchFields") or ():
            if field.get("key") == "metadata.name" and field.get("values"):
                return field["values"][0]
    return None


def daemon_pod(ds: dict, node_name: str, revision_hash: str) -> dict:
    pod = pod_from_template(ds, ds["spec"]["template"])
    labels = pod["metadata"]["labels"]
    labels["controller-revision-hash"] = revision_hash
    labels["pod-template-generation"] = str(ds["metadata"].get("generation", 1))
    spec = pod["spec"]
    spec["tolerations"] = daemon_tolerations(spec)
    affinity = spec.setdefault("affinity", {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    # The controller replaces the required terms by a match on the node's name.
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}
    return pod


class DaemonSetController:
    def __init__(self, world) -> None:
        self.world = world
        self.store = world.store
        self.queue = ku.WorkQueue()
        self.pods = ku.PodCache()

    def on_ds(self, event: str, ds: dict) -> None:
        if event != "DELETED":
            self.queue.add(ku.obj_key(ds))

    def on_pod(self, event: str, pod: dict) -> None:
        self.pods.update(event, pod)
        ref = ku.controller_ref(pod)
        if ref and ref.get("kind") == "DaemonSet":
            self.queue.add((pod["metadata"]["namespace"], ref["name"]))

    def on_node(self, event: str, node: dict) -> None:
        daemonsets, _ = self.store.list(ku.DAEMONSETS)
        for ds in daemonsets:
            self.queue.add(ku.obj_key(ds))

    def reconcile(self, key: tuple[str, str]) -> None:
        namespace, name = key
        ds = self.store.get(ku.DAEMONSETS, namespace, name)
        if ds is None or ku.is_terminating(ds):
            return
        template_spec = ds["spec"]["template"].get("spec") or {}
        revision_hash = ku.template_hash_text(ds["spec"]["template"])
        generation = str(ds["metadata"].get("generation", 1))
        nodes = self.store.scan(ku.NODES)
        eligible = {n["metadata"]["name"] for n in nodes if should_run(n, template_spec)}
        active = [p for p in self.pods.owned(ds["metadata"]["uid"]) if ku.is_active(p)]
        by_node: dict[str, list[dict]] = {}
        for pod in active:
            by_node.setdefault(target_node(pod) or "", []).append(pod)
        for node_name, node_pods in by_node.items():
            extra = node_pods if node_name not in eligible else node_pods[1:]
            for pod in extra:
                self._delete(ds, pod)
        for node_name in sorted(eligible - set(by_node)):
            created = self.store.create(ku.PODS, daemon_pod(ds, node_name, revision_hash))
            self.pods.update("ADDED", created)
            self.store.record_event(ds, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                                    component=COMPONENT)
        self._rolling_update(ds, by_node, eligible, generation)
        self._status(ds, by_node, eligible, generation)

    def _delete(self, ds: dict, pod: dict) -> None:
        gone = self.store.delete(ku.PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
        self.pods.update("MODIFIED" if gone and gone["metadata"].get("deletionTimestamp") else "DELETED",
                         gone or pod)
        self.store.record_event(ds, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}",
                                component=COMPONENT)

    def _rolling_update(self, ds: dict, by_node: dict, eligible: set[str], generation: str) -> None:
        if (ds["spec"].get("updateStrategy") or {}).get("type") == "OnDelete":
            return
        current = [pods[0] for node, pods in by_node.items() if node in eligible and pods]
        outdated = [p for p in current if (p["metadata"].get("labels") or {}).get("pod-template-generation") != generation]
        unavailable = len(eligible) - sum(1 for p in current if ku.pod_ready(p))
        budget = 1 - unavailable  # maxUnavailable defaults to 1
        for pod in sorted(outdated, key=lambda p: (ku.pod_ready(p), p["metadata"]["name"])):
            if budget <= 0 and ku.pod_ready(pod):
                break
            self._delete(ds, pod)
            if ku.pod_ready(pod):
                budget -= 1

    def _status(self, ds: dict, by_node: dict, eligible: set[str], generation: str) -> None:
        scheduled = [pods[0] for node, pods in by_node.items() if node in eligible and pods]
        misscheduled = sum(1 for node in by_node if node not in eligible)
        ready = sum(1 for p in scheduled if ku.pod_ready(p))
        updated = sum(1 for p in scheduled
                      if (p["metadata"].get("labels") or {}).get("pod-template-generation") == generation)
        status = {"currentNumberScheduled": len(scheduled), "desiredNumberScheduled": len(eligible),
                  "numberMisscheduled": misscheduled, "numberReady": ready,
                  "numberAvailable": ready, "updatedNumberScheduled": updated,
                  "observedGeneration": ds["metadata"].get("generation", 1)}
        if len(eligible) - ready > 0:
            status["numberUnavailable"] = len(eligible) - ready
        if not ready:
            del status["numberAvailable"]
        self.store.mutate(ku.DAEMONSETS, ds["metadata"]["namespace"], ds["metadata"]["name"],
                          lambda obj: obj.__setitem__("status", copy.deepcopy(status)), status=True)

    async def run(self) -> None:
        await asyncio.gather(ku.informer(self.store, ku.DAEMONSETS, self.on_ds),
                             ku.informer(self.store, ku.NODES, self.on_node),
                             ku.informer(self.store, ku.PODS, self.on_pod),
                             ku.run_workers(self.queue, self.reconcile, COMPONENT))


async def run(world) -> None:
    await DaemonSetController(world).run()
