"""The Deployment controller (pkg/controller/deployment): one ReplicaSet per pod template, named
``<deployment>-<pod-template-hash>``, rolling updates bounded by maxSurge/maxUnavailable (or
Recreate), revisions in ``deployment.kubernetes.io/revision``, scaling, and the status and
conditions kubectl rollout status reads. ``kubectl rollout restart`` needs nothing special: it
changes the template (restartedAt annotation), which makes a new ReplicaSet.
"""

from __future__ import annotations

import asyncio
import copy
import math
from datetime import timedelta

from . import kubeutil as ku
from ..clock import parse_rfc3339

REVISION = "deployment.kubernetes.io/revision"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
COMPONENT = "deployment-controller"


def _int_or_percent(value, total: int, round_up: bool) -> int:
    if value is None:
        value = "25%"
    if isinstance(value, str) and value.endswith("%"):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def surge_and_unavailable(deployment: dict, replicas: int) -> tuple[int, int]:
    rolling = (deployment["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    surge = _int_or_percent(rolling.get("maxSurge"), replicas, True)
    unavailable = _int_or_percent(rolling.get("maxUnavailable"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1  # the API forbids both zero; the controller would stall otherwise
    return surge, unavailable


def _template_without_hash(template: dict) -> dict:
    template = copy.deepcopy(template)
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop(HASH_LABEL, None)
    return template


def _revision(rs: dict) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _replicas(rs: dict) -> int:
    return int(rs["spec"].get("replicas", 0))


def _available(rs: dict) -> int:
    return int((rs.get("status") or {}).get("availableReplicas", 0))


class DeploymentController:
    def __init__(self, world) -> None:
        self.world = world
        self.store = world.store
        self.queue = ku.WorkQueue()

    def on_deployment(self, event: str, deployment: dict) -> None:
        if event != "DELETED":
            self.queue.add(ku.obj_key(deployment))

    def on_rs(self, event: str, rs: dict) -> None:
        ref = ku.controller_ref(rs)
        if ref and ref.get("kind") == "Deployment":
            self.queue.add((rs["metadata"]["namespace"], ref["name"]))

    # -- replica set edits ------------------------------------------------------------------
    def _scale(self, deployment: dict, rs: dict, replicas: int, max_replicas: int) -> dict:
        old = _replicas(rs)
        desired = str(deployment["spec"].get("replicas", 1))

        def apply(obj: dict) -> None:
            obj["spec"]["replicas"] = replicas
            annotations = obj["metadata"].setdefault("annotations", {})
            annotations[DESIRED] = desired
            annotations[MAX_REPLICAS] = str(max_replicas)
        updated = self.store.mutate(ku.REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"], apply)
        if old != replicas:
            verb = "up" if replicas > old else "down"
            self.store.record_event(deployment, "ScalingReplicaSet",
                                    f"Scaled {verb} replica set {rs['metadata']['name']} from {old} to {replicas}",
                                    component=COMPONENT)
        return updated or rs

    def _new_rs(self, deployment: dict, rss: list[dict], replicas: int, max_total: int) -> dict:
        template = copy.deepcopy(deployment["spec"]["template"])
        pod_hash = ku.template_hash_text([template, (deployment.get("status") or {}).get("collisionCount", 0)])
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = copy.deepcopy(deployment["spec"].get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        revision = max((_revision(rs) for rs in rss), default=0) + 1
        meta = deployment["metadata"]
        rs = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{meta['name']}-{pod_hash}", "namespace": meta["namespace"],
                         "labels": dict(template["metadata"]["labels"]),
                         "annotations": {REVISION: str(revision), DESIRED: str(replicas),
                                         MAX_REPLICAS: str(max_total)},
                         "ownerReferences": [ku.owner_reference(deployment)]},
            "spec": {"replicas": 0, "minReadySeconds": deployment["spec"].get("minReadySeconds", 0),
                     "selector": selector, "template": template},
        }
        created = self.store.create(ku.REPLICASETS, rs)
        self._progressing(deployment, "True", "NewReplicaSetCreated",
                          f'Created new replica set "{created["metadata"]["name"]}"')
        return created

    # -- reconcile --------------------------------------------------------------------------
    def reconcile(self, key: tuple[str, str]) -> None:
        namespace, name = key
        deployment = self.store.get(ku.DEPLOYMENTS, namespace, name)
        if deployment is None or ku.is_terminating(deployment):
            return
        all_rs = self.store.scan(ku.REPLICASETS, namespace)
        rss = ku.owned_by(all_rs, deployment["metadata"]["uid"])
        template = _template_without_hash(deployment["spec"]["template"])
        new = next((rs for rs in rss if _template_without_hash(rs["spec"]["template"]) == template), None)
        old = [rs for rs in rss if rs is not new]
        replicas = int(deployment["spec"].get("replicas", 1))
        surge, unavailable = surge_and_unavailable(deployment, replicas)
        recreate = (deployment["spec"].get("strategy") or {}).get("type") == "Recreate"
        if deployment["spec"].get("paused"):
            self._status(deployment, new, rss, unavailable)
            return
        if new is None:
            new = self._new_rs(deployment, rss, replicas, replicas + surge)
            rss.append(new)
        elif _revision(new) <= max((_revision(rs) for rs in old), default=0):
            # A rollback to an old template: its ReplicaSet becomes the newest revision.
            top = max(_revision(rs) for rs in old) + 1
            new = self.store.mutate(ku.REPLICASETS, namespace, new["metadata"]["name"],
                                    lambda obj: obj["metadata"].setdefault("annotations", {})
                                    .__setitem__(REVISION, str(top))) or new
        if recreate:
            self._recreate(deployment, new, old, replicas)
        else:
            self._roll(deployment, new, old, replicas, surge, unavailable)
        rss = self.store.scan(ku.REPLICASETS, namespace)
        rss = ku.owned_by(rss, deployment["metadata"]["uid"])
        new = next((rs for rs in rss if rs["metadata"]["name"] == new["metadata"]["name"]), new)
        self._cleanup(deployment, new, rss)
        self._status(deployment, new, rss, unavailable)

    def _recreate(self, deployment: dict, new: dict, old: list[dict], replicas: int) -> None:
        for rs in old:
            if _replicas(rs):
                self._scale(deployment, rs, 0, replicas)
        if any(int((rs.get("status") or {}).get("replicas", 0)) for rs in old):
            return  # wait until every old pod is gone
        if _replicas(new) != replicas:
            self._scale(deployment, new, replicas, replicas)

    def _roll(self, deployment: dict, new: dict, old: list[dict], replicas: int, surge: int,
              unavailable: int) -> None:
        max_total = replicas + surge
        active_old = [rs for rs in old if _replicas(rs)]
        if not active_old:  # plain scaling
            if _replicas(new) != replicas:
                self._scale(deployment, new, replicas, max_total)
            return
        total = _replicas(new) + sum(_replicas(rs) for rs in active_old)
        if _replicas(new) < replicas:
            step = min(max_total - total, replicas - _replicas(new))
            if step > 0:
                new = self._scale(deployment, new, _replicas(new) + step, max_total)
                total += step
        elif _replicas(new) > replicas:
            new = self._scale(deployment, new, replicas, max_total)
        # Scale down old ReplicaSets as far as availability allows (reconcileOldReplicaSets).
        min_available = replicas - unavailable
        new_unavailable = _replicas(new) - _available(new)
        budget = total - min_available - new_unavailable
        if budget <= 0:
            return
        # Unhealthy old replicas go first: removing them costs no availability.
        for rs in sorted(active_old, key=lambda r: r["metadata"].get("creationTimestamp", "")):
            unhealthy = _replicas(rs) - _available(rs)
            cut = min(budget, max(0, unhealthy))
            if cut:
                self._scale(deployment, rs, _replicas(rs) - cut, max_total)
                budget -= cut
                rs["spec"]["replicas"] = _replicas(rs) - cut
        total_available = _available(new) + sum(_available(rs) for rs in active_old)
        budget = min(budget, total_available - min_available)
        for rs in sorted(active_old, key=lambda r: r["metadata"].get("creationTimestamp", "")):
            if budget <= 0:
                break
            cut = min(budget, _replicas(rs))
            if cut:
                self._scale(deployment, rs, _replicas(rs) - cut, max_total)
                budget -= cut

    def _cleanup(self, deployment: dict, new: dict, rss: list[dict]) -> None:
        limit = int(deployment["spec"].get("revisionHistoryLimit", 10))
        idle = [rs for rs in rss if rs["metadata"]["name"] != new["metadata"]["name"]
                and not _replicas(rs) and not (rs.get("status") or {}).get("replicas")]
        idle.sort(key=_revision)
        for rs in idle[:max(0, len(idle) - limit)]:
            self.store.delete(ku.REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"])

    # -- status -----------------------------------------------------------------------------
    def _progressing(self, deployment: dict, value: str, reason: str, message: str) -> None:
        now = ku.now_text(self.world)

        def apply(obj: dict) -> None:
            st = obj.setdefault("status", {})
            cond = ku.get_condition(obj, "Progressing")
            if cond and cond.get("reason") == reason and cond.get("message") == message:
                return
            ku.set_condition(st, "Progressing", value, now, reason, message)
            ku.get_condition(obj, "Progressing")["lastUpdateTime"] = now
        meta = deployment["metadata"]
        self.store.mutate(ku.DEPLOYMENTS, meta["namespace"], meta["name"], apply, status=True)

    def _status(self, deployment: dict, new: dict | None, rss: list[dict], unavailable: int) -> None:
        meta = deployment["metadata"]
        replicas = int(deployment["spec"].get("replicas", 1))
        statuses = [rs.get("status") or {} for rs in rss]
        total = sum(s.get("replicas", 0) for s in statuses)
        ready = sum(s.get("readyReplicas", 0) for s in statuses)
        avail = sum(s.get("availableReplicas", 0) for s in statuses)
        updated = ((new or {}).get("status") or {}).get("replicas", 0) if new else 0
        new_name = new["metadata"]["name"] if new else ""
        complete = (new is not None and updated == replicas and total == replicas
                    and _available(new) >= replicas)
        now_dt = self.world.clock.now()
        now = ku.now_text(self.world)
        deadline = deployment["spec"].get("progressDeadlineSeconds", 600)

        def apply(obj: dict) -> None:
            st = obj.setdefault("status", {})
            st.update({"observedGeneration": meta.get("generation", 1), "replicas": total,
                       "updatedReplicas": updated, "readyReplicas": ready,
                       "availableReplicas": avail})
            for key in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas"):
                if not st[key]:
                    del st[key]
            if replicas - avail > 0:
                st["unavailableReplicas"] = replicas - avail
            else:
                st.pop("unavailableReplicas", None)
            if avail >= replicas - unavailable:
                ku.set_condition(st, "Available", "True", now, "MinimumReplicasAvailable",
                                 "Deployment has minimum availability.")
            else:
                ku.set_condition(st, "Available", "False", now, "MinimumReplicasUnavailable",
                                 "Deployment does not have minimum availability.")
            available_cond = ku.get_condition(obj, "Available")
            available_cond.setdefault("lastUpdateTime", now)
            if available_cond["lastTransitionTime"] == now:
                available_cond["lastUpdateTime"] = now
            progressing = ku.get_condition(obj, "Progressing")
            if not new_name or deployment["spec"].get("paused"):
                return
            if complete:
                reason, value, message = ("NewReplicaSetAvailable", "True",
                                          f'ReplicaSet "{new_name}" has successfully progressed.')
            elif progressing and progressing.get("lastUpdateTime") and progressing.get("reason") != "ProgressDeadlineExceeded" and \
                    now_dt - parse_rfc3339(progressing["lastUpdateTime"]) > timedelta(seconds=deadline):
                reason, value, message = ("ProgressDeadlineExceeded", "False",
                                          f'ReplicaSet "{new_name}" has timed out progressing.')
            elif progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
                return
            else:
                reason, value, message = ("ReplicaSetUpdated", "True",
                                          f'ReplicaSet "{new_name}" is progressing.')
                if progressing and progressing.get("reason") == "NewReplicaSetCreated" and \
                        progressing.get("message", "").endswith(f'"{new_name}"') and updated == 0:
                    return
            if progressing and progressing.get("reason") == reason and progressing.get("message") == message:
                return
            ku.set_condition(st, "Progressing", value, now, reason, message)
            ku.get_condition(obj, "Progressing")["lastUpdateTime"] = now

        def annotate(obj: dict) -> None:
            if new is not None:
                obj["metadata"].setdefault("annotations", {})[REVISION] = str(_revision(new))
        if new is not None and (meta.get("annotations") or {}).get(REVISION) != str(_revision(new)):
            self.store.mutate(ku.DEPLOYMENTS, meta["namespace"], meta["name"], annotate)
        self.store.mutate(ku.DEPLOYMENTS, meta["namespace"], meta["name"], apply, status=True)
        if not complete and new is not None:
            self.queue.add_after((meta["namespace"], meta["name"]),
                                 self.world.clock.wall_seconds(deadline + 1))

    async def run(self) -> None:
        await asyncio.gather(ku.informer(self.store, ku.DEPLOYMENTS, self.on_deployment),
                             ku.informer(self.store, ku.REPLICASETS, self.on_rs),
                             ku.run_workers(self.queue, self.reconcile, COMPONENT))


async def run(world) -> None:
    await DeploymentController(world).run()
