"""add-namespace NAME: put one more namespace on Fargate — create the namespace when absent,
create its profile <prefix>NAME (after any profile in transition finished: one at a time), and,
when asked, restart the namespace's deployments so their pods move (existing pods are never moved
by a new profile: Fargate admission happens at pod creation)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from iagent_tui.services.errors import ServiceError
from iagent_tui.services.kube import DEPLOYMENTS, STATEFULSETS

from .base import Plan, PlanStep, ProgressEvent, StepAction, StepFailed
from .cluster_state import (is_ready, namespace_exists, on_fargate, placement, pod_name, pods, profile,
                            rollout_complete, selector_string, workloads)
from .context import ActionContext, AssessmentUnavailable
from .deploy import DeployAction
from .profile_steps import create_profile, profile_selectors
from .validate import namespace_name, profile_name
from .evidence import PodsEvidence
from .waits import wait_until

_RESOURCES = {"Deployment": DEPLOYMENTS, "StatefulSet": STATEFULSETS}


class AddNamespaceAction(StepAction):
    name = "add-namespace"
    title = "Add a namespace to Fargate"

    def __init__(self, ctx: ActionContext, namespace: str, restart: bool = False) -> None:
        self.ctx = ctx
        self.namespace = namespace_name(namespace)
        self.profile = profile_name(f"{ctx.settings.fargate.profile_prefix}{namespace}")
        self.restart = restart
        self.movable: list[str] = []  # "Deployment/name" whose pods are not on Fargate (asked about)

    @staticmethod
    def check_names(settings, namespace: str) -> None:
        namespace_name(namespace)
        profile_name(f"{settings.fargate.profile_prefix}{namespace}")

    async def plan(self) -> Plan:
        ctx = self.ctx
        exists = await namespace_exists(ctx, self.namespace)
        steps = [PlanStep("namespace", f"Create namespace {self.namespace}", "create", f"Namespace {self.namespace}",
                          done=exists)]
        current = await profile(ctx, self.profile)
        status = (current or {}).get("status", "")
        deploy = DeployAction(ctx)
        subnets = await deploy.private_subnets() if status != "ACTIVE" else []
        steps.append(PlanStep(f"profile:{self.profile}", f"Create Fargate profile {self.profile}", "create",
                              f"EKS Fargate profile {ctx.cluster_name}/{self.profile}",
                              f"namespace {self.namespace}; subnets {', '.join(subnets) or '(unchanged)'}; "
                              "waits first for any profile in transition", done=status == "ACTIVE"))
        warnings = []
        role_name = ctx.settings.fargate.pod_execution_role_name
        if status != "ACTIVE" and await ctx.aws.role(role_name) is None:
            warnings.append(f"The pod execution role {role_name} does not exist yet, so the profile step will stop: "
                            "run deploy first.")
        self.movable = []
        moving: dict[str, list[str]] = {}  # workload -> its pods off Fargate
        if exists:
            for obj in await workloads(ctx, self.namespace):
                selector = selector_string(((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
                mine = await pods(ctx, self.namespace, selector) if selector else []
                if any(not on_fargate(p) for p in mine):
                    workload = f"{obj['kind']}/{obj['metadata']['name']}"
                    self.movable.append(workload)
                    moving[workload] = [pod_name(p) for p in mine if not on_fargate(p)]
        warnings += await self._blocked_workloads()
        if self.movable and self.restart:
            steps.append(PlanStep("restart", f"Restart {len(self.movable)} workload(s) so their pods move to Fargate",
                                  "restart", f"namespace {self.namespace}", ", ".join(self.movable),
                                  reschedules=tuple(p for w in self.movable for p in moving[w])))
        elif self.movable:
            warnings.append(f"Pods of {', '.join(self.movable)} stay on EC2 until restarted "
                            f"(choose the restart, or later: kubectl rollout restart -n {self.namespace} <workload>).")
        return Plan("add-namespace", ctx.cluster_name, tuple(steps), warnings=tuple(warnings))

    async def _blocked_workloads(self) -> list[str]:
        """Pre-flight from the one assessment: workloads of this namespace that cannot run on
        Fargate (error blockers) are never restarted onto it; the plan says which and why."""
        try:
            assessment = await self.ctx.assessment()
        except (AssessmentUnavailable, ServiceError) as exc:
            return [f"Could not check which workloads of {self.namespace} can run on Fargate ({exc}); "
                    "check `iagent-tui doctor -n " + self.namespace + "` before restarting anything."]
        blocked: dict[str, list[str]] = {}
        for f in assessment.findings:
            if f.namespace == self.namespace and f.category == "blocker" and f.severity == "error":
                kind, _, name = f.object.split("/", 2)
                blocked.setdefault(f"{kind}/{name}", []).append(f"{f.code}: {f.evidence[0] if f.evidence else f.title}")
        self.movable = [w for w in self.movable if w not in blocked]
        return [f"{w.replace('/', f' {self.namespace}/', 1)} cannot run on Fargate ({'; '.join(reasons)}): it is not "
                "restarted and stays on EC2 (keep an EC2 node group for it). A profile selecting the whole namespace "
                "also takes its next pods (a crash, a node drain, a scale-up), which would then stay Pending."
                for w, reasons in sorted(blocked.items())]

    def execute(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        if step.id == "namespace":
            return self._namespace(step)
        if step.id == "restart":
            return self._restart(step)
        return self._profile(step)

    async def _namespace(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        if not await namespace_exists(self.ctx, self.namespace):
            await self.ctx.kube_changes.create_namespace(self.namespace)
            yield ProgressEvent("info", f"Namespace {self.namespace} created", step.id)

    async def _profile(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        deploy = DeployAction(self.ctx)
        role_arn = f"arn:aws:iam::{await self.ctx.account()}:role/{self.ctx.settings.fargate.pod_execution_role_name}"
        if await self.ctx.aws.role(self.ctx.settings.fargate.pod_execution_role_name) is None:
            raise StepFailed(f"The pod execution role {self.ctx.settings.fargate.pod_execution_role_name} does not "
                             "exist yet. Run `iagent-tui deploy` first.")
        async for event in create_profile(self.ctx, step.id, self.profile, role_arn, await deploy.private_subnets(),
                                          [profile_selectors(self.namespace)]):
            yield event

    async def _restart(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        async for event in restart_workloads(self.ctx, step.id, self.namespace, self.movable, fargate=True):
            yield event


async def restart_workloads(ctx: ActionContext, step_id: str, namespace: str, names: list[str],
                            fargate: bool) -> AsyncIterator[ProgressEvent]:
    """`kubectl rollout restart` each "Kind/name", then wait until every one has rolled out with
    its pods ready where they should be (Fargate or EC2)."""
    for item in names:
        kind, name = item.split("/", 1)
        await ctx.kube_changes.rollout_restart(_RESOURCES[kind], namespace, name)
        yield ProgressEvent("info", f"Restarted {kind} {namespace}/{name}", step_id)

    async def check() -> tuple[bool, str]:
        states = []
        done = True
        for item in names:
            kind, name = item.split("/", 1)
            obj = await ctx.kube.get(_RESOURCES[kind], namespace, name)
            if obj is None:
                continue  # deleted meanwhile: nothing to wait for
            selector = selector_string(((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
            mine = await pods(ctx, namespace, selector)
            placed = all(on_fargate(p) == fargate and is_ready(p) for p in mine)
            done = done and rollout_complete(obj) and placed
            states.append(f"{name}: {placement(mine)}")
        return done, "; ".join(states)

    where = "Fargate" if fargate else "EC2"
    async for event in wait_until(check, f"restarted workloads in {namespace} running on {where}", step_id, ctx, "rollout",
                                  evidence=PodsEvidence(namespace, workloads=tuple(names))):
        yield event
