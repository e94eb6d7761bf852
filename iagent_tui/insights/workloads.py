"""Workload identity: which controller a pod belongs to.

Pods are attributed through their controller ownerReference. A ReplicaSet made by a Deployment is
named ``<deployment>-<pod-template-hash>`` and its pods carry the ``pod-template-hash`` label, so
the converter (``services.convert.pod_from_raw``) reports the Deployment without reading the
ReplicaSet (kubectl and k9s do the same); pod templates are parsed there too.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Pod, Workload

TEMPLATE_HASH_LABEL = "pod-template-hash"


@dataclass(frozen=True, order=True)
class WorkloadRef:
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


def workload_of(pod: Pod) -> WorkloadRef:
    """The workload that owns ``pod``: Deployment (via its ReplicaSet), StatefulSet, DaemonSet,
    Job, other controller kinds as they are, or the pod itself when bare."""
    namespace = pod.namespace or "default"
    if not pod.owner_kind:
        return WorkloadRef("Pod", namespace, pod.name or "?")
    return WorkloadRef(pod.owner_kind, namespace, pod.owner_name or "?")


def workload_ref(obj: Workload | Pod) -> WorkloadRef:
    """The reference naming a workload object itself (Deployment, Pod, ...)."""
    return WorkloadRef(obj.kind or "?", obj.namespace or "default", obj.name or "?")
