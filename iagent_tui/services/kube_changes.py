"""The Kubernetes calls that change things: create-or-patch of manifests, namespaces, service
account annotations, rollout restarts and deletes, on a KubeClient (services/kube.py).

Create-or-patch rather than server-side apply: the object is created when absent, otherwise
merge-patched with the manifest, which converges to the same fields on every run (idempotent) and
works on every API server the product meets.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from .errors import ServiceError
from .kube import KubeClient, Resource

# kind -> resource, for the manifests the actions apply.
KINDS: dict[str, Resource] = {
    "Namespace": Resource("namespaces", "Namespace", namespaced=False),
    "ServiceAccount": Resource("serviceaccounts", "ServiceAccount"),
    "Service": Resource("services", "Service"),
    "ConfigMap": Resource("configmaps", "ConfigMap"),
    "Deployment": Resource("deployments", "Deployment", "apps"),
    "StatefulSet": Resource("statefulsets", "StatefulSet", "apps"),
    "DaemonSet": Resource("daemonsets", "DaemonSet", "apps"),
    "Ingress": Resource("ingresses", "Ingress", "networking.k8s.io"),
    "Pod": Resource("pods", "Pod"),
}

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # what `kubectl rollout restart` sets
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


def resource_for(obj: dict) -> Resource:
    kind = obj.get("kind", "")
    if kind not in KINDS:
        raise ServiceError("invalid", f"Cannot apply a {kind or 'manifest without kind'}: only "
                           f"{', '.join(sorted(KINDS))} are supported.")
    return KINDS[kind]


def describe(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind')} {ns + '/' if ns else ''}{meta.get('name')}"


class KubeChanges:
    """Mutating Kubernetes calls over a KubeClient (which owns the connection and its token)."""

    def __init__(self, kube: KubeClient) -> None:
        self.kube = kube

    async def create(self, obj: dict) -> dict:
        res = resource_for(obj)
        ns = (obj.get("metadata") or {}).get("namespace") if res.namespaced else None
        return await self.kube.request_json("POST", res.path(ns), body=obj, action=f"create {obj['kind']}",
                                            target=describe(obj))

    async def patch(self, resource: Resource, namespace: str | None, name: str, patch: dict,
                    content_type: str = STRATEGIC_MERGE_PATCH) -> dict:
        target = f"{resource.kind} {namespace + '/' if namespace else ''}{name}"
        return await self.kube.request_json("PATCH", resource.path(namespace, name), body=patch,
                                            content_type=content_type, action=f"patch {resource.kind}",
                                            target=target)

    async def apply(self, obj: dict) -> tuple[str, dict]:
        """Create ``obj`` when absent, else strategic-merge-patch it to the manifest.
        Returns ("created" | "configured" | "unchanged", the object as stored)."""
        res = resource_for(obj)
        meta = obj.get("metadata") or {}
        ns = meta.get("namespace") if res.namespaced else None
        existing = await self.kube.get(res, ns, meta["name"])
        if existing is None:
            return "created", await self.create(obj)
        patched = await self.patch(res, ns, meta["name"], obj)
        same = (patched.get("metadata") or {}).get("resourceVersion") == (existing.get("metadata") or {}).get("resourceVersion")
        return ("unchanged" if same else "configured"), patched

    async def delete(self, resource: Resource, namespace: str | None, name: str) -> bool:
        """Delete (foreground for workloads so their pods go too); False when already gone."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"}
        try:
            await self.kube.request_json("DELETE", resource.path(namespace, name), body=body,
                                         action=f"delete {resource.kind}",
                                         target=f"{namespace + '/' if namespace else ''}{name}")
        except ServiceError as err:
            if err.kind == "not_found":
                return False
            raise
        return True

    async def create_namespace(self, name: str) -> dict:
        return await self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    async def annotate(self, resource: Resource, namespace: str | None, name: str, annotations: dict[str, str]) -> dict:
        return await self.patch(resource, namespace, name, {"metadata": {"annotations": annotations}}, MERGE_PATCH)

    async def rollout_restart(self, resource: Resource, namespace: str, name: str, when: datetime | None = None) -> dict:
        """What `kubectl rollout restart` does: stamp the pod template so the controller replaces
        every pod (new pods are placed by today's profiles: Fargate or EC2)."""
        stamp = (when or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        return await self.patch(resource, namespace, name, patch, STRATEGIC_MERGE_PATCH)


def manifest_json(obj: dict) -> str:
    return json.dumps(obj, sort_keys=True)
