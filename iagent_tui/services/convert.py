"""Raw Kubernetes JSON -> model records. Pure functions; the raw dict rides along only for the YAML
detail views (insights read the typed fields; pod specs are parsed in ``pod_spec.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..model import (
    CAPACITY_ANNOTATION,
    EMPTY_MAP,
    COMPUTE_TYPE_LABEL,
    FARGATE_PROFILE_LABEL,
    ComputeType,
    Event,
    Ingress,
    Node,
    Pod,
    Service,
    TargetGroupBinding,
    Volume,
    VolumeClaim,
    Workload,
    frozen_map,
)
from .kube import compact
from .pod_spec import (
    claim_templates_from_raw,
    condition_from_raw,
    container_status_from_raw,
    parse_time,
    pod_spec_from_raw,
    pod_template_from_raw,
    template_from_raw,
    workload_template_raw,
)

ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")


def read_only(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """A model's raw object, read-only but not copied: a Reflector's stored objects are replaced,
    never changed, so the view can be shared (at 5,000 pods and 10,000 events the copies were
    megabytes)."""
    return MappingProxyType(raw) if raw else EMPTY_MAP


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _first(labels: Mapping[str, str], keys: tuple[str, ...]) -> str:
    return next((labels[k] for k in keys if labels.get(k)), "")


def _condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or () if c.get("type") == kind), {})


def node_compute_type(raw: Mapping[str, Any]) -> ComputeType:
    labels = _meta(raw).get("labels") or {}
    if labels.get(COMPUTE_TYPE_LABEL) == "fargate" or _meta(raw).get("name", "").startswith("fargate-"):
        return "fargate"
    return "ec2"


def node_essentials(raw: dict) -> dict:
    """What node_from_raw reads of a node, all a monitor keeps: the Node model has no raw (no
    view shows a node's YAML), and a node's status (images, addresses, capacity, every
    condition) is most of its size; a Fargate cluster has a node per pod."""
    meta = raw.get("metadata") or {}
    return compact({
        "kind": raw.get("kind", "Node"),
        "metadata": {k: meta[k] for k in ("name", "uid", "resourceVersion", "creationTimestamp", "labels") if k in meta},
        "status": {"conditions": [c for c in (raw.get("status") or {}).get("conditions") or () if c.get("type") == "Ready"]},
    })


def node_from_raw(raw: Mapping[str, Any]) -> Node:
    meta = _meta(raw)
    labels = meta.get("labels") or {}
    return Node(
        name=meta.get("name", ""),
        compute_type=node_compute_type(raw),
        ready=_condition(raw, "Ready").get("status") == "True",
        zone=_first(labels, ZONE_LABELS),
        instance_type=_first(labels, INSTANCE_TYPE_LABELS),
        labels=frozen_map(labels),
        created=parse_time(meta.get("creationTimestamp")),
    )


def pod_status_reason(raw: Mapping[str, Any]) -> str:
    """What `kubectl get pods` prints in STATUS (the logic of kubectl's printPod, condensed)."""
    status = raw.get("status") or {}
    spec = raw.get("spec") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    init_statuses = status.get("initContainerStatuses") or ()
    init_total = len(spec.get("initContainers") or ())
    initializing = False
    for i, cs in enumerate(init_statuses):
        state = cs.get("state") or {}
        term = state.get("terminated")
        if term and term.get("exitCode") == 0:
            continue
        # Native sidecars (restartPolicy Always) that are running count as done.
        if state.get("running") and cs.get("started"):
            continue
        if term:
            reason = "Init:" + (term.get("reason") or (f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode')}"))
        elif (state.get("waiting") or {}).get("reason") not in (None, "", "PodInitializing"):
            reason = "Init:" + state["waiting"]["reason"]
        else:
            reason = f"Init:{i}/{init_total}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for cs in reversed(status.get("containerStatuses") or ()):
            state = cs.get("state") or {}
            waiting, term = state.get("waiting") or {}, state.get("terminated") or {}
            if waiting.get("reason"):
                reason = waiting["reason"]
            elif term.get("reason"):
                reason = term["reason"]
            elif term:
                reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode')}"
            elif state.get("running") and cs.get("ready"):
                has_running = True
        if reason == "Completed" and has_running:
            reason = "Running" if _condition(raw, "Ready").get("status") == "True" else "NotReady"
    if _meta(raw).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason


def _owner(raw: Mapping[str, Any]) -> tuple[str, str]:
    """The controlling owner; a ReplicaSet made by a Deployment is reported as that Deployment
    (what an operator thinks in), recognised by the pod-template-hash suffix."""
    meta = _meta(raw)
    refs = meta.get("ownerReferences") or ()
    ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    if not ref:
        return "", ""
    kind, name = ref.get("kind", ""), ref.get("name", "")
    template_hash = (meta.get("labels") or {}).get("pod-template-hash", "")
    if kind == "ReplicaSet" and template_hash and name.endswith("-" + template_hash):
        return "Deployment", name[: -len(template_hash) - 1]
    return kind, name


__all__ = ["parse_time", "pod_spec_from_raw", "pod_template_from_raw", "template_from_raw"]  # re-exported


def pod_from_raw(raw: Mapping[str, Any], node_types: Mapping[str, ComputeType] | None = None) -> Pod:
    """``node_types`` maps node name -> compute type; without the node (not listed yet) a
    ``fargate-`` node name still says Fargate."""
    meta = _meta(raw)
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    labels = meta.get("labels") or {}
    node = spec.get("nodeName") or ""
    compute: ComputeType = ""
    if node:
        compute = (node_types or {}).get(node) or ("fargate" if node.startswith("fargate-") else "ec2")
    owner_kind, owner_name = _owner(raw)
    annotations = meta.get("annotations") or {}
    conditions = tuple(condition_from_raw(c) for c in status.get("conditions") or ())
    container_statuses = tuple(container_status_from_raw(c) for c in status.get("containerStatuses") or ())
    return Pod(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        node=node,
        compute_type=compute,
        phase=status.get("phase", "") or "",
        ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
        reason=pod_status_reason(raw),
        restarts=sum(cs.restart_count for cs in container_statuses),
        ip=status.get("podIP", "") or "",
        owner_kind=owner_kind,
        owner_name=owner_name,
        labels=frozen_map(labels),
        capacity_provisioned=annotations.get(CAPACITY_ANNOTATION, "") or "",
        fargate_profile=labels.get(FARGATE_PROFILE_LABEL, "") or "",
        created=parse_time(meta.get("creationTimestamp")),
        raw=read_only(raw),
        uid=meta.get("uid", "") or "",
        resource_version=meta.get("resourceVersion", "") or "",
        annotations=frozen_map(annotations),
        deleting=bool(meta.get("deletionTimestamp")),
        started=parse_time(status.get("startTime")),
        spec=pod_spec_from_raw(spec),
        conditions=conditions,
        init_container_statuses=tuple(container_status_from_raw(c) for c in status.get("initContainerStatuses") or ()),
        container_statuses=container_statuses,
    )


def workload_from_raw(raw: Mapping[str, Any]) -> Workload:
    kind = raw.get("kind", "")
    meta, spec, status = _meta(raw), raw.get("spec") or {}, raw.get("status") or {}
    if kind == "DaemonSet":
        replicas, ready = status.get("desiredNumberScheduled", 0), status.get("numberReady", 0)
    else:
        replicas = spec.get("replicas", 1) if spec.get("replicas") is not None else 1
        ready = status.get("readyReplicas", 0)
    return Workload(kind, meta.get("namespace", ""), meta.get("name", ""), int(replicas or 0), int(ready or 0), read_only(raw),
                    template=template_from_raw(workload_template_raw(raw)),
                    claim_templates=claim_templates_from_raw(spec) if kind == "StatefulSet" else (),
                    resource_version=meta.get("resourceVersion", "") or "")


def event_from_raw(raw: Mapping[str, Any]) -> Event:
    involved = raw.get("involvedObject") or raw.get("regarding") or {}
    source = raw.get("source") or {}
    series = raw.get("series") or {}
    last = parse_time(raw.get("lastTimestamp")) or parse_time(series.get("lastObservedTime")) or parse_time(raw.get("eventTime")) or parse_time(raw.get("firstTimestamp"))
    # core/v1 events carry first/lastTimestamp; events.k8s.io/v1 carry eventTime (and deprecated*).
    first = (parse_time(raw.get("firstTimestamp")) or parse_time(raw.get("eventTime"))
             or parse_time(raw.get("deprecatedFirstTimestamp")) or last or parse_time(_meta(raw).get("creationTimestamp")))
    return Event(
        namespace=involved.get("namespace") or _meta(raw).get("namespace", ""),
        kind=involved.get("kind", ""),
        name=involved.get("name", ""),
        reason=raw.get("reason", "") or "",
        type=raw.get("type", "") or "",
        message=raw.get("message", "") or raw.get("note", "") or "",
        component=source.get("component") or raw.get("reportingComponent") or raw.get("reportingController") or "",
        count=int(raw.get("count") or series.get("count") or 1),
        last_seen=last,
        raw=read_only(raw),
        first_seen=first,
        object_uid=involved.get("uid", "") or "",
    )


def service_from_raw(raw: Mapping[str, Any]) -> Service:
    meta, spec = _meta(raw), raw.get("spec") or {}
    return Service(meta.get("namespace", ""), meta.get("name", ""), spec.get("type", "ClusterIP"), read_only(raw),
                   selector=frozen_map(spec.get("selector")), annotations=frozen_map(meta.get("annotations")),
                   load_balancer_class=spec.get("loadBalancerClass") or "",
                   resource_version=meta.get("resourceVersion", "") or "")


def volume_claim_from_raw(raw: Mapping[str, Any]) -> VolumeClaim:
    meta, spec = _meta(raw), raw.get("spec") or {}
    return VolumeClaim(meta.get("namespace", ""), meta.get("name", ""), (raw.get("status") or {}).get("phase", ""),
                       spec.get("volumeName") or "", spec.get("storageClassName") or "", read_only(raw),
                       resource_version=meta.get("resourceVersion", "") or "")


def volume_from_raw(raw: Mapping[str, Any]) -> Volume:
    csi = (raw.get("spec") or {}).get("csi") or {}
    return Volume(_meta(raw).get("name", ""), csi.get("driver", ""), read_only(raw))


def ingress_from_raw(raw: Mapping[str, Any]) -> Ingress:
    meta, spec = _meta(raw), raw.get("spec") or {}
    annotations = meta.get("annotations") or {}
    lb = ((raw.get("status") or {}).get("loadBalancer") or {}).get("ingress") or [{}]
    return Ingress(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        hostname=lb[0].get("hostname", "") or lb[0].get("ip", "") or "",
        class_name=spec.get("ingressClassName") or annotations.get("kubernetes.io/ingress.class", "") or "",
        target_type=annotations.get("alb.ingress.kubernetes.io/target-type", "instance"),
        raw=read_only(raw),
        annotations=frozen_map(annotations),
        backend_services=ingress_backend_services(spec),
        created=parse_time(meta.get("creationTimestamp")),
        resource_version=meta.get("resourceVersion", "") or "",
    )


def ingress_backend_services(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """Service names an Ingress (networking.k8s.io/v1) routes to, in order, without repeats."""
    backends = [spec.get("defaultBackend") or {}]
    for rule in spec.get("rules") or ():
        backends += [path.get("backend") or {} for path in (rule.get("http") or {}).get("paths") or ()]
    names = [(b.get("service") or {}).get("name") for b in backends]
    return tuple(dict.fromkeys(n for n in names if n))


def tgb_from_raw(raw: Mapping[str, Any]) -> TargetGroupBinding:
    meta, spec = _meta(raw), raw.get("spec") or {}
    ref = spec.get("serviceRef") or {}
    return TargetGroupBinding(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        target_group_arn=spec.get("targetGroupARN", ""),
        target_type=spec.get("targetType", "") or "",
        service_name=ref.get("name", ""),
        service_port=str(ref.get("port", "")),
    )
