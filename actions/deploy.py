"""deploy: everything the migration needs, in the order that keeps the cluster working —
pod execution role, Fargate profiles (one at a time), CoreDNS through its add-on, then the AWS Load
Balancer Controller with IRSA, installed by Helm. Each step is planned from the cluster's actual
state, so a second run has nothing to do and an interrupted run finishes the job."""

from __future__ import annotations

from collections.abc import AsyncIterator

from iagent_tui.deadlines import describe as describe_deadline
from iagent_tui.services.aws_changes import FARGATE_POD_POLICY_ARN, pod_execution_trust
from iagent_tui.services.kube import DEPLOYMENTS

from . import lbc_steps
from .base import Plan, PlanStep, ProgressEvent, StepAction, StepFailed
from .cluster_state import (COREDNS, COREDNS_SELECTOR, addon_config, coredns_addon, health_text, is_ready,
                            on_fargate, placement, pod_name, pods, profiles)
from .context import ActionContext
from .evidence import PodsEvidence
from .iam_steps import pod_role_trust_problem, profile_source_arn
from .profile_steps import create_profile, namespace_selectors, profile_selectors
from .preflight import preflight
from .validate import profile_name
from .waits import wait_until

KUBE_SYSTEM_PROFILE = "fp-kube-system"
KUBE_SYSTEM_SELECTORS = (
    profile_selectors("kube-system", {"k8s-app": "kube-dns"}),
    profile_selectors("kube-system", {"app.kubernetes.io/name": "aws-load-balancer-controller"}),
)


class DeployAction(StepAction):
    name = "deploy"
    title = "Deploy: move the cluster onto Fargate"

    def __init__(self, ctx: ActionContext) -> None:
        self.ctx = ctx
        self._profile_specs: dict[str, list[dict]] = {}
        self._subnets: list[str] = []
        self._role_arn = ""
        self._lbc = lbc_steps.LbcSteps(ctx)

    @staticmethod
    def check_names(settings) -> None:
        """Profile names built from the settings must pass EKS's rule before any call."""
        for ns in settings.fargate.namespaces:
            profile_name(f"{settings.fargate.profile_prefix}{ns}")

    def profile_specs(self) -> dict[str, list[dict]]:
        s = self.ctx.settings.fargate
        specs = {profile_name(f"{s.profile_prefix}{ns}"): [namespace_selectors(s, ns)] for ns in s.namespaces}
        specs[KUBE_SYSTEM_PROFILE] = list(KUBE_SYSTEM_SELECTORS)
        return specs

    async def plan(self) -> Plan:
        ctx = self.ctx
        await preflight(ctx)  # the right cluster, the configured subnets: before any other read
        specs = self.profile_specs()  # names checked before any call
        account = await ctx.account()
        role_name = ctx.settings.fargate.pod_execution_role_name
        self._role_arn = f"arn:aws:iam::{account}:role/{role_name}"
        warnings: list[str] = []
        steps: list[PlanStep] = []

        role = await ctx.aws.role(role_name)
        source_arns = [profile_source_arn(ctx.region, account, ctx.cluster_name, name) for name in specs]
        problem = pod_role_trust_problem(role, source_arns) if role else ""
        trust_detail = f"trusts eks-fargate-pods.amazonaws.com for arn:aws:eks:{ctx.region}:{account}:fargateprofile/{ctx.cluster_name}/*"
        if role is None:
            steps.append(PlanStep("pod-role", f"Create IAM role {role_name}", "create", f"IAM role {role_name}", trust_detail))
        elif problem:
            steps.append(PlanStep("pod-role", f"Fix the trust policy of IAM role {role_name}", "change",
                                  f"IAM role {role_name}", f"it {problem}; new trust: {trust_detail}"))
        else:
            steps.append(PlanStep("pod-role", f"Create IAM role {role_name}", "create", f"IAM role {role_name}",
                                  trust_detail, done=True))
        attached = await ctx.aws.attached_role_policies(role_name) if role else ()
        steps.append(PlanStep("pod-role-policy", f"Attach AmazonEKSFargatePodExecutionRolePolicy to {role_name}",
                              "change", f"IAM role {role_name}", FARGATE_POD_POLICY_ARN,
                              done=FARGATE_POD_POLICY_ARN in attached))

        existing = await profiles(ctx)
        active_within = describe_deadline(ctx.deadline("profile-active"))
        missing = [n for n in specs if existing.get(n, {}).get("status") != "ACTIVE"]
        self._subnets = await self.private_subnets() if missing else []
        for name, selectors in specs.items():
            current = existing.get(name)
            what = "; ".join(f"namespace {s['namespace']}" + "".join(f", {k}={v}" for k, v in (s.get("labels") or {}).items())
                             for s in selectors)
            target = f"EKS Fargate profile {ctx.cluster_name}/{name}"
            if current is not None and current.get("status") == "CREATING":
                steps.append(PlanStep(f"profile:{name}", f"Wait for Fargate profile {name} (CREATING)", "wait", target,
                                      f"{what}; up to {active_within}", mutating=False))
                continue
            if current is not None and current.get("status") in ("CREATE_FAILED", "DELETE_FAILED"):
                warnings.append(f"Fargate profile {name} is {current['status']}: {health_text(current) or 'no detail'}. "
                                "Delete it, then run deploy again.")
            detail = (f"{what}; subnets {', '.join(self._subnets) or '(discovered at run time)'}; then waits up to "
                      f"{active_within} for ACTIVE; existing pods stay where they are until restarted")
            steps.append(PlanStep(f"profile:{name}", f"Create Fargate profile {name}", "create", target, detail,
                                  done=current is not None and current.get("status") == "ACTIVE"))
            if current is not None and current.get("status") == "ACTIVE":
                have = sorted((s.get("namespace"), sorted((s.get("labels") or {}).items())) for s in current.get("selectors") or ())
                want = sorted((s.get("namespace"), sorted((s.get("labels") or {}).items())) for s in selectors)
                if have != want:
                    namespace = selectors[0]["namespace"]
                    warnings.append(f"Fargate profile {name} exists with other selectors than deploy would use "
                                    f"({what}); profiles cannot be changed. `iagent-tui add-namespace {namespace}` "
                                    "converts it without dropping a workload to zero ready replicas."
                                    if name != KUBE_SYSTEM_PROFILE else
                                    f"Fargate profile {name} exists with other selectors than deploy would use; "
                                    "profiles cannot be changed: create a new one and delete the old one to change it.")

        steps.append(await self._coredns_step())
        steps.extend(await self._lbc.plan_steps(account))
        return Plan("deploy", ctx.cluster_name, tuple(steps), warnings=tuple(warnings))

    async def private_subnets(self) -> list[str]:
        configured = list(self.ctx.settings.fargate.subnets)
        if configured:
            return configured
        vpc = await self.ctx.vpc_id()
        found = list(await self.ctx.aws.private_subnets(vpc)) if vpc else []
        if not found:
            raise StepFailed(f"No private subnets found in VPC {vpc or '(unknown)'} of cluster {self.ctx.cluster_name}: "
                             "Fargate needs private subnets (tag them kubernetes.io/role/internal-elb=1, "
                             "or list them under fargate.subnets in iagent.yaml).")
        return found

    async def _coredns_step(self) -> PlanStep:
        addon = await coredns_addon(self.ctx)
        target = f"EKS add-on {self.ctx.cluster_name}/coredns"
        dns_pods = await pods(self.ctx, "kube-system", COREDNS_SELECTOR)
        moving = tuple(pod_name(p) for p in dns_pods if not on_fargate(p))
        # Done is the end state, not the API call: every CoreDNS pod Ready on Fargate (a pod that
        # only carries the Fargate profile label may still be Pending for capacity).
        done = (addon is not None and addon_config(addon).get("computeType") == "Fargate"
                and addon.get("status") == "ACTIVE" and bool(dns_pods)
                and all(on_fargate(p) and is_ready(p) for p in dns_pods))
        detail = ("after any add-on update in progress, update-addon configurationValues computeType=Fargate, "
                  "resolveConflicts OVERWRITE; then waits up to "
                  f"{describe_deadline(self.ctx.deadline('coredns-placed'))} for CoreDNS pods Ready on fargate-ip nodes")
        if addon is None:
            detail = "CoreDNS is not an EKS add-on here: this step will stop and say how to create it"
        return PlanStep("coredns", "Move CoreDNS to Fargate (add-on computeType Fargate)", "change", target, detail,
                        reschedules=moving, done=done)

    # -- execution ---------------------------------------------------------------------------------
    def execute(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        if step.id == "pod-role":
            return self._pod_role(step)
        if step.id == "pod-role-policy":
            return self._pod_role_policy(step)
        if step.id.startswith("profile:"):
            name = step.id.split(":", 1)[1]
            return self._profile(step, name)
        if step.id == "coredns":
            return self._coredns(step)
        return self._lbc.execute(step)

    async def _pod_role(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        ctx = self.ctx
        name = ctx.settings.fargate.pod_execution_role_name
        trust = pod_execution_trust(ctx.region, await ctx.account(), ctx.cluster_name)
        if await ctx.aws.role(name) is None:
            await ctx.aws_changes.create_role(name, trust, "Fargate pod execution role (created by iagent-tui deploy)")
            yield ProgressEvent("info", f"Created IAM role {name}", step.id)
        else:
            await ctx.aws_changes.update_trust(name, trust)
            yield ProgressEvent("info", f"Updated the trust policy of IAM role {name}", step.id)

    async def _pod_role_policy(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        name = self.ctx.settings.fargate.pod_execution_role_name
        await self.ctx.aws_changes.attach_role_policy(name, FARGATE_POD_POLICY_ARN)
        yield ProgressEvent("info", f"Attached {FARGATE_POD_POLICY_ARN} to {name}", step.id)

    async def _profile(self, step: PlanStep, name: str) -> AsyncIterator[ProgressEvent]:
        specs = self.profile_specs()
        if not self._subnets:
            self._subnets = await self.private_subnets()
        async for event in create_profile(self.ctx, step.id, name, self._role_arn, self._subnets, specs[name]):
            yield event

    async def _coredns(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        ctx = self.ctx
        addon = await coredns_addon(ctx)
        if addon is None:
            raise StepFailed(f"CoreDNS is not installed as an EKS add-on on {ctx.cluster_name}. Create it "
                             f"(aws eks create-addon --cluster-name {ctx.cluster_name} --addon-name coredns "
                             "--resolve-conflicts OVERWRITE), then run deploy again.")
        async for event in set_coredns_compute_type(ctx, step.id, "Fargate"):
            yield event


async def set_coredns_compute_type(ctx: ActionContext, step_id: str, compute_type: str) -> AsyncIterator[ProgressEvent]:
    """computeType "Fargate" moves CoreDNS onto Fargate, "" back to EC2 (DOMAIN.md 4.2): wait for
    any running add-on update, update with OVERWRITE, wait for ACTIVE and for the pods' placement."""
    fargate = compute_type == "Fargate"

    async def addon_settled() -> tuple[bool, str]:
        addon = await coredns_addon(ctx)
        status = (addon or {}).get("status", "")
        return status not in ("UPDATING", "CREATING"), status

    describe_addon = f"aws eks describe-addon --cluster-name {ctx.cluster_name} --addon-name {COREDNS}"
    async for event in wait_until(addon_settled, "the CoreDNS add-on to finish its current update", step_id, ctx,
                                  "addon-settled", next_step=describe_addon):
        yield event
    addon = await coredns_addon(ctx)
    config = addon_config(addon)
    if (config.get("computeType") or "") != compute_type:
        config = {k: v for k, v in config.items() if k != "computeType"}
        if fargate:
            config["computeType"] = "Fargate"
        await ctx.aws_changes.update_addon_configuration(ctx.cluster_name, COREDNS, config)
        yield ProgressEvent("info", f"Updated the CoreDNS add-on: computeType {compute_type or '(removed: EC2)'}, OVERWRITE", step_id)
    restarted = False

    async def pods_placed() -> tuple[bool, str]:
        nonlocal restarted
        addon = await coredns_addon(ctx) or {}
        dns = await pods(ctx, "kube-system", COREDNS_SELECTOR)
        placed = bool(dns) and all(on_fargate(p) == fargate and is_ready(p) for p in dns)
        status = f"add-on {addon.get('status')}, pods {placement(dns)}"
        if addon.get("status") == "DEGRADED" and not restarted:
            # Pods created before a matching profile existed stay Pending; a restart re-admits them.
            await ctx.kube_changes.rollout_restart(DEPLOYMENTS, "kube-system", COREDNS)
            restarted = True
            status += "; restarted the coredns deployment"
        return placed and addon.get("status") == "ACTIVE", status

    where = "fargate-ip nodes" if fargate else "EC2 nodes"
    async for event in wait_until(pods_placed, f"CoreDNS pods running on {where}", step_id, ctx, "coredns-placed",
                                  evidence=PodsEvidence("kube-system", COREDNS_SELECTOR)):
        yield event
