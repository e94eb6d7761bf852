"""deploy's AWS Load Balancer Controller steps (DOMAIN.md 6.1, 6.2): IAM OIDC provider, IAM policy,
IRSA role, annotated ServiceAccount, `helm upgrade --install`, and the wait for the controller."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator

from iagent_tui.deadlines import describe as describe_deadline
from iagent_tui.services.aws_changes import irsa_trust
from iagent_tui.services.errors import ServiceError
from iagent_tui.services.kube import DEPLOYMENTS, Resource

from .base import PlanStep, ProgressEvent, StepFailed
from .cluster_state import rollout_complete
from .context import ActionContext
from .evidence import PodsEvidence
from .iam_steps import (LBC_NAMESPACE, LBC_POLICY_NAME, LBC_ROLE_NAME, LBC_SERVICE_ACCOUNT, irsa_trust_problem,
                        issuer_thumbprint, lbc_policy_document)
from .waits import wait_until

SERVICE_ACCOUNTS = Resource("serviceaccounts", "ServiceAccount")
SECRETS = Resource("secrets", "Secret")  # where Helm 3 keeps its releases
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
RELEASE = "aws-load-balancer-controller"
CHART = "eks/aws-load-balancer-controller"
CHART_REPO = ("eks", "https://aws.github.io/eks-charts")
HELM_TIMEOUT = 600.0


class LbcSteps:
    def __init__(self, ctx: ActionContext) -> None:
        self.ctx = ctx
        self.account = ""

    # -- plan ----------------------------------------------------------------------------------
    async def _issuer(self) -> str:
        issuer = (((await self.ctx.cluster()).get("identity") or {}).get("oidc") or {}).get("issuer", "")
        if not issuer:
            raise StepFailed(f"Cluster {self.ctx.cluster_name} has no OIDC issuer; IRSA needs one (EKS clusters get "
                             "one at creation: check `aws eks describe-cluster`).")
        return issuer

    def _arns(self, issuer: str) -> tuple[str, str, str]:
        host = issuer.removeprefix("https://")
        return (f"arn:aws:iam::{self.account}:oidc-provider/{host}",
                f"arn:aws:iam::{self.account}:policy/{LBC_POLICY_NAME}",
                f"arn:aws:iam::{self.account}:role/{LBC_ROLE_NAME}")

    def helm_args(self, vpc_id: str) -> list[str]:
        ctx = self.ctx
        return ["upgrade", "--install", RELEASE, CHART, "-n", LBC_NAMESPACE,
                "--set", f"clusterName={ctx.cluster_name}", "--set", "serviceAccount.create=false",
                "--set", f"serviceAccount.name={LBC_SERVICE_ACCOUNT}", "--set", f"region={ctx.region}",
                "--set", f"vpcId={vpc_id}"]

    async def plan_steps(self, account: str) -> list[PlanStep]:
        ctx = self.ctx
        self.account = account
        issuer = await self._issuer()
        host = issuer.removeprefix("https://")
        provider_arn, policy_arn, role_arn = self._arns(issuer)
        subject = f"system:serviceaccount:{LBC_NAMESPACE}:{LBC_SERVICE_ACCOUNT}"
        steps = [PlanStep("oidc-provider", "Create the IAM OIDC provider for the cluster's issuer", "create",
                          f"IAM OIDC provider {host}", "audience sts.amazonaws.com, thumbprint of the issuer's root CA",
                          done=provider_arn in await ctx.aws.open_id_connect_providers())]
        steps.append(PlanStep("lbc-policy", f"Create IAM policy {LBC_POLICY_NAME}", "create", f"IAM policy {policy_arn}",
                              "the controller's permissions (manifests/lbc-iam-policy.json)",
                              done=await ctx.aws_changes.policy_exists(policy_arn)))
        role = await ctx.aws.role(LBC_ROLE_NAME)
        problem = irsa_trust_problem(role, provider_arn, host, subject) if role else ""
        detail = f"trusts {subject} through the cluster's OIDC provider"
        if role is not None and problem:
            steps.append(PlanStep("lbc-role", f"Fix the trust policy of IAM role {LBC_ROLE_NAME}", "change",
                                  f"IAM role {LBC_ROLE_NAME}", f"it {problem}"))
        else:
            steps.append(PlanStep("lbc-role", f"Create IAM role {LBC_ROLE_NAME}", "create", f"IAM role {LBC_ROLE_NAME}",
                                  detail, done=role is not None))
        attached = await ctx.aws.attached_role_policies(LBC_ROLE_NAME) if role else ()
        steps.append(PlanStep("lbc-role-policy", f"Attach {LBC_POLICY_NAME} to {LBC_ROLE_NAME}", "change",
                              f"IAM role {LBC_ROLE_NAME}", policy_arn, done=policy_arn in attached))
        sa = await ctx.kube.get(SERVICE_ACCOUNTS, LBC_NAMESPACE, LBC_SERVICE_ACCOUNT)
        annotated = ((sa or {}).get("metadata") or {}).get("annotations", {}).get(ROLE_ARN_ANNOTATION) == role_arn
        steps.append(PlanStep("lbc-service-account", f"{'Annotate' if sa else 'Create'} ServiceAccount "
                              f"{LBC_NAMESPACE}/{LBC_SERVICE_ACCOUNT}", "change" if sa else "create",
                              f"ServiceAccount {LBC_NAMESPACE}/{LBC_SERVICE_ACCOUNT}",
                              f"{ROLE_ARN_ANNOTATION}: {role_arn}", done=annotated))
        vpc_id = await ctx.vpc_id()
        deployment = await ctx.kube.get(DEPLOYMENTS, LBC_NAMESPACE, RELEASE)
        args = set()
        for container in (((deployment or {}).get("spec") or {}).get("template", {}).get("spec", {}).get("containers") or ()):
            args.update(container.get("args") or ())
        configured = {f"--cluster-name={ctx.cluster_name}", f"--aws-region={ctx.region}", f"--aws-vpc-id={vpc_id}"} <= args
        # A helm killed mid-install can leave the deployment in place but its release pending-install
        # or failed: not done until Helm recorded it deployed ("": installed without Helm, by manifest).
        release = await self.release_status()
        unfinished = bool(release) and release != "deployed"
        installed = configured and not unfinished
        detail = "helm " + " ".join(self.helm_args(vpc_id))
        if configured and unfinished:
            detail = f"Helm release is {release}: install again; " + detail
        steps.append(PlanStep("lbc-helm", "Install the AWS Load Balancer Controller with Helm",
                              "change" if deployment is not None else "create",
                              f"Helm release {LBC_NAMESPACE}/{RELEASE}", detail, done=installed))
        ready = deployment is not None and rollout_complete(deployment)
        want = ((deployment or {}).get("spec") or {}).get("replicas", 2)
        steps.append(PlanStep("lbc-ready", f"Wait for the load balancer controller to be ready ({want}/{want} pods)", "wait",
                              f"Deployment {LBC_NAMESPACE}/{RELEASE}",
                              f"up to {describe_deadline(ctx.deadline('lbc-ready'))}", mutating=False,
                              done=installed and ready))
        return steps

    async def release_status(self) -> str | None:
        """The status Helm recorded for the latest revision of the release ("deployed",
        "pending-install", ...; "" when there is none), or None when secrets cannot be read."""
        try:
            secrets, _ = await self.ctx.kube.list(SECRETS, LBC_NAMESPACE, label_selector=f"owner=helm,name={RELEASE}")
        except ServiceError:
            return None
        labels = [(s.get("metadata") or {}).get("labels") or {} for s in secrets]
        latest = max(labels, key=lambda lab: int(lab.get("version", 0) or 0), default=None)
        return (latest or {}).get("status", "")

    # -- execution -----------------------------------------------------------------------------
    def execute(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        handlers = {"oidc-provider": self._oidc, "lbc-policy": self._policy, "lbc-role": self._role,
                    "lbc-role-policy": self._attach, "lbc-service-account": self._service_account,
                    "lbc-helm": self._helm, "lbc-ready": self._ready}
        if step.id not in handlers:
            raise StepFailed(f"deploy has no step {step.id!r}")
        return handlers[step.id](step)

    async def _ensure_account(self) -> None:
        if not self.account:
            self.account = await self.ctx.account()

    async def _oidc(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        await self._ensure_account()
        issuer = await self._issuer()
        provider_arn, _, _ = self._arns(issuer)
        if provider_arn in await self.ctx.aws.open_id_connect_providers():
            return
        thumbprint = await issuer_thumbprint(issuer)
        await self.ctx.aws_changes.create_oidc_provider(issuer, [thumbprint] if thumbprint else [])
        note = f"thumbprint {thumbprint}" if thumbprint else "issuer not reachable from here: IAM checks it against its trusted CAs"
        yield ProgressEvent("info", f"Created IAM OIDC provider for {issuer} ({note})", step.id)

    async def _policy(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        await self._ensure_account()
        _, policy_arn, _ = self._arns(await self._issuer())
        if not await self.ctx.aws_changes.policy_exists(policy_arn):
            await self.ctx.aws_changes.create_policy(LBC_POLICY_NAME, lbc_policy_document(),
                                                     "AWS Load Balancer Controller (created by iagent-tui deploy)")
            yield ProgressEvent("info", f"Created IAM policy {policy_arn}", step.id)

    async def _role(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        await self._ensure_account()
        trust = irsa_trust(self.account, await self._issuer(), LBC_NAMESPACE, LBC_SERVICE_ACCOUNT)
        if await self.ctx.aws.role(LBC_ROLE_NAME) is None:
            await self.ctx.aws_changes.create_role(LBC_ROLE_NAME, trust, "AWS Load Balancer Controller (IRSA)")
            yield ProgressEvent("info", f"Created IAM role {LBC_ROLE_NAME}", step.id)
        else:
            await self.ctx.aws_changes.update_trust(LBC_ROLE_NAME, trust)
            yield ProgressEvent("info", f"Updated the trust policy of IAM role {LBC_ROLE_NAME}", step.id)

    async def _attach(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        await self._ensure_account()
        _, policy_arn, _ = self._arns(await self._issuer())
        await self.ctx.aws_changes.attach_role_policy(LBC_ROLE_NAME, policy_arn)
        yield ProgressEvent("info", f"Attached {policy_arn} to {LBC_ROLE_NAME}", step.id)

    async def _service_account(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        await self._ensure_account()
        _, _, role_arn = self._arns(await self._issuer())
        sa = {"apiVersion": "v1", "kind": "ServiceAccount",
              "metadata": {"name": LBC_SERVICE_ACCOUNT, "namespace": LBC_NAMESPACE,
                           "labels": {"app.kubernetes.io/component": "controller",
                                      "app.kubernetes.io/name": "aws-load-balancer-controller"},
                           "annotations": {ROLE_ARN_ANNOTATION: role_arn}}}
        outcome, _ = await self.ctx.kube_changes.apply(sa)
        yield ProgressEvent("info", f"ServiceAccount {LBC_NAMESPACE}/{LBC_SERVICE_ACCOUNT} {outcome}", step.id)

    async def _helm(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        env = dict(self.ctx.env)
        helm = shutil.which(self.ctx.settings.helm or "helm", path=env.get("PATH", os.defpath))
        vpc_id = await self.ctx.vpc_id()
        if helm is None:
            raise StepFailed("helm is not on PATH. Install Helm 3 (https://helm.sh/docs/intro/install/) and run deploy "
                             "again, or install the chart yourself: helm repo add eks https://aws.github.io/eks-charts && "
                             "helm " + " ".join(self.helm_args(vpc_id)))
        if self.ctx.connection.kube.context and self.ctx.settings.kube_context:
            env.setdefault("HELM_KUBECONTEXT", self.ctx.settings.kube_context)
        if self.ctx.settings.kubeconfig:
            env["KUBECONFIG"] = os.path.expanduser(self.ctx.settings.kubeconfig)
        for args in (["repo", "add", *CHART_REPO, "--force-update"], ["repo", "update", CHART_REPO[0]],
                     self.helm_args(vpc_id)):
            yield ProgressEvent("info", "helm " + " ".join(args), step.id)
            code, output = await _run(helm, args, env)
            if code != 0:
                raise StepFailed(f"helm {' '.join(args[:2])} failed (exit {code}): {output.strip()[-800:]}")
        yield ProgressEvent("info", f"Helm release {LBC_NAMESPACE}/{RELEASE} installed", step.id)

    async def _ready(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        async def check() -> tuple[bool, str]:
            deployment = await self.ctx.kube.get(DEPLOYMENTS, LBC_NAMESPACE, RELEASE)
            if deployment is None:
                return False, "deployment not created yet"
            status = deployment.get("status") or {}
            want = (deployment.get("spec") or {}).get("replicas", 1)
            return rollout_complete(deployment), f"{status.get('readyReplicas', 0) or 0}/{want} ready"

        async for event in wait_until(check, f"deployment {LBC_NAMESPACE}/{RELEASE} to be ready", step.id, self.ctx,
                                      "lbc-ready", evidence=PodsEvidence(LBC_NAMESPACE, workloads=(f"Deployment/{RELEASE}",))):
            yield event


async def _run(program: str, args: list[str], env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(program, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), HELM_TIMEOUT)
    except (asyncio.CancelledError, asyncio.TimeoutError) as exc:
        # helm upgrade --install can be re-run; stop it so a cancelled action leaves no process behind.
        proc.kill()
        await proc.wait()
        if isinstance(exc, asyncio.TimeoutError):
            raise StepFailed(f"helm {' '.join(args[:2])} did not finish within {HELM_TIMEOUT:.0f}s; "
                             "check `helm status aws-load-balancer-controller -n kube-system`") from None
        raise
    return proc.returncode or 0, out.decode("utf-8", "replace")
