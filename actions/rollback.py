"""rollback: everything back onto EC2 without avoidable downtime — first make room (scale the node
group up and wait for Ready nodes), move CoreDNS back to EC2 through its add-on, then, profile by
profile, roll every workload running on it back to EC2 by a rolling update (drop the move label
from its pod template; on a namespace-wide profile, annotate it compute-type ec2, DOMAIN.md 4.1)
so its replicas keep serving, and delete the profile once no pod runs on it. Deleting a profile
stops its pods (DOMAIN.md 3.6), so only what no rolling update can move — a pod without a
controller — is stopped that way, and the plan says so. The result reports, per workload, the
measured seconds with no ready replica. The brief's `make cleanup` plus its rollback plan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from fnmatch import fnmatchcase

from iagent_tui.services.kube import NAMESPACES, NODES, PODS, Resource

from .base import Plan, PlanStep, ProgressEvent, StepAction, StepFailed
from .capacity import NODEGROUP_LABEL, node_ready, nodes_needed
from .cluster_state import (COREDNS_SELECTOR, FARGATE_PROFILE_LABEL, addon_config, coredns_addon, is_ready, live,
                            on_fargate, pod_name, pods, profiles, selector_string, workloads)
from .context import ActionContext
from .deploy import set_coredns_compute_type
from .namespace import restart_workloads
from .moves import COMPUTE_TYPE_ANNOTATION, RESOURCES, ReadinessWatch, interruption, roll
from .profile_steps import delete_profile, is_label_scoped
from .preflight import preflight
from .waits import wait_until

REPLICASETS = Resource("replicasets", "ReplicaSet", "apps")
MIN_NODES = 2  # enough EC2 capacity for CoreDNS's two replicas on separate nodes


class RollbackAction(StepAction):
    name = "rollback"
    title = "Rollback: move everything back to EC2"

    def __init__(self, ctx: ActionContext) -> None:
        self.ctx = ctx
        self.targets: dict[str, tuple[int, int, int]] = {}  # node group -> (min, desired, max) to set
        self.affected: dict[str, dict[str, list[str]]] = {}  # profile -> namespace -> ["Deployment/x"]
        self.label_scoped: dict[str, bool] = {}  # profile -> leaving it is dropping the move label
        self.watched: tuple[str, ...] = ()  # namespaces whose readiness is measured during the run
        self.readiness: ReadinessWatch | None = None
        self.gaps: dict[str, float] = {}  # "Kind/namespace/name" -> seconds without a ready replica

    async def _ready_nodes(self, nodegroup: str) -> int:
        nodes, _ = await self.ctx.kube.list(NODES, None, label_selector=f"{NODEGROUP_LABEL}={nodegroup}")
        return sum(1 for n in nodes if node_ready(n))

    async def plan(self) -> Plan:
        ctx = self.ctx
        await preflight(ctx)  # the right cluster, the configured subnets: before any other read
        groups = await ctx.aws.nodegroups(ctx.cluster_name)
        if not groups:
            raise StepFailed(f"Cluster {ctx.cluster_name} has no managed node group: rolling back would leave the pods "
                             "nowhere to run. Create a node group first (eksctl create nodegroup, or the console).")
        steps = []
        nodes, _ = await ctx.kube.list(NODES)
        all_pods, _ = await ctx.kube.list(PODS)
        for index, group in enumerate(groups):
            # The first group takes the pods coming back; the others only keep their size.
            needed, why = nodes_needed(nodes, all_pods, group.name) if index == 0 else (0, "")
            desired = max(group.desired, group.min, MIN_NODES, needed)
            self.targets[group.name] = (group.min, desired, max(group.max, desired))
            ready = await self._ready_nodes(group.name)
            steps.append(PlanStep(f"nodegroup:{group.name}", f"Scale node group {group.name} to {desired} and wait for Ready nodes",
                                  "change", f"EKS node group {ctx.cluster_name}/{group.name}",
                                  f"desired {group.desired} -> {desired} (min {group.min}, max {max(group.max, desired)}); "
                                  f"{ready} node(s) Ready now" + (f"; {why}" if why else ""),
                                  done=group.desired >= desired and ready >= desired))
        addon = await coredns_addon(ctx)
        dns = await pods(ctx, "kube-system", COREDNS_SELECTOR)
        moving = tuple(pod_name(p) for p in dns if on_fargate(p))
        # Done only when the end state holds: no computeType, and CoreDNS pods Ready off Fargate.
        on_ec2 = addon is None or (not addon_config(addon).get("computeType") and not moving
                                   and addon.get("status") == "ACTIVE" and bool(dns) and all(map(is_ready, dns)))
        steps.append(PlanStep("coredns", "Move CoreDNS back to EC2 (remove computeType)", "change",
                              f"EKS add-on {ctx.cluster_name}/coredns", "update-addon without computeType, resolveConflicts "
                              "OVERWRITE; wait for CoreDNS pods on EC2 nodes", reschedules=moving, done=on_ec2))
        existing = await profiles(ctx)
        # Application namespaces first; kube-system (CoreDNS is already off it, the LBC keeps serving) last.
        order = sorted(existing, key=lambda n: (any(s.get("namespace") == "kube-system"
                                                    for s in existing[n].get("selectors") or ()), n))
        warnings: list[str] = []
        for name in order:
            affected, moved = await self._affected(existing[name], name)
            if "Deployment/coredns" in affected.get("kube-system", []):  # the add-on step above moves it
                affected["kube-system"] = [w for w in affected["kube-system"] if w != "Deployment/coredns"]
                moved = tuple(p for p in moved if not p.startswith("kube-system/coredns-"))
                if not affected["kube-system"]:
                    del affected["kube-system"]
            self.affected[name] = affected
            namespaces = sorted({s.get("namespace", "") for s in existing[name].get("selectors") or ()})
            self.label_scoped[name] = bool(namespaces) and all(
                is_label_scoped(existing[name], ctx.settings.fargate, ns) for ns in namespaces)
            how = ("drop the move label from the pod template" if self.label_scoped[name]
                   else "annotate the pod template eks.amazonaws.com/compute-type: ec2")
            parts = []
            for ns, items in affected.items():
                notes = [i + (f" (interrupted: {why})" if (why := await self._interruption(ns, i)) else "") for i in items]
                parts.append(f"{ns}: " + ", ".join(notes))
            listed = "; ".join(parts) or "no workloads on it"
            steps.append(PlanStep(f"move-back:{name}", f"Roll the workloads on Fargate profile {name} back to EC2",
                                  "restart", f"EKS Fargate profile {ctx.cluster_name}/{name}",
                                  f"rolling update ({how}), replicas keep serving: {listed}", reschedules=moved,
                                  done=not affected))
            steps.append(PlanStep(f"delete-profile:{name}", f"Delete Fargate profile {name} once no pod runs on it",
                                  "delete", f"EKS Fargate profile {ctx.cluster_name}/{name}",
                                  f"status {existing[name].get('status')}"))
            warnings += await self._bare_pods(name)
        self.watched = tuple(sorted({ns for by_ns in self.affected.values() for ns in by_ns} | {"kube-system"}))
        stranded = await self._stranded()
        steps.append(PlanStep("stranded", "Restart workloads whose pods were left behind by deleted profiles", "restart",
                              "pods scheduled for Fargate with no profile to run them",
                              "; ".join(f"{ns}: {', '.join(items)}" for ns, items in stranded.items()) or "none now",
                              reschedules=(), done=not stranded and not existing))
        steps.append(PlanStep("report", "Report the seconds each workload had no ready replica", "measure",
                              "workloads in " + ", ".join(self.watched), "measured from a watch during the run",
                              mutating=False, done=not existing and not stranded))
        return Plan("rollback", ctx.cluster_name, tuple(steps), destructive=True, warnings=tuple(warnings))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with ReadinessWatch(self.ctx, self.watched) as watch:
            self.readiness = watch
            yield

    async def _interruption(self, namespace: str, item: str) -> str:
        kind, _, name = item.partition("/")
        obj = await self.ctx.kube.get(RESOURCES[kind], namespace, name)
        return interruption(obj) if obj else ""

    async def _bare_pods(self, profile_name: str) -> list[str]:
        """Pods on the profile that no controller recreates: only the deletion moves them."""
        found = []
        for pod in live((await self.ctx.kube.list(PODS, None, label_selector=f"{FARGATE_PROFILE_LABEL}={profile_name}"))[0]):
            if not (pod.get("metadata") or {}).get("ownerReferences"):
                found.append(f"Pod {pod_name(pod)} runs on {profile_name} without a controller: deleting the profile "
                             "stops it and nothing recreates it (recreate it from its manifest afterwards).")
        return found

    async def _stranded(self) -> dict[str, list[str]]:
        """Workloads with pods still waiting for the fargate-scheduler, or still on a Fargate node
        whose profile is gone: what an interrupted rollback leaves (EKS does not reschedule them)."""
        existing = set(await profiles(self.ctx))
        all_pods, _ = await self.ctx.kube.list(PODS)
        found: dict[str, list[str]] = {}
        for pod in all_pods:
            meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
            if meta.get("deletionTimestamp"):
                continue
            waiting = spec.get("schedulerName") == "fargate-scheduler" and not spec.get("nodeName")
            orphaned = on_fargate(pod) and (meta.get("labels") or {}).get(FARGATE_PROFILE_LABEL) not in existing
            if waiting or orphaned:
                owner = await self._workload_of(pod)
                if owner and owner not in found.get(meta["namespace"], []):
                    found.setdefault(meta["namespace"], []).append(owner)
        return found

    async def _workload_of(self, pod: dict) -> str | None:
        for ref in (pod.get("metadata") or {}).get("ownerReferences") or ():
            if ref.get("kind") == "StatefulSet":
                return f"StatefulSet/{ref['name']}"
            if ref.get("kind") == "ReplicaSet":
                rs = await self.ctx.kube.get(REPLICASETS, pod["metadata"]["namespace"],
                                             ref["name"])
                for owner in ((rs or {}).get("metadata") or {}).get("ownerReferences") or ():
                    if owner.get("kind") == "Deployment":
                        return f"Deployment/{owner['name']}"
        return None

    async def _affected(self, profile: dict, name: str) -> tuple[dict[str, list[str]], tuple[str, ...]]:
        """Workloads with pods running on this profile, by namespace (wildcard selectors included:
        pods carry the name of the profile that placed them)."""
        affected: dict[str, list[str]] = {}
        moved: list[str] = []
        namespaces = {s.get("namespace", "") for s in profile.get("selectors") or ()}
        if any("*" in ns or "?" in ns for ns in namespaces):
            all_ns, _ = await self.ctx.kube.list(NAMESPACES)
            namespaces = {n["metadata"]["name"] for n in all_ns
                          if any(fnmatchcase(n["metadata"]["name"], p.replace("[", "[[]")) for p in namespaces)}
        for ns in sorted(namespaces):
            for obj in await workloads(self.ctx, ns):
                selector = selector_string(((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
                mine = [p for p in await pods(self.ctx, ns, selector)
                        if ((p.get("metadata") or {}).get("labels") or {}).get(FARGATE_PROFILE_LABEL) == name] if selector else []
                if mine:
                    affected.setdefault(ns, []).append(f"{obj['kind']}/{obj['metadata']['name']}")
                    moved.extend(pod_name(p) for p in mine)
        return affected, tuple(moved)

    def execute(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        kind, _, name = step.id.partition(":")
        if kind == "nodegroup":
            return self._scale(step, name)
        if kind == "coredns":
            return set_coredns_compute_type(self.ctx, step.id, "")
        if kind == "stranded":
            return self._restart_stranded(step)
        if kind == "move-back":
            return self._move_back(step, name)
        if kind == "report":
            return self._report(step)
        return self._delete(step, name)

    async def _move_back(self, step: PlanStep, name: str) -> AsyncIterator[ProgressEvent]:
        current = (await profiles(self.ctx)).get(name)
        affected = (await self._affected(current, name))[0] if current else {}
        key, _ = self.ctx.settings.fargate.move_label_pair
        for namespace, items in affected.items():
            if self.label_scoped.get(name):
                moves = roll(self.ctx, step.id, namespace, items, fargate=False, remove=(key, FARGATE_PROFILE_LABEL))
            else:
                moves = roll(self.ctx, step.id, namespace, items, fargate=False, remove=(key, FARGATE_PROFILE_LABEL),
                             annotate={COMPUTE_TYPE_ANNOTATION: "ec2"})
            async for event in moves:
                yield event

    async def _report(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        watch = self.readiness
        if watch is None:
            return
        watch.settle()
        for source in watch.unmeasured():
            yield ProgressEvent("warning", f"Readiness not measured for {source}", step.id)
        self.gaps = watch.report()
        for key, seconds in self.gaps.items():
            replicas = watch.replicas(key)
            level = "warning" if seconds > 0 else "info"
            yield ProgressEvent(level, f"{key}: {seconds:g} s without a ready replica ({replicas} replica(s))", step.id)

    async def _restart_stranded(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        for namespace, items in (await self._stranded()).items():
            async for event in restart_workloads(self.ctx, step.id, namespace, items, fargate=False):
                yield event

    async def _scale(self, step: PlanStep, group: str) -> AsyncIterator[ProgressEvent]:
        ctx = self.ctx
        minimum, desired, maximum = self.targets[group]

        async def settled() -> tuple[bool, str]:
            status = (await ctx.aws_changes.describe_nodegroup(ctx.cluster_name, group)).get("status", "")
            return status == "ACTIVE", status

        async for event in wait_until(settled, f"node group {group} to finish its current update", step.id, ctx,
                                      "nodegroup-active", next_step=f"aws eks describe-nodegroup --cluster-name "
                                                                    f"{ctx.cluster_name} --nodegroup-name {group}"):
            yield event
        current = (await ctx.aws_changes.describe_nodegroup(ctx.cluster_name, group)).get("scalingConfig") or {}
        if int(current.get("desiredSize", 0)) < desired:
            await ctx.aws_changes.scale_nodegroup(ctx.cluster_name, group, minimum, desired, maximum)
            yield ProgressEvent("info", f"Node group {group}: desired size {current.get('desiredSize')} -> {desired}", step.id)

        async def nodes_ready() -> tuple[bool, str]:
            status = (await ctx.aws_changes.describe_nodegroup(ctx.cluster_name, group)).get("status", "")
            ready = await self._ready_nodes(group)
            return status == "ACTIVE" and ready >= desired, f"node group {status}, {ready}/{desired} nodes Ready"

        async for event in wait_until(nodes_ready, f"{desired} Ready nodes in node group {group}", step.id, ctx,
                                      "nodes-ready", next_step=f"kubectl get nodes -l {NODEGROUP_LABEL}={group}"):
            yield event

    async def _delete(self, step: PlanStep, name: str) -> AsyncIterator[ProgressEvent]:
        # Re-read what runs on the profile now: a resumed run may find some workloads already moved.
        current = (await profiles(self.ctx)).get(name)
        affected = (await self._affected(current, name))[0] if current else self.affected.get(name, {})
        async for event in delete_profile(self.ctx, step.id, name):
            yield event
        for namespace, items in affected.items():
            async for event in restart_workloads(self.ctx, step.id, namespace, items, fargate=False):
                yield event
