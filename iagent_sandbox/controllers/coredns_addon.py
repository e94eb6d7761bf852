"""The CoreDNS EKS add-on's side in the cluster (DOMAIN.md 4.2).

When an add-on update sets ``computeType: Fargate`` the add-on manager re-applies the coredns
Deployment without the ``eks.amazonaws.com/compute-type: ec2`` pod-template annotation; without
``computeType`` it puts the annotation back (CoreDNS on EC2). The template change rolls the pods,
so new pods go through Fargate admission (and land on Fargate only if a profile matches). Then the
update's outcome follows the Deployment: ACTIVE once the desired replicas are updated and ready,
DEGRADED with health issue ``InsufficientNumberOfReplicas`` (and EKS's message) when they stay
unscheduled. The add-on's health keeps following the Deployment afterwards, so a Fargate profile
created later plus a ``kubectl rollout restart`` brings a DEGRADED add-on back to ACTIVE.
"""

from __future__ import annotations

import asyncio
import logging

from ..clock import rfc3339
from ..kube.resources import rt
from .awslinks import Wakeup, watch_objects

log = logging.getLogger(__name__)

ADDON = "coredns"
NAMESPACE = "kube-system"
DEPLOYMENT = "coredns"
POD_SELECTOR = "k8s-app=kube-dns"
COMPUTE_TYPE_ANNOTATION = "eks.amazonaws.com/compute-type"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
# How long replicas may be missing before EKS's add-on health check reports it (it checks on a
# period, not on every pod event).
DEGRADE_AFTER = (45.0, 75.0)
DEPLOYMENTS, PODS = rt("deployments"), rt("pods")

UNHEALTHY_UNSCHEDULED = "The add-on is unhealthy because all deployments have all pods unscheduled {reason}"
UNHEALTHY_REPLICAS = "The add-on is unhealthy because it doesn't have the desired number of replicas."


def apply_compute_type(deployment: dict, config: dict) -> bool:
    """Edit the Deployment as the add-on manager does for these configuration values."""
    spec = deployment["spec"]
    template_meta = spec["template"].setdefault("metadata", {})
    annotations = template_meta.setdefault("annotations", {})
    before = dict(annotations)
    if str(config.get("computeType", "")).lower() == "fargate":
        annotations.pop(COMPUTE_TYPE_ANNOTATION, None)
    else:
        annotations[COMPUTE_TYPE_ANNOTATION] = "ec2"
    if "replicaCount" in config:
        spec["replicas"] = int(config["replicaCount"])
    if isinstance(config.get("resources"), dict):
        for container in spec["template"]["spec"]["containers"]:
            if container.get("name") == "coredns":
                container["resources"] = config["resources"]
    return annotations != before


def replicas_settled(deployment: dict) -> bool:
    """The rollout is complete and every desired replica is ready (kubectl rollout status)."""
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    desired = int(spec.get("replicas", 1))
    generation = deployment["metadata"].get("generation", 0)
    return (status.get("observedGeneration", 0) >= generation
            and status.get("updatedReplicas", 0) >= desired
            and status.get("readyReplicas", 0) >= desired
            and status.get("replicas", 0) <= desired)


def health_issue(pods: list[dict]) -> dict:
    """EKS's InsufficientNumberOfReplicas issue, worded after what the pods show."""
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    unscheduled = [p for p in live if not (p.get("spec") or {}).get("nodeName")]
    if live and len(unscheduled) == len(live):
        reason = "no nodes available to schedule pods"
        for pod in unscheduled:
            for cond in (pod.get("status") or {}).get("conditions") or []:
                if cond.get("type") == "PodScheduled" and cond.get("status") == "False" and cond.get("message"):
                    reason = cond["message"]
                    break
        message = UNHEALTHY_UNSCHEDULED.format(reason=reason)
    else:
        message = UNHEALTHY_REPLICAS
    return {"code": "InsufficientNumberOfReplicas", "message": message, "resourceIds": [DEPLOYMENT]}


def _unschedulable(pod: dict) -> bool:
    if pod["metadata"].get("deletionTimestamp") or (pod.get("spec") or {}).get("nodeName"):
        return False
    return any(c.get("type") == "PodScheduled" and c.get("status") == "False"
               for c in (pod.get("status") or {}).get("conditions") or [])


class CorednsAddonController:
    def __init__(self, world) -> None:
        self.world = world
        self.cluster = world.cluster_name
        self.wakeup = Wakeup(world.clock)
        self.update_pending = False
        self.unhealthy_kind: str | None = None     # "unschedulable" or "progressing"
        self.unhealthy_since = 0.0
        self._pending_config: dict | None = None
        self._updates = 0

    # AwsSandbox calls this on its own thread or loop; only hand the work over.
    def on_addon_update(self, cluster: str, addon: str, config: dict | None) -> None:
        if cluster != self.cluster or addon != ADDON:
            return
        loop = self._loop

        def hand_over() -> None:
            self._pending_config = dict(config or {})
            self.wakeup.set()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            hand_over()
        else:
            loop.call_soon_threadsafe(hand_over)

    def _apply_update(self, config: dict) -> None:
        store, clock = self.world.store, self.world.clock
        self._updates += 1
        self.update_pending = True
        self.unhealthy_kind = None

        def edit(deployment: dict) -> None:
            changed = apply_compute_type(deployment, config)
            if not changed:
                # Same placement asked again: the add-on manager still re-applies, and the
                # sandbox restarts the pods so they are admitted afresh (what users expect from
                # an update that names computeType).
                template_meta = deployment["spec"]["template"].setdefault("metadata", {})
                template_meta.setdefault("annotations", {})[RESTARTED_AT] = rfc3339(clock.now())
        if store.mutate(DEPLOYMENTS, NAMESPACE, DEPLOYMENT, edit) is None:
            log.warning("coredns add-on update: deployment %s/%s not found", NAMESPACE, DEPLOYMENT)

    def evaluate(self) -> float | None:
        """Bring the add-on's status in line with the Deployment; returns the simulated seconds
        until the next decision if one is pending."""
        store, clock, aws = self.world.store, self.world.clock, self.world.aws
        deployment = store.get(DEPLOYMENTS, NAMESPACE, DEPLOYMENT)
        addon = aws.addon(self.cluster, ADDON)
        if deployment is None or addon is None:
            return None
        if replicas_settled(deployment):
            self.unhealthy_kind = None
            if self.update_pending:
                self.update_pending = False
                aws.complete_addon_update(self.cluster, ADDON, "ACTIVE", [])
            elif addon.get("status") == "DEGRADED":
                aws.set_addon_health(self.cluster, ADDON, "ACTIVE", [])
            return None
        # Unhealthy: how long may it last before EKS reports it? Pods the scheduler rejects
        # are reported after the health check's period; a rollout that is merely slow only
        # after the Deployment's progress deadline.
        pods, _ = store.list(PODS, NAMESPACE, label_selector=POD_SELECTOR)
        kind = "unschedulable" if any(_unschedulable(p) for p in pods) else "progressing"
        now = clock.elapsed()
        if self.unhealthy_kind != kind:
            self.unhealthy_kind, self.unhealthy_since = kind, now
        if kind == "unschedulable":
            allowed = clock.draw(f"coredns-addon:degrade:{self._updates}", *DEGRADE_AFTER)
        else:
            allowed = float((deployment.get("spec") or {}).get("progressDeadlineSeconds") or 600)
        due = self.unhealthy_since + allowed
        if now < due:
            return due - now
        issue = health_issue(pods)
        if self.update_pending:
            self.update_pending = False
            aws.complete_addon_update(self.cluster, ADDON, "DEGRADED", [issue])
        elif addon.get("status") in ("ACTIVE", "DEGRADED") and (
                addon.get("status") != "DEGRADED" or (addon.get("health") or {}).get("issues") != [issue]):
            aws.set_addon_health(self.cluster, ADDON, "DEGRADED", [issue])
        return None

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        # This controller, not a timer, decides how a coredns update ends.
        self.world.aws.controlled_addons.add(ADDON)
        listeners = self.world.aws.addon_update_listeners
        listeners.append(self.on_addon_update)
        watchers = [
            asyncio.create_task(watch_objects(self.world.store, DEPLOYMENTS, self._on_deployment, NAMESPACE)),
            asyncio.create_task(watch_objects(self.world.store, PODS, self.wakeup.set, NAMESPACE,
                                              label_selector=POD_SELECTOR)),
        ]
        try:
            next_in: float | None = None
            while True:
                await self.wakeup.wait(next_in)
                if self._pending_config is not None:
                    config, self._pending_config = self._pending_config, None
                    self._apply_update(config)
                next_in = self.evaluate()
        finally:
            for task in watchers:
                task.cancel()
            if self.on_addon_update in listeners:
                listeners.remove(self.on_addon_update)

    def _on_deployment(self, _type: str, obj: dict) -> None:
        if obj["metadata"]["name"] == DEPLOYMENT:
            self.wakeup.set()


async def run(world) -> None:
    await CorednsAddonController(world).run()
