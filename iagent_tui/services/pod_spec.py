"""Raw pod specs, templates and pod status -> the typed records insights read (model.PodSpec...).

Parsed once per object version (the monitor converts a pod again only when its resourceVersion
changes), so this stays a straight walk over the dicts: no copies beyond the read-only maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..model import (
    EMPTY_MAP,
    EMPTY_POD_SPEC,
    EMPTY_POD_TEMPLATE,
    ClaimTemplate,
    Container,
    ContainerPort,
    ContainerStatus,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    PodCondition,
    PodSpec,
    PodTemplate,
    PodVolume,
    frozen_map,
)

# Kinds whose spec.template is a pod template (CronJob nests it one level deeper).
POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")
_VOLUME_NON_SOURCE_KEYS = frozenset({"name"})


def parse_time(text: Any) -> datetime | None:
    """RFC 3339 as the API writes it; nanoseconds are cut to what Python keeps (microseconds)."""
    if not text or not isinstance(text, str):
        return None
    text = text.replace("Z", "+00:00")
    dot = text.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        if end - dot > 7:
            text = text[: dot + 7] + text[end:]
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _port(raw: Mapping[str, Any]) -> ContainerPort:
    return ContainerPort(raw.get("containerPort", "?"), int(raw.get("hostPort") or 0), raw.get("hostIP") or "")


def container_from_raw(raw: Mapping[str, Any]) -> Container:
    resources = raw.get("resources") or EMPTY_MAP
    context = raw.get("securityContext") or EMPTY_MAP
    added = (context.get("capabilities") or EMPTY_MAP).get("add") or ()
    return Container(
        name=raw.get("name", "?"),
        image=raw.get("image", "") or "",
        requests=frozen_map(resources.get("requests")),
        limits=frozen_map(resources.get("limits")),
        ports=tuple(_port(p) for p in raw.get("ports") or ()),
        privileged=context.get("privileged") is True,
        capabilities_added=tuple(str(c) for c in added),
        allow_privilege_escalation=context.get("allowPrivilegeEscalation") is True,
        has_volume_devices=bool(raw.get("volumeDevices")),
        restart_policy=raw.get("restartPolicy", "") or "",
    )


def volume_from_spec(raw: Mapping[str, Any]) -> PodVolume:
    kind = next((key for key in raw if key not in _VOLUME_NON_SOURCE_KEYS), "unknown")
    claim = str((raw.get("persistentVolumeClaim") or EMPTY_MAP).get("claimName", "")) if kind == "persistentVolumeClaim" else ""
    return PodVolume(raw.get("name", "?"), kind, claim)


def _node_terms(spec: Mapping[str, Any]) -> tuple[NodeSelectorTerm, ...]:
    required = (((spec.get("affinity") or EMPTY_MAP).get("nodeAffinity") or EMPTY_MAP)
                .get("requiredDuringSchedulingIgnoredDuringExecution") or EMPTY_MAP)
    return tuple(
        NodeSelectorTerm(tuple(
            NodeSelectorRequirement(e.get("key", ""), e.get("operator", ""), tuple(str(v) for v in e.get("values") or ()))
            for e in term.get("matchExpressions") or ()))
        for term in required.get("nodeSelectorTerms") or ())


def pod_spec_from_raw(spec: Mapping[str, Any] | None) -> PodSpec:
    if not spec:
        return EMPTY_POD_SPEC
    return PodSpec(
        containers=tuple(container_from_raw(c) for c in spec.get("containers") or ()),
        init_containers=tuple(container_from_raw(c) for c in spec.get("initContainers") or ()),
        volumes=tuple(volume_from_spec(v) for v in spec.get("volumes") or ()),
        host_network=spec.get("hostNetwork") is True,
        host_pid=spec.get("hostPID") is True,
        host_ipc=spec.get("hostIPC") is True,
        node_selector=frozen_map({k: str(v) for k, v in (spec.get("nodeSelector") or EMPTY_MAP).items()}),
        required_node_terms=_node_terms(spec),
        service_account_name=spec.get("serviceAccountName") or "",
        scheduler_name=spec.get("schedulerName") or "",
    )


def template_from_raw(template: Mapping[str, Any] | None) -> PodTemplate:
    if not template:
        return EMPTY_POD_TEMPLATE
    meta = template.get("metadata") or EMPTY_MAP
    return PodTemplate(frozen_map(meta.get("labels")), frozen_map(meta.get("annotations")),
                       pod_spec_from_raw(template.get("spec")))


def workload_template_raw(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The raw pod template of a workload object ({} for a kind without one)."""
    spec = obj.get("spec") or EMPTY_MAP
    kind = obj.get("kind")
    if kind == "CronJob":
        return ((spec.get("jobTemplate") or EMPTY_MAP).get("spec") or EMPTY_MAP).get("template") or EMPTY_MAP
    if kind in POD_TEMPLATE_KINDS:
        return spec.get("template") or EMPTY_MAP
    return EMPTY_MAP


def pod_template_from_raw(obj: Mapping[str, Any]) -> PodTemplate:
    """The pod template of a workload object, or a pod's own metadata and spec.

    ValueError for kinds without a pod template, naming the kinds that have one."""
    kind = obj.get("kind")
    if kind == "Pod":
        return template_from_raw(obj)
    if kind != "CronJob" and kind not in POD_TEMPLATE_KINDS:
        raise ValueError(
            f"{kind or 'object without kind'} has no pod template; expected Pod, CronJob or one of "
            + ", ".join(POD_TEMPLATE_KINDS)
        )
    return template_from_raw(workload_template_raw(obj))


def claim_templates_from_raw(spec: Mapping[str, Any]) -> tuple[ClaimTemplate, ...]:
    return tuple(
        ClaimTemplate((t.get("metadata") or EMPTY_MAP).get("name", "?"), (t.get("spec") or EMPTY_MAP).get("storageClassName") or "")
        for t in spec.get("volumeClaimTemplates") or ())


def condition_from_raw(raw: Mapping[str, Any]) -> PodCondition:
    return PodCondition(raw.get("type", ""), raw.get("status", ""), raw.get("reason", "") or "",
                        raw.get("message", "") or "", parse_time(raw.get("lastTransitionTime")))


def container_status_from_raw(raw: Mapping[str, Any]) -> ContainerStatus:
    state = raw.get("state") or EMPTY_MAP
    waiting = state.get("waiting") or EMPTY_MAP
    last = (raw.get("lastState") or EMPTY_MAP).get("terminated") or EMPTY_MAP
    exit_code = last.get("exitCode")
    return ContainerStatus(
        name=raw.get("name", "?"),
        image=raw.get("image", "") or "",
        ready=raw.get("ready") is True,
        restart_count=int(raw.get("restartCount", 0) or 0),
        waiting_reason=waiting.get("reason", "") or "",
        waiting_message=waiting.get("message", "") or "",
        running_since=parse_time((state.get("running") or EMPTY_MAP).get("startedAt")),
        terminated_reason=(state.get("terminated") or EMPTY_MAP).get("reason", "") or "",
        last_terminated_reason=last.get("reason", "") or "",
        last_exit_code=int(exit_code) if exit_code is not None else None,
    )
