"""Workload identity: which controller a pod belongs to, and the pod template of a workload.

Pods are attributed through their controller ownerReference. A ReplicaSet made by a Deployment is
named ``<deployment>-<pod-template-hash>`` and its pods carry the ``pod-template-hash`` label, so
the Deployment's name is recovered without reading the ReplicaSet (kubectl and k9s do the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

TEMPLATE_HASH_LABEL = "pod-template-hash"
POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


@dataclass(frozen=True, order=True)
class WorkloadRef:
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def workload_of(pod: Mapping[str, Any]) -> WorkloadRef:
    """The workload that owns ``pod``: Deployment (via its ReplicaSet), StatefulSet, DaemonSet,
    Job, other controller kinds as they are, or the pod itself when bare."""
    meta = _meta(pod)
    namespace = meta.get("namespace", "default")
    owners = meta.get("ownerReferences") or []
    owner = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
    if owner is None:
        return WorkloadRef("Pod", namespace, meta.get("name", "?"))
    kind, name = owner.get("kind", "?"), owner.get("name", "?")
    template_hash = (meta.get("labels") or {}).get(TEMPLATE_HASH_LABEL)
    if kind == "ReplicaSet" and template_hash and name.endswith("-" + template_hash):
        return WorkloadRef("Deployment", namespace, name[: -len(template_hash) - 1])
    return WorkloadRef(kind, namespace, name)


def workload_ref(obj: Mapping[str, Any]) -> WorkloadRef:
    """The reference naming a workload object itself (Deployment, Pod, CronJob, ...)."""
    meta = _meta(obj)
    return WorkloadRef(obj.get("kind", "?"), meta.get("namespace", "default"), meta.get("name", "?"))


def pod_template(obj: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(template metadata, pod spec) of a workload object or a pod.

    ValueError for kinds without a pod template, naming the kinds that have one."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return _meta(obj), spec
    if kind == "CronJob":
        template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    elif kind in POD_TEMPLATE_KINDS:
        template = spec.get("template") or {}
    else:
        raise ValueError(
            f"{kind or 'object without kind'} has no pod template; expected Pod, CronJob or one of "
            + ", ".join(POD_TEMPLATE_KINDS)
        )
    return template.get("metadata") or {}, template.get("spec") or {}
