"""Moving workloads between EC2 and Fargate by a rolling update, and measuring what it cost.

With label-scoped Fargate profiles (namespace + ``fargate.move_label``), a workload goes to
Fargate when its pod template gains the label and comes back when it loses it: the controller
rolls the pods with the workload's own surge and unavailability settings, so its replicas keep
serving throughout (DOMAIN.md 3.5: a pod is matched when it is created; 3.6: deleting a profile
stops its pods, which is what this avoids). The ``eks.amazonaws.com/fargate-profile`` label pins
the new pods to one profile where several match (the conversion of a namespace-wide profile).

``ReadinessWatch`` follows the workloads of some namespaces with a watch (every status change,
not a poll) and adds up, per workload, the seconds during which it had no ready replica.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from iagent_tui.services.kube import Reflector
from iagent_tui.services.kube_changes import MERGE_PATCH

from .base import ProgressEvent
from .cluster_state import FARGATE_PROFILE_LABEL, WORKLOAD_RESOURCES, is_ready, on_fargate, placement, pods, rollout_complete, selector_string
from .context import ActionContext
from .evidence import PodsEvidence
from .waits import wait_until

RESOURCES = WORKLOAD_RESOURCES
# A pod annotated compute-type ec2 is left to the default scheduler even where a profile selects
# it (DOMAIN.md 4.1: how CoreDNS stays on EC2): the way back from a namespace-wide profile.
COMPUTE_TYPE_ANNOTATION = "eks.amazonaws.com/compute-type"
PIN_LABEL = FARGATE_PROFILE_LABEL  # pins a new pod to one of several matching profiles (DOMAIN.md 3.5)


def move_label(ctx: ActionContext) -> tuple[str, str]:
    return ctx.settings.fargate.move_label_pair


def interruption(obj: dict) -> str:
    """Why a rolling update of this workload may still leave it with no ready replica ("" when it
    keeps serving): what the plan says before the move."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    replicas = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    if kind == "Deployment" and (spec.get("strategy") or {}).get("type") == "Recreate":
        return "strategy Recreate stops every pod before starting new ones"
    if kind == "StatefulSet":
        if (spec.get("updateStrategy") or {}).get("type") == "OnDelete":
            return "updateStrategy OnDelete: pods change only when deleted"
        if replicas < 2:
            return "a single-replica StatefulSet is replaced in place (stopped, then started)"
    return ""


def _template_meta(obj: dict) -> dict:
    return (((obj.get("spec") or {}).get("template") or {}).get("metadata") or {})


async def relabel(ctx: ActionContext, kind: str, namespace: str, name: str, *, add: dict[str, str],
                  remove: Iterable[str] = (), annotate: dict[str, str] | None = None,
                  remove_annotations: Iterable[str] = ()) -> None:
    """Change pod template labels and annotations in one merge patch (null deletes a key), which
    is one rollout of the workload."""
    metadata: dict = {"labels": {**{key: None for key in remove}, **add}}
    annotations = {**{key: None for key in remove_annotations}, **(annotate or {})}
    if annotations:
        metadata["annotations"] = annotations
    await ctx.kube_changes.patch(RESOURCES[kind], namespace, name, {"spec": {"template": {"metadata": metadata}}},
                                 MERGE_PATCH)


def _relabelled(obj: dict, add: dict[str, str], remove: tuple[str, ...], annotate: dict[str, str],
                remove_annotations: tuple[str, ...]) -> bool:
    meta = _template_meta(obj)
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    return (all(labels.get(k) == v for k, v in add.items()) and not any(k in labels for k in remove)
            and all(annotations.get(k) == v for k, v in annotate.items())
            and not any(k in annotations for k in remove_annotations))


async def roll(ctx: ActionContext, step_id: str, namespace: str, names: list[str], *, fargate: bool,
               add: dict[str, str] | None = None, remove: Iterable[str] = (), annotate: dict[str, str] | None = None,
               remove_annotations: Iterable[str] = ()) -> AsyncIterator[ProgressEvent]:
    """Relabel each "Kind/name" (a rolling update), then wait until every one has rolled out with
    its pods ready where they should be."""
    add, annotate = add or {}, annotate or {}
    remove, remove_annotations = tuple(remove), tuple(remove_annotations)
    for item in names:
        kind, name = item.split("/", 1)
        obj = await ctx.kube.get(RESOURCES[kind], namespace, name)
        if obj is None:
            continue  # deleted meanwhile: nothing to move
        if _relabelled(obj, add, remove, annotate, remove_annotations):
            continue  # done by an earlier, interrupted run: its rollout is waited for below
        await relabel(ctx, kind, namespace, name, add=add, remove=remove, annotate=annotate,
                      remove_annotations=remove_annotations)
        yield ProgressEvent("info", f"{kind} {namespace}/{name}: pod template changed, rolling update started", step_id)
    async for event in wait_placed(ctx, step_id, namespace, names, fargate=fargate):
        yield event


async def wait_placed(ctx: ActionContext, step_id: str, namespace: str, names: list[str], *,
                      fargate: bool, what: str = "") -> AsyncIterator[ProgressEvent]:
    """Until every "Kind/name" has rolled out with all its pods ready on Fargate (or on EC2)."""
    async def check() -> tuple[bool, str]:
        states, done = [], True
        for item in names:
            kind, name = item.split("/", 1)
            obj = await ctx.kube.get(RESOURCES[kind], namespace, name)
            if obj is None:
                continue
            selector = selector_string(((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
            mine = await pods(ctx, namespace, selector)
            placed = all(on_fargate(p) == fargate and is_ready(p) for p in mine)
            done = done and rollout_complete(obj) and placed
            states.append(f"{name}: {placement(mine)}")
        return done, "; ".join(states)

    where = "Fargate" if fargate else "EC2"
    async for event in wait_until(check, what or f"workloads in {namespace} rolled onto {where}", step_id, ctx, "rollout",
                                  evidence=PodsEvidence(namespace, workloads=tuple(names))):
        yield event


@dataclass
class _Gap:
    started: float | None = None
    total: float = 0.0
    replicas: int = 0


@dataclass
class ReadinessWatch:
    """Seconds without a ready replica, per "Kind/namespace/name", while the watch runs."""

    ctx: ActionContext
    namespaces: tuple[str, ...]
    gaps: dict[str, _Gap] = field(default_factory=dict)
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _reflectors: list[Reflector] = field(default_factory=list)

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _changed(self) -> None:
        now = self._now()
        for reflector in self._reflectors:
            for obj in reflector.items.values():
                meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
                key = f"{reflector.resource.kind}/{meta.get('namespace')}/{meta.get('name')}"
                gap = self.gaps.setdefault(key, _Gap())
                gap.replicas = max(gap.replicas, int(spec.get("replicas") or 0))
                down = int(spec.get("replicas") or 0) > 0 and int(status.get("readyReplicas") or 0) == 0
                if down and gap.started is None:
                    gap.started = now
                elif not down and gap.started is not None:
                    gap.total += now - gap.started
                    gap.started = None

    async def __aenter__(self) -> "ReadinessWatch":
        for namespace in self.namespaces:
            for resource in RESOURCES.values():
                reflector = Reflector(self.ctx.kube, resource, namespace, on_change=self._changed)
                self._reflectors.append(reflector)
                self._tasks.append(asyncio.create_task(reflector.run(), name=f"iagent-readiness-{reflector.name}"))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(r.wait_synced() for r in self._reflectors)), 30)
        self._changed()
        return self

    def settle(self) -> None:
        """Close the open gaps at now (a workload still down at the end counts up to now)."""
        self._changed()
        now = self._now()
        for gap in self.gaps.values():
            if gap.started is not None:
                gap.total += now - gap.started
                gap.started = now

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def report(self) -> dict[str, float]:
        return {key: round(gap.total, 1) for key, gap in sorted(self.gaps.items())}

    def unmeasured(self) -> list[str]:
        """Sources the watch could not follow: their gaps are unknown, never reported as zero."""
        return [f"{r.name}: {r.error.message if r.error else 'never listed'}" for r in self._reflectors
                if not r.synced or r.error is not None]

    def replicas(self, key: str) -> int:
        return self.gaps[key].replicas if key in self.gaps else 0

