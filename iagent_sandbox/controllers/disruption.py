"""The disruption controller (pkg/controller/disruption): each PodDisruptionBudget's status —
expected, healthy and desired pod counts, ``disruptionsAllowed`` and the DisruptionAllowed
condition — which the eviction subresource (kube/eviction.py) spends from."""

from __future__ import annotations

import asyncio
import math

from ..kube.resources import rt
from ..kube.selectors import label_selector_from_match
from . import kubeutil as ku

PDBS = rt("poddisruptionbudgets")
COMPONENT = "controllermanager"


def _scaled(value, total: int) -> int:
    """intstr.GetScaledValueFromIntOrPercent with round-up."""
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


class DisruptionController:
    def __init__(self, world) -> None:
        self.world = world
        self.store = world.store
        self.queue = ku.WorkQueue()

    def on_pdb(self, event: str, pdb: dict) -> None:
        if event != "DELETED":
            self.queue.add(ku.obj_key(pdb))

    def on_pod(self, event: str, pod: dict) -> None:
        pdbs, _ = self.store.list(PDBS, pod["metadata"]["namespace"])
        for pdb in pdbs:
            self.queue.add(ku.obj_key(pdb))

    def _controller_scale(self, pod: dict) -> tuple[str, int] | None:
        """The replicas of the workload the pod belongs to (a Deployment through its
        ReplicaSet, a StatefulSet, a bare ReplicaSet), keyed by that workload's uid."""
        ref = ku.controller_ref(pod)
        namespace = pod["metadata"]["namespace"]
        if ref is None:
            return None
        if ref["kind"] == "ReplicaSet":
            rs = self.store.get(ku.REPLICASETS, namespace, ref["name"])
            if rs is None:
                return None
            owner = ku.controller_ref(rs)
            if owner and owner["kind"] == "Deployment":
                dep = self.store.get(ku.DEPLOYMENTS, namespace, owner["name"])
                if dep is not None:
                    return dep["metadata"]["uid"], int(dep["spec"].get("replicas", 1))
            return rs["metadata"]["uid"], int(rs["spec"].get("replicas", 1))
        if ref["kind"] == "StatefulSet":
            sts = self.store.get(ku.STATEFULSETS, namespace, ref["name"])
            if sts is not None:
                return sts["metadata"]["uid"], int(sts["spec"].get("replicas", 1))
        return None

    def reconcile(self, key: tuple[str, str]) -> None:
        namespace, name = key
        pdb = self.store.get(PDBS, namespace, name)
        if pdb is None or ku.is_terminating(pdb):
            return
        spec = pdb.get("spec") or {}
        pods, _ = self.store.list(ku.PODS, namespace)
        selector = label_selector_from_match(spec.get("selector"))
        pods = [p for p in pods if selector.matches(p["metadata"].get("labels") or {})]
        disrupted = {k: v for k, v in ((pdb.get("status") or {}).get("disruptedPods") or {}).items()
                     if any(p["metadata"]["name"] == k and not ku.is_terminating(p) for p in pods)}
        healthy = sum(1 for p in pods if ku.pod_ready(p) and not ku.is_terminating(p)
                      and p["metadata"]["name"] not in disrupted)
        if spec.get("maxUnavailable") is not None or isinstance(spec.get("minAvailable"), str):
            scales = {s[0]: s[1] for p in pods if (s := self._controller_scale(p)) is not None}
            expected = sum(scales.values()) + sum(1 for p in pods if self._controller_scale(p) is None)
            if spec.get("maxUnavailable") is not None:
                desired = max(0, expected - _scaled(spec["maxUnavailable"], expected))
            else:
                desired = _scaled(spec["minAvailable"], expected)
        else:
            expected = len(pods)
            desired = int(spec.get("minAvailable") or 0)
        allowed = max(0, healthy - desired)
        now = ku.now_text(self.world)
        generation = pdb["metadata"].get("generation", 1)

        def apply(obj: dict) -> None:
            st = obj.setdefault("status", {})
            st.update(currentHealthy=healthy, desiredHealthy=desired, disruptionsAllowed=allowed,
                      expectedPods=expected, observedGeneration=generation)
            if disrupted:
                st["disruptedPods"] = disrupted
            else:
                st.pop("disruptedPods", None)
            ku.set_condition(st, "DisruptionAllowed", "True" if allowed > 0 else "False", now,
                             "SufficientPods" if allowed > 0 else "InsufficientPods")
            for cond in st["conditions"]:
                cond["message"] = ""
                cond["observedGeneration"] = generation
        self.store.mutate(PDBS, namespace, name, apply, status=True)

    async def run(self) -> None:
        await asyncio.gather(ku.informer(self.store, PDBS, self.on_pdb),
                             ku.informer(self.store, ku.PODS, self.on_pod),
                             ku.run_workers(self.queue, self.reconcile, "disruption-controller"))


async def run(world) -> None:
    await DisruptionController(world).run()
