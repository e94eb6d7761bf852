"""Workloads a rollout wait is about: their pod selectors, their own progress deadline (which
sets the wait's deadline: DOMAIN-independent, it is the workload owner's choice) and the deployment
controller's verdict when that deadline passed."""

from __future__ import annotations

from dataclasses import dataclass, field

from iagent_tui.deadlines import DEFAULT_PROGRESS_DEADLINE
from .cluster_state import WORKLOAD_RESOURCES as _RESOURCES, selector_string
from .context import ActionContext



@dataclass
class Found:
    selectors: dict[str, str] = field(default_factory=dict)  # "Kind/name" -> its pods' label selector
    objects: list[dict] = field(default_factory=list)


async def workload_selectors(ctx: ActionContext, namespace: str, names: tuple[str, ...]) -> Found:
    found = Found()
    for item in names:
        kind, name = item.split("/", 1)
        if kind not in _RESOURCES:
            continue
        obj = await ctx.kube.get(_RESOURCES[kind], namespace, name)
        if obj is None:
            continue
        found.objects.append(obj)
        found.selectors[item] = selector_string(((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
    return found


def progress_deadline(objects: list[dict]) -> float:
    """The largest spec.progressDeadlineSeconds among them (StatefulSets have none: the default)."""
    return max((float((o.get("spec") or {}).get("progressDeadlineSeconds") or DEFAULT_PROGRESS_DEADLINE)
                for o in objects), default=DEFAULT_PROGRESS_DEADLINE)


def rollout_verdict(obj: dict) -> str:
    """The deployment controller's ProgressDeadlineExceeded, as `kubectl rollout status` reads it:
    only once the controller has seen the latest spec (an old verdict is not about this rollout)."""
    status = obj.get("status") or {}
    if int(status.get("observedGeneration", 0) or 0) < int((obj.get("metadata") or {}).get("generation", 0) or 0):
        return ""
    for cond in status.get("conditions") or ():
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            meta = obj.get("metadata") or {}
            return (f"{obj.get('kind', 'Deployment')} {meta.get('namespace')}/{meta.get('name')} exceeded its progress "
                    f"deadline: {cond.get('message') or 'ProgressDeadlineExceeded'}")
    return ""


async def rollout_base(ctx: ActionContext, namespace: str, names: tuple[str, ...]) -> float:
    return progress_deadline((await workload_selectors(ctx, namespace, names)).objects)
