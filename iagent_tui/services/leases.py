"""coordination.k8s.io/v1 Lease calls with optimistic concurrency, on a KubeClient.

Conflicts are answers here, not errors: a create that finds the Lease already there, an update or
a delete whose resourceVersion is no longer current return None/False, so the caller (the action
lock, actions/lock.py) decides what losing a race means. Every other failure raises ServiceError.
"""

from __future__ import annotations

from datetime import datetime, timezone

from .errors import ServiceError
from .kube import KubeClient, Resource

LEASES = Resource("leases", "Lease", "coordination.k8s.io")


def micro_time(when: datetime) -> str:
    """metav1.MicroTime, the format of a Lease's acquireTime and renewTime."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class Leases:
    def __init__(self, kube: KubeClient, namespace: str) -> None:
        self.kube = kube
        self.namespace = namespace

    def _target(self, name: str) -> str:
        return f"Lease {self.namespace}/{name}"

    async def get(self, name: str) -> dict | None:
        return await self.kube.get(LEASES, self.namespace, name)

    async def create(self, lease: dict) -> dict | None:
        """The stored Lease, or None when one of that name already exists (someone else won)."""
        body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", **lease}
        name = body["metadata"]["name"]
        try:
            return await self.kube.request_json("POST", LEASES.path(self.namespace), body=body,
                                                action="create Lease", target=self._target(name))
        except ServiceError as err:
            if err.status == 409:
                return None
            raise

    async def replace(self, lease: dict) -> dict | None:
        """PUT carrying the resourceVersion that was read: None when the Lease changed since
        (another writer got there first) or is gone."""
        name = lease["metadata"]["name"]
        body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", **lease}
        try:
            return await self.kube.request_json("PUT", LEASES.path(self.namespace, name), body=body,
                                                action="update Lease", target=self._target(name))
        except ServiceError as err:
            if err.status in (404, 409):
                return None
            raise

    async def delete(self, name: str, resource_version: str) -> bool:
        """Delete only the version that was read (a precondition): False when it changed or is gone."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"resourceVersion": resource_version}}
        try:
            await self.kube.request_json("DELETE", LEASES.path(self.namespace, name), body=body,
                                         action="delete Lease", target=self._target(name))
        except ServiceError as err:
            if err.status in (404, 409):
                return False
            raise
        return True
