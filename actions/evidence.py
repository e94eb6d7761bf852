"""What a wait looks at besides its own check, so that it can explain itself: the latest Warning
event of the pods (and workloads) it waits for — the scheduler's FailedScheduling message, the
kubelet's image pull failure — and whether they are in a state that waiting cannot fix (DOMAIN.md
3.8, 5.2), in which case the wait fails at once with that reason instead of running out its
deadline."""

from __future__ import annotations

import re
from dataclasses import dataclass

from iagent_tui.services.kube import EVENTS

from .cluster_state import pods, selector_string
from .context import ActionContext

# Fargate's verdicts that no amount of waiting changes (DOMAIN.md 3.8, 5.2). "not found" / "not
# bound" claims show transiently and can resolve; those are waited out.
_HOPELESS_REASONS = ("POD_UNSUPPORTED_ON_FARGATE", "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE")
_HOPELESS_PREFIXES = ("Pod not supported on Fargate:", "Your pod's cpu/memory requirements exceed",
                      "Your AWS account is currently blocked")
_TRANSIENT = ("not found", "not bound")


@dataclass(frozen=True)
class Seen:
    warning: str = ""    # "FailedScheduling: 0/3 nodes are available: ..." (the latest Warning event)
    hopeless: str = ""   # why waiting longer cannot help; "" while it still might


def _hopeless_text(message: str) -> bool:
    return message.startswith(_HOPELESS_PREFIXES) and not any(t in message for t in _TRANSIENT)


def pod_verdict(pod: dict) -> str:
    """Why this pod can never be placed, from its PodScheduled condition; "" when it might be."""
    for cond in (pod.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            message = cond.get("message") or ""
            if cond.get("reason") in _HOPELESS_REASONS and not any(t in message for t in _TRANSIENT):
                return message or cond.get("reason", "")
            if _hopeless_text(message):
                return message
    return ""


def _when(event: dict) -> str:
    return event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or ""


# The kubelet follows a failure's explanation with a bare "Error: ErrImagePull" / "Error:
# ImagePullBackOff" that only repeats the container's waiting reason: the explanation is the news.
_ECHO = re.compile(r"^Error: \w+$")


def latest_warning(events: list[dict], names: set[tuple[str, str]]) -> dict | None:
    """The newest Warning event about one of ``names`` ((kind, name) pairs) that says more than
    a reason's name."""
    mine = [e for e in events if e.get("type") == "Warning"
            and ((e.get("involvedObject") or {}).get("kind"), (e.get("involvedObject") or {}).get("name")) in names]
    telling = [e for e in mine if not _ECHO.match(e.get("message") or "")]
    return max(telling or mine, key=_when, default=None)


def event_text(event: dict | None) -> str:
    if not event:
        return ""
    obj = event.get("involvedObject") or {}
    return f"{obj.get('kind')} {obj.get('namespace')}/{obj.get('name')}: {event.get('reason')}: {event.get('message')}"


@dataclass(frozen=True)
class PodsEvidence:
    """The pods a wait is about (a namespace and a label selector), and optionally the workloads
    that own them ("Deployment/x"), whose own events (FailedCreate) and rollout verdict count too."""

    namespace: str
    selector: str = ""
    workloads: tuple[str, ...] = ()

    async def look(self, ctx: ActionContext) -> Seen:
        from .workload_evidence import rollout_verdict, workload_selectors

        selectors = [self.selector] if self.selector else []
        named: set[tuple[str, str]] = {tuple(w.split("/", 1)) for w in self.workloads}  # type: ignore[misc]
        hopeless = ""
        if self.workloads:
            found = await workload_selectors(ctx, self.namespace, self.workloads)
            selectors += [s for s in found.selectors.values() if s]
            hopeless = next((v for v in (rollout_verdict(o) for o in found.objects) if v), "")
        mine: list[dict] = []
        for selector in dict.fromkeys(selectors):
            mine += await pods(ctx, self.namespace, selector)
        named |= {("Pod", (p.get("metadata") or {}).get("name", "")) for p in mine}
        hopeless = hopeless or next((f"pod {self.namespace}/{p['metadata']['name']}: {v}"
                                     for p in mine if (v := pod_verdict(p))), "")
        events, _ = await ctx.kube.list(EVENTS, self.namespace)
        warning = latest_warning(events, named)
        if not hopeless and warning and _hopeless_text(warning.get("message") or ""):
            hopeless = event_text(warning)
        return Seen(event_text(warning), hopeless)

    def describe_command(self) -> str:
        """The command that shows the user what we saw."""
        target = f"-l {self.selector}" if self.selector else ""
        if not target and self.workloads:
            return (f"kubectl describe -n {self.namespace} " + " ".join(w.lower() for w in self.workloads)
                    + f" && kubectl get events -n {self.namespace} --field-selector type=Warning")
        return f"kubectl describe pods -n {self.namespace} {target}".rstrip()


def pods_of(namespace: str, match_labels: dict) -> PodsEvidence:
    return PodsEvidence(namespace, selector_string(match_labels))
