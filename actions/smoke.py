"""smoke: the brief's end-to-end check — apply manifests/sample-app.yaml, wait for its pods on
Fargate (each one's start time against the target), for the ingress's ALB hostname and healthy
targets, then send HTTP requests to the ALB as `curl http://<hostname>/` does. Pass or fail."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from importlib import resources

import aiohttp
import yaml

from iagent_tui.insights.profiles import match_profile
from iagent_tui.insights.startup import pod_start_phases
from iagent_tui.services.convert import event_from_raw, pod_from_raw
from iagent_tui.services.errors import ServiceError
from iagent_tui.services.kube import DEPLOYMENTS, EVENTS, INGRESSES, SERVICES, TARGETGROUPBINDINGS
from iagent_tui.services.kube_changes import describe, resource_for

from .base import Plan, PlanStep, ProgressEvent, StepAction, StepFailed
from .cluster_state import is_ready, on_fargate, placement, pod_name, pods, rollout_complete, selector_string
from .context import ActionContext
from .preflight import preflight
from .evidence import PodsEvidence
from .waits import wait_until

PROXY_ENV = "IAGENT_ALB_PROXY"  # the sandbox's ALB front: requests go through it as a forward proxy
REQUEST_TIMEOUT = 10.0


def alb_proxy(ctx: ActionContext) -> str | None:
    """The forward proxy for requests to the ALB: the setting (`--sandbox` sets it), else the
    environment the action runs in."""
    return ctx.settings.alb_proxy or ctx.env.get(PROXY_ENV) or None


def sample_app() -> list[dict]:
    text = resources.files("manifests").joinpath("sample-app.yaml").read_text()
    return [doc for doc in yaml.safe_load_all(text) if doc]


class SmokeAction(StepAction):
    name = "smoke"
    title = "Smoke test: sample app on Fargate behind an ALB"

    def __init__(self, ctx: ActionContext, cleanup: bool = False, requests: int = 5) -> None:
        self.ctx = ctx
        self.cleanup = cleanup
        self.requests = requests
        self.objects = sample_app()
        self.deployment = next(o for o in self.objects if o["kind"] == "Deployment")
        self.ingress = next(o for o in self.objects if o["kind"] == "Ingress")
        self.service = next(o for o in self.objects if o["kind"] == "Service")
        self.namespace = self.deployment["metadata"]["namespace"]
        if ctx.settings.fargate.profile_scope == "label":  # label-scoped profiles take labelled pods only
            key, value = ctx.settings.fargate.move_label_pair
            self.deployment["spec"]["template"]["metadata"].setdefault("labels", {})[key] = value
        self.hostname = ""
        self.results: dict = {}

    async def plan(self) -> Plan:
        ctx = self.ctx
        await preflight(ctx)  # the right cluster, the configured subnets: before any other read
        warnings = []
        labels = self.deployment["spec"]["template"]["metadata"].get("labels") or {}
        if match_profile(self.namespace, labels, await ctx.aws.fargate_profiles(ctx.cluster_name)) is None:
            warnings.append(f"No ACTIVE Fargate profile selects namespace {self.namespace}: the sample pods will not "
                            "run on Fargate and the smoke test will fail. Run `iagent-tui deploy` first.")
        kinds = ", ".join(describe(o) for o in self.objects)
        present = [describe(o) for o in self.objects
                   if await ctx.kube.get(resource_for(o), o["metadata"].get("namespace"), o["metadata"]["name"]) is not None]
        missing = [describe(o) for o in self.objects if describe(o) not in present]
        # Counted as what it does: a first smoke creates the sample app, a repeated one patches it.
        apply_detail = "; ".join(part for part in (f"creates {', '.join(missing)}" if missing else "",
                                                   f"patches {', '.join(present)}" if present else "") if part)
        steps = [
            PlanStep("apply", "Apply the sample app (manifests/sample-app.yaml)", "create" if missing else "change",
                     kinds, apply_detail),
            PlanStep("pods", "Wait for the sample pods on Fargate and report their start times", "wait",
                     describe(self.deployment), f"target {ctx.settings.startup_target_seconds:.0f}s per pod", mutating=False),
            PlanStep("ingress", "Wait for the ALB hostname on the ingress", "wait", describe(self.ingress), mutating=False),
            PlanStep("targets", "Wait for healthy ALB targets", "wait", f"target group of {describe(self.service)}",
                     mutating=False),
            PlanStep("http", f"Send {self.requests} HTTP request(s) to the ALB", "request", "http://<ALB hostname>/",
                     "through " + proxy if (proxy := alb_proxy(ctx)) else "directly", mutating=False),
        ]
        if self.cleanup:
            steps.append(PlanStep("cleanup", "Remove the sample app", "delete", kinds,
                                  "the controller deletes its ALB and target group; waits until they are gone",
                                  reschedules=()))
        return Plan("smoke", ctx.cluster_name, tuple(steps), destructive=False, warnings=tuple(warnings))

    def execute(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        return {"apply": self._apply, "pods": self._pods, "ingress": self._ingress, "targets": self._targets,
                "http": self._http, "cleanup": self._cleanup}[step.id](step)

    async def _apply(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        for obj in self.objects:
            outcome, _ = await self.ctx.kube_changes.apply(obj)
            yield ProgressEvent("info", f"{describe(obj)} {outcome}", step.id)

    async def _pods(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        ctx = self.ctx
        name = self.deployment["metadata"]["name"]
        selector = selector_string(self.deployment["spec"]["selector"]["matchLabels"])

        async def check() -> tuple[bool, str]:
            deployment = await ctx.kube.get(DEPLOYMENTS, self.namespace, name)
            mine = await pods(ctx, self.namespace, selector)
            done = (deployment is not None and rollout_complete(deployment) and bool(mine)
                    and all(on_fargate(p) and is_ready(p) for p in mine))
            return done, placement(mine)

        async for event in wait_until(check, f"pods of {self.namespace}/{name} ready on Fargate", step.id, ctx, "rollout",
                                      evidence=PodsEvidence(self.namespace, workloads=(f"Deployment/{name}",))):
            yield event
        raw_events, _ = await ctx.kube.list(EVENTS, self.namespace)
        events = [event_from_raw(e) for e in raw_events]
        target = ctx.settings.startup_target_seconds
        starts = {}
        for pod in await pods(ctx, self.namespace, selector):
            took = pod_start_phases(pod_from_raw(pod), events).to_ready
            starts[pod_name(pod)] = took
            if took is None:
                yield ProgressEvent("warning", f"{pod_name(pod)}: start time not recorded", step.id)
                continue
            verdict = "within" if took <= target else "OVER"
            kind = "info" if took <= target else "warning"
            yield ProgressEvent(kind, f"{pod_name(pod)} started in {took:.0f}s ({verdict} the {target:.0f}s target)",
                                step.id, data={"pod": pod_name(pod), "start_seconds": took, "target_seconds": target})
        self.results["start_seconds"] = starts

    async def _ingress(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        name = self.ingress["metadata"]["name"]

        async def check() -> tuple[bool, str]:
            ingress = await self.ctx.kube.get(INGRESSES, self.namespace, name) or {}
            entries = ((ingress.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
            self.hostname = next((e.get("hostname") for e in entries if e.get("hostname")), "")
            return bool(self.hostname), self.hostname or "no address yet"

        async for event in wait_until(check, f"an ALB hostname on ingress {self.namespace}/{name}", step.id, self.ctx,
                                      "ingress-address", evidence=PodsEvidence(self.namespace, workloads=(f"Ingress/{name}",))):
            yield event
        self.results["hostname"] = self.hostname

    async def _target_group_arns(self) -> list[str]:
        service = self.service["metadata"]["name"]
        try:
            bindings, _ = await self.ctx.kube.list(TARGETGROUPBINDINGS, self.namespace)
        except ServiceError as err:
            if err.kind == "not_found":
                return []  # CRD not installed yet
            raise
        return [b["spec"]["targetGroupARN"] for b in bindings
                if ((b.get("spec") or {}).get("serviceRef") or {}).get("name") == service and b["spec"].get("targetGroupARN")]

    async def _targets(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        want = int(self.deployment["spec"].get("replicas", 1))

        async def check() -> tuple[bool, str]:
            arns = await self._target_group_arns()
            if not arns:
                return False, "no TargetGroupBinding yet"
            targets = [t for arn in arns for t in await self.ctx.aws.target_health(arn)]
            healthy = [t for t in targets if t.state == "healthy"]
            states = ", ".join(sorted(f"{t.id} {t.state}{' (' + t.reason + ')' if t.reason else ''}" for t in targets))
            return len(healthy) >= want and len(healthy) == len(targets), states or "no targets registered"

        targets = (f"kubectl get targetgroupbindings -n {self.namespace} -o wide, then "
                   "aws elbv2 describe-target-health --target-group-arn <its targetGroupARN>")
        async for event in wait_until(check, "healthy targets behind the ALB", step.id, self.ctx, "targets-healthy",
                                      next_step=targets):
            yield event

    async def _http(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        if not self.hostname:
            raise StepFailed("No ALB hostname known: the ingress step did not finish.")
        url = f"http://{self.hostname}/"
        proxy = alb_proxy(self.ctx)
        outcomes = []
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for number in range(1, self.requests + 1):
                started = time.perf_counter()
                try:
                    async with session.get(url, proxy=proxy) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status, error = 0, f"{type(exc).__name__}: {exc}"
                else:
                    error = ""
                took = time.perf_counter() - started
                outcomes.append({"status": status, "seconds": round(took, 4), "error": error})
                yield ProgressEvent("info" if status == 200 else "warning",
                                    f"GET {url} -> {status or error} in {took * 1000:.0f} ms", step.id,
                                    data={"status": status, "seconds": took})
        self.results["http"] = outcomes
        good = sum(1 for o in outcomes if o["status"] == 200)
        if good != len(outcomes):
            raise StepFailed(f"Smoke test FAILED: {good}/{len(outcomes)} requests to {url} answered 200. "
                             "Check the target health and the pods' logs (kubectl logs -n default deploy/iagent-sample).")
        yield ProgressEvent("info", f"Smoke test PASSED: {good}/{len(outcomes)} requests answered 200", step.id,
                            data=dict(self.results))

    async def _cleanup(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:
        for obj in reversed(self.objects):
            res = resource_for(obj)
            gone = not await self.ctx.kube_changes.delete(res, self.namespace, obj["metadata"]["name"])
            yield ProgressEvent("info", f"{describe(obj)} {'already gone' if gone else 'deleted'}", step.id)
        name = self.ingress["metadata"]["name"]

        async def check() -> tuple[bool, str]:
            left = [o for o, r in ((self.ingress, INGRESSES), (self.service, SERVICES), (self.deployment, DEPLOYMENTS))
                    if await self.ctx.kube.get(r, self.namespace, o["metadata"]["name"]) is not None]
            return not left, ", ".join(describe(o) for o in left) or "all gone"

        async for event in wait_until(check, f"the sample app (ingress {name} releases its ALB) to be gone", step.id,
                                      self.ctx, "app-gone", evidence=PodsEvidence(self.namespace, workloads=(f"Ingress/{name}",))):
            yield event
