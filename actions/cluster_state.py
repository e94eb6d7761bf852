"""Reads the actions share: where pods run, whether a workload is ready, Fargate profiles in
transition, the CoreDNS add-on. Everything here re-reads the cluster (plans and resumes are
computed from the actual state, never from what an earlier run meant to do)."""

from __future__ import annotations

import json

from iagent_tui.services.errors import ServiceError
from iagent_tui.services.kube import DEPLOYMENTS, NAMESPACES, PODS, STATEFULSETS

from .context import ActionContext

COREDNS = "coredns"
COREDNS_SELECTOR = "k8s-app=kube-dns"
TRANSITIONAL = ("CREATING", "DELETING")
FARGATE_PROFILE_LABEL = "eks.amazonaws.com/fargate-profile"
# The workload kinds actions move and wait on, by kind name ("Deployment/x" items).
WORKLOAD_RESOURCES = {"Deployment": DEPLOYMENTS, "StatefulSet": STATEFULSETS}


def on_fargate(pod: dict) -> bool:
    node = (pod.get("spec") or {}).get("nodeName") or ""
    return node.startswith("fargate-") or FARGATE_PROFILE_LABEL in ((pod.get("metadata") or {}).get("labels") or {})


def is_ready(pod: dict) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ())


def live(pods: list[dict]) -> list[dict]:
    """Pods not on their way out (terminating pods still show in lists during their grace period)."""
    return [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]


def pod_name(pod: dict) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def placement(pods: list[dict]) -> str:
    """'2 on Fargate (2 ready), 1 on EC2, 1 pending' — the status text waits show."""
    fargate = [p for p in pods if on_fargate(p) and (p.get("spec") or {}).get("nodeName")]
    ec2 = [p for p in pods if not on_fargate(p) and (p.get("spec") or {}).get("nodeName")]
    pending = [p for p in pods if not (p.get("spec") or {}).get("nodeName")]
    parts = [f"{len(fargate)} on Fargate ({sum(map(is_ready, fargate))} ready)",
             f"{len(ec2)} on EC2 ({sum(map(is_ready, ec2))} ready)"]
    if pending:
        # Why they wait (the scheduler's message, e.g. "0/2 nodes are available: 2 Insufficient cpu."),
        # so a long wait explains itself.
        reasons = {c.get("message", "") for p in pending for c in (p.get("status") or {}).get("conditions") or ()
                   if c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("message")}
        parts.append(f"{len(pending)} pending" + (f" ({sorted(reasons)[0][:120]})" if reasons else ""))
    return ", ".join(parts)


async def pods(ctx: ActionContext, namespace: str, selector: str | None = None) -> list[dict]:
    items, _ = await ctx.kube.list(PODS, namespace, label_selector=selector)
    return live(items)


async def namespace_exists(ctx: ActionContext, name: str) -> bool:
    return await ctx.kube.get(NAMESPACES, None, name) is not None


def selector_string(match_labels: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((match_labels or {}).items()))


async def workloads(ctx: ActionContext, namespace: str) -> list[dict]:
    """Deployments and StatefulSets of a namespace (DaemonSets never run on Fargate)."""
    deployments, _ = await ctx.kube.list(DEPLOYMENTS, namespace)
    statefulsets, _ = await ctx.kube.list(STATEFULSETS, namespace)
    return sorted(deployments + statefulsets, key=lambda o: (o.get("kind", ""), o["metadata"]["name"]))


def rollout_complete(obj: dict) -> bool:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    generation_seen = int(status.get("observedGeneration", 0) or 0) >= int((obj.get("metadata") or {}).get("generation", 0) or 0)
    return (generation_seen and int(status.get("updatedReplicas", 0) or 0) >= want
            and int(status.get("readyReplicas", 0) or 0) >= want
            and int(status.get("replicas", 0) or 0) <= want)


async def profiles(ctx: ActionContext) -> dict[str, dict]:
    """name -> DescribeFargateProfile of every profile of the cluster."""
    return {p.name: dict(p.raw) for p in await ctx.aws.fargate_profiles(ctx.cluster_name)}


async def profile(ctx: ActionContext, name: str) -> dict | None:
    try:
        return await ctx.aws.describe_fargate_profile_raw(ctx.cluster_name, name)
    except ServiceError as err:
        if err.kind == "not_found":
            return None
        raise


async def coredns_addon(ctx: ActionContext) -> dict | None:
    try:
        return await ctx.aws.describe_addon_raw(ctx.cluster_name, COREDNS)
    except ServiceError as err:
        if err.kind == "not_found":
            return None
        raise


def addon_config(addon: dict) -> dict:
    raw = (addon or {}).get("configurationValues") or ""
    try:
        value = json.loads(raw) if raw.strip() else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def health_text(obj: dict) -> str:
    issues = ((obj or {}).get("health") or {}).get("issues") or ()
    return "; ".join(f"{i.get('code')}: {i.get('message')}" for i in issues)
