"""The running-state rules' vocabulary: ``diagnosis()`` (a Finding), and the context every rule reads (one Snapshot plus what
is derived from it once: pod events, the cluster's name for commands).

Kept apart from the rules so rule modules and ``doctor.py`` import it without a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from ..model import Event, FargateProfile, Pod, PodCondition, Snapshot
from .codes import CODES
from .startup import StartPhases
from .finding import SEVERITY_RANK, Category, Finding, Severity

def diagnosis(code: str, severity: Severity, title: str, obj: str, evidence: tuple[str, ...], explanation: str,
              next_steps: tuple[str, ...], namespace: str = "", *, action: str = "",
              category: Category | None = None) -> Finding:
    """A running-state finding (DR0xx, or an FG code the running state confirms), its category from
    the code table. ``namespace`` is "" for cluster-wide findings, which ``--namespace`` keeps
    because they affect every namespace (DNS, profiles, data sources)."""
    return Finding(code, severity, category or CODES[code].category, obj, title, explanation, tuple(evidence),
                   tuple(next_steps), action, namespace)


@dataclass(frozen=True)
class NotEvaluated:
    """A rule skipped because a source it reads failed (popeye: never "passed" when unread)."""

    rule: str  # what the rule checks, in words
    codes: tuple[str, ...]
    sources: tuple[str, ...]  # the failed sources


@dataclass
class Context:
    snap: Snapshot
    start_target_seconds: float = 120.0  # BRIEF: sub-2-minute pod starts
    stuck_profile_seconds: float = 600.0  # profile creates take 20 s to 6 min (DOMAIN 3.3)
    # Start phases per pod key, when the caller derived them already (the Assessor keeps them
    # per pod across snapshots); rules compute what is missing.
    start_phases: Mapping[str, StartPhases] = field(default_factory=dict)

    @property
    def cluster(self) -> str:
        return self.snap.cluster.name if self.snap.cluster else "<cluster>"

    @property
    def region(self) -> str:
        return self.snap.cluster.region if self.snap.cluster else "<region>"

    @property
    def now(self) -> datetime:
        return self.snap.taken_at

    @cached_property
    def pods_by_namespace(self) -> Mapping[str, list[Pod]]:
        """Pods grouped once per assessment: rules that look at one namespace's pods (an
        ingress's backends) would otherwise walk all 5,000 pods of a large cluster each time."""
        grouped: dict[str, list[Pod]] = {}
        for pod in self.snap.pods:
            grouped.setdefault(pod.namespace, []).append(pod)
        return grouped

    @cached_property
    def pods_by_node(self) -> Mapping[str, list[Pod]]:
        grouped: dict[str, list[Pod]] = {}
        for pod in self.snap.pods:
            grouped.setdefault(pod.node, []).append(pod)
        return grouped

    @cached_property
    def events_by_pod(self) -> Mapping[tuple[str, str], list[Event]]:
        grouped: dict[tuple[str, str], list[Event]] = {}
        for event in self.snap.events:
            if event.kind == "Pod":
                grouped.setdefault((event.namespace, event.name), []).append(event)
        return grouped

    def pod_events(self, pod: Pod, reason: str | None = None) -> list[Event]:
        """This pod's events, newest first (events without a time last)."""
        events = [e for e in self.events_by_pod.get((pod.namespace, pod.name), ()) if reason is None or e.reason == reason]
        return sorted(events, key=lambda e: (e.last_seen is not None, e.last_seen or self.now), reverse=True)

    def template_profile(self) -> FargateProfile | None:
        """An ACTIVE profile whose role and subnets a new profile can reuse in a suggested command."""
        active = sorted((p for p in self.snap.profiles if p.status == "ACTIVE"), key=lambda p: p.name)
        return active[0] if active else (self.snap.profiles[0] if self.snap.profiles else None)

    def create_profile_command(self, name: str, namespace: str, labels: Mapping[str, str] | None = None) -> str:
        template = self.template_profile()
        role = template.pod_execution_role_arn if template and template.pod_execution_role_arn else "<pod-execution-role-arn>"
        subnets = " ".join(template.subnets) if template and template.subnets else "<private-subnet-ids>"
        selector = f"namespace={namespace}"
        if labels:  # quoted: a shell would brace-expand labels={a=b,c=d}
            selector = f"'{selector},labels={{" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())) + "}'"
        return (f"aws eks create-fargate-profile --cluster-name {self.cluster} --fargate-profile-name {name} "
                f"--pod-execution-role-arn {role} --subnets {subnets} --selectors {selector}")

    def wait_profile_command(self, name: str) -> str:
        return f"aws eks wait fargate-profile-active --cluster-name {self.cluster} --fargate-profile-name {name}"


def describe_selectors(profile: FargateProfile) -> str:
    parts = []
    for s in profile.selectors:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        parts.append(f"namespace={s.namespace}" + (f" labels {labels}" if labels else ""))
    return "; ".join(parts) or "no selectors"


def restart_command(pod: Pod) -> str:
    """How to get a pod created again (profile selection and admission happen only at creation)."""
    kind = {"Deployment": "deployment", "StatefulSet": "statefulset", "DaemonSet": "daemonset"}.get(pod.owner_kind)
    if kind:
        return f"kubectl rollout restart {kind}/{pod.owner_name} -n {pod.namespace}"
    if pod.owner_kind:  # ReplicaSet, Job...: its controller makes a new pod
        return f"kubectl delete pod {pod.name} -n {pod.namespace}"
    # A bare pod has no controller to recreate it: replace it from its own manifest.
    return f"kubectl get pod {pod.name} -n {pod.namespace} -o yaml | kubectl replace --force -f -"


def edit_command(pod: Pod) -> str:
    kind = {"Deployment": "deployment", "StatefulSet": "statefulset", "DaemonSet": "daemonset",
            "ReplicaSet": "replicaset", "Job": "job"}.get(pod.owner_kind)
    if kind:
        return f"kubectl edit {kind}/{pod.owner_name} -n {pod.namespace}"
    return f"kubectl get pod {pod.name} -n {pod.namespace} -o yaml > {pod.name}.yaml  # edit, then: kubectl replace --force -f {pod.name}.yaml"


def owner_label(pod: Pod) -> str:
    return f"{pod.owner_kind}/{pod.namespace}/{pod.owner_name}" if pod.owner_kind else f"Pod/{pod.key}"


def failed_condition(pod: Pod, kind: str) -> PodCondition | None:
    """The pod's condition of this type when it is False (PodScheduled=False: not placed, and why)."""
    found = pod.condition(kind)
    return found if found is not None and found.status == "False" else None


def seconds(value: float) -> str:
    """Human duration for evidence lines: 45 s, 3 min 20 s, 2 h 5 min."""
    value = int(round(value))
    if value < 120:
        return f"{value} s"
    if value < 7200:
        return f"{value // 60} min {value % 60} s" if value % 60 else f"{value // 60} min"
    return f"{value // 3600} h {value % 3600 // 60} min"


def unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


__all__ = ["Context", "NotEvaluated", "SEVERITY_RANK", "Severity", "diagnosis"]
