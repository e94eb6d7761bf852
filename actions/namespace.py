"""add-namespace NAME: put one more namespace on Fargate — create the namespace when absent,
create its profile <prefix>NAME (after any profile in transition finished: one at a time), and,
when asked, restart the namespace's deployments so their pods move (existing pods are never moved
by a new profile: Fargate admission happens at pod creation)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from iagent_tui.services.errors import ServiceError

from .base import Plan, PlanStep, ProgressEvent, StepAction, StepFailed
from .cluster_state import namespace_exists, on_fargate, pod_name, pods, profile, selector_string, workloads
from .context import ActionContext, AssessmentUnavailable
from .deploy import DeployAction
from .moves import COMPUTE_TYPE_ANNOTATION, PIN_LABEL, RESOURCES, interruption, roll, wait_placed
from .profile_steps import create_profile, delete_profile, is_label_scoped, namespace_selectors
from .preflight import preflight
from .validate import namespace_name, profile_name


class AddNamespaceAction(StepAction):
    name = "add-namespace"
    title = "Add a namespace to Fargate"

    def __init__(self, ctx: ActionContext, namespace: str, restart: bool = False) -> None:
        self.ctx = ctx
        self.namespace = namespace_name(namespace)
        self.profile = profile_name(f"{ctx.settings.fargate.profile_prefix}{namespace}")
        self.restart = restart
        self.labelled = ctx.settings.fargate.profile_scope == "label"
        self.target = self.profile  # the profile the namespace's pods should land on
        self.convert_from = ""      # a namespace-wide profile being replaced by a label-scoped one
        self.movable: list[str] = []  # "Deployment/name" whose pods are not on Fargate (asked about)
        self.keep: list[str] = []     # on the namespace-wide profile: rolled onto the new one

    @staticmethod
    def check_names(settings, namespace: str) -> None:
        namespace_name(namespace)
        profile_name(f"{settings.fargate.profile_prefix}{namespace}")

    def move_labels(self) -> dict[str, str]:
        """What a pod template carries to land on this namespace's profile: the move label, and
        the pin while a namespace-wide profile (first in name order) still selects the pods too."""
        key, value = self.ctx.settings.fargate.move_label_pair
        return {key: value, **({PIN_LABEL: self.target} if self.convert_from else {})}

    async def plan(self) -> Plan:
        ctx = self.ctx
        await preflight(ctx)  # the right cluster, the configured subnets: before any other read
        exists = await namespace_exists(ctx, self.namespace)
        steps = [PlanStep("namespace", f"Create namespace {self.namespace}", "create", f"Namespace {self.namespace}",
                          done=exists)]
        current = await profile(ctx, self.profile)
        if self.labelled and current is not None and not is_label_scoped(current, ctx.settings.fargate, self.namespace):
            self.convert_from, self.target = self.profile, profile_name(f"{self.profile}-labelled")
            current = await profile(ctx, self.target)
        status = (current or {}).get("status", "")
        deploy = DeployAction(ctx)
        subnets = await deploy.private_subnets() if status != "ACTIVE" else []
        selector = namespace_selectors(ctx.settings.fargate, self.namespace)
        what = f"namespace {self.namespace}" + "".join(f", label {k}={v}" for k, v in (selector.get("labels") or {}).items())
        steps.append(PlanStep(f"profile:{self.target}", f"Create Fargate profile {self.target}", "create",
                              f"EKS Fargate profile {ctx.cluster_name}/{self.target}",
                              f"{what}; subnets {', '.join(subnets) or '(unchanged)'}; "
                              "waits first for any profile in transition", done=status == "ACTIVE"))
        warnings = []
        role_name = ctx.settings.fargate.pod_execution_role_name
        if status != "ACTIVE" and await ctx.aws.role(role_name) is None:
            warnings.append(f"The pod execution role {role_name} does not exist yet, so the profile step will stop: "
                            "run deploy first.")
        self.movable, self.keep = [], []
        moving: dict[str, list[str]] = {}  # workload -> its pods that change node
        interruptions: dict[str, str] = {}
        if exists:
            for obj in await workloads(ctx, self.namespace):
                selector_text = selector_string(((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
                mine = await pods(ctx, self.namespace, selector_text) if selector_text else []
                workload = f"{obj['kind']}/{obj['metadata']['name']}"
                interruptions[workload] = interruption(obj) if self.labelled else ""
                if self.convert_from and any(_profile_of(p) == self.convert_from for p in mine):
                    self.keep.append(workload)
                    moving[workload] = [pod_name(p) for p in mine]
                elif any(not on_fargate(p) for p in mine):
                    self.movable.append(workload)
                    moving[workload] = [pod_name(p) for p in mine if not on_fargate(p)]
        warnings += await self._blocked_workloads()
        labels = ", ".join(f"{k}={v}" for k, v in self.move_labels().items())
        if self.keep:
            steps.append(PlanStep("pin", f"Roll {len(self.keep)} workload(s) onto Fargate profile {self.target}",
                                  "restart", f"namespace {self.namespace}",
                                  f"pod template labels {labels} (a rolling update: they stay on Fargate): "
                                  + _listed(self.keep, interruptions),
                                  reschedules=tuple(p for w in self.keep for p in moving[w])))
        if self.movable and self.restart:
            how = (f"pod template labels {labels} (a rolling update, replicas keep serving)" if self.labelled
                   else "kubectl rollout restart")
            steps.append(PlanStep("restart", f"Move {len(self.movable)} workload(s) to Fargate", "restart",
                                  f"namespace {self.namespace}", f"{how}: " + _listed(self.movable, interruptions),
                                  reschedules=tuple(p for w in self.movable for p in moving[w])))
        elif self.movable:
            hint = (f"iagent-tui add-namespace {self.namespace} --restart" if self.labelled
                    else f"kubectl rollout restart -n {self.namespace} <workload>")
            warnings.append(f"Pods of {', '.join(self.movable)} stay on EC2 until moved "
                            f"(choose to move them, or later: {hint}).")
        if self.convert_from:
            steps.append(PlanStep(f"delete-profile:{self.convert_from}",
                                  f"Delete the namespace-wide Fargate profile {self.convert_from}", "delete",
                                  f"EKS Fargate profile {ctx.cluster_name}/{self.convert_from}",
                                  "after the rollouts above no workload's pod runs on it"))
            warnings += await self._left_on_old_profile()
        return Plan("add-namespace", ctx.cluster_name, tuple(steps), warnings=tuple(warnings))

    async def _left_on_old_profile(self) -> list[str]:
        """Pods on the namespace-wide profile that no rollout above replaces: deleting the profile
        stops them (DOMAIN.md 3.6), so the plan says so, pod by pod."""
        left = []
        for p in await pods(self.ctx, self.namespace):
            if _profile_of(p) != self.convert_from:
                continue
            owners = (p.get("metadata") or {}).get("ownerReferences") or []
            if not owners:
                left.append(f"Pod {pod_name(p)} has no controller: deleting {self.convert_from} stops it and nothing "
                            "recreates it. Recreate it from its manifest with the move label first.")
        return left

    async def _blocked_workloads(self) -> list[str]:
        """Pre-flight from the one assessment: workloads of this namespace that cannot run on
        Fargate (error blockers) are never moved onto it; the plan says which and why."""
        try:
            assessment = await self.ctx.assessment()
        except (AssessmentUnavailable, ServiceError) as exc:
            return [f"Could not check which workloads of {self.namespace} can run on Fargate ({exc}); "
                    "check `iagent-tui doctor -n " + self.namespace + "` before moving anything."]
        blocked: dict[str, list[str]] = {}
        for f in assessment.findings:
            if f.namespace == self.namespace and f.category == "blocker" and f.severity == "error":
                kind, _, name = f.object.split("/", 2)
                blocked.setdefault(f"{kind}/{name}", []).append(f"{f.code}: {f.evidence[0] if f.evidence else f.title}")
        self.movable = [w for w in self.movable if w not in blocked]
        self.keep = [w for w in self.keep if w not in blocked]
        stays = ("it is not moved, carries no move label and stays on EC2 (keep an EC2 node group for it)"
                 if self.labelled else
                 "it is not restarted and stays on EC2 (keep an EC2 node group for it). A profile selecting the whole "
                 "namespace also takes its next pods (a crash, a node drain, a scale-up), which would then stay Pending")
        return [f"{w.replace('/', f' {self.namespace}/', 1)} cannot run on Fargate ({'; '.join(reasons)}): {stays}."
                for w, reasons in sorted(blocked.items())]

    def execute(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        if step.id == "namespace":
            return self._namespace(step)
        if step.id == "restart":
            return self._move(step, self.movable)
        if step.id == "pin":
            return self._move(step, self.keep)
        if step.id.startswith("delete-profile:"):
            return delete_profile(self.ctx, step.id, self.convert_from)
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
        async for event in create_profile(self.ctx, step.id, self.target, role_arn, await deploy.private_subnets(),
                                          [namespace_selectors(self.ctx.settings.fargate, self.namespace)]):
            yield event

    async def _move(self, step: PlanStep, names: list[str]) -> AsyncIterator[ProgressEvent]:
        if not self.labelled:
            async for event in restart_workloads(self.ctx, step.id, self.namespace, names, fargate=True):
                yield event
            return
        # A workload rolled back earlier carries the EC2 annotation: moving it to Fargate drops it.
        async for event in roll(self.ctx, step.id, self.namespace, names, fargate=True, add=self.move_labels(),
                                remove_annotations=(COMPUTE_TYPE_ANNOTATION,)):
            yield event


def _profile_of(pod: dict) -> str:
    return ((pod.get("metadata") or {}).get("labels") or {}).get(PIN_LABEL, "")


def _listed(names: list[str], interruptions: dict[str, str]) -> str:
    return ", ".join(n + (f" (interrupted: {interruptions[n]})" if interruptions.get(n) else "") for n in names)


async def restart_workloads(ctx: ActionContext, step_id: str, namespace: str, names: list[str],
                            fargate: bool) -> AsyncIterator[ProgressEvent]:
    """`kubectl rollout restart` each "Kind/name", then wait until every one has rolled out with
    its pods ready where they should be (Fargate or EC2)."""
    for item in names:
        kind, name = item.split("/", 1)
        await ctx.kube_changes.rollout_restart(RESOURCES[kind], namespace, name)
        yield ProgressEvent("info", f"Restarted {kind} {namespace}/{name}", step_id)

    where = "Fargate" if fargate else "EC2"
    async for event in wait_placed(ctx, step_id, namespace, names, fargate=fargate,
                                   what=f"restarted workloads in {namespace} running on {where}"):
        yield event
