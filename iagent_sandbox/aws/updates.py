"""EKS ``Update`` records (DescribeUpdate / ListUpdates), which moto does not keep."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import eks_errors as err
from .simtime import epoch


@dataclass
class UpdateRecord:
    id: str
    cluster: str
    type: str  # UpdateType: ConfigUpdate, AddonUpdate, ...
    params: list[dict[str, str]]
    created_at: datetime
    nodegroup: str | None = None
    addon: str | None = None
    status: str = "InProgress"  # UpdateStatus: InProgress | Failed | Cancelled | Successful
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "type": self.type,
            "params": [dict(p) for p in self.params],
            "createdAt": epoch(self.created_at),
            "errors": [dict(e) for e in self.errors],
        }


class UpdateLog:
    def __init__(self) -> None:
        self._records: dict[str, UpdateRecord] = {}

    def start(
        self,
        cluster: str,
        type_: str,
        params: list[dict[str, str]],
        created_at: datetime,
        *,
        nodegroup: str | None = None,
        addon: str | None = None,
    ) -> UpdateRecord:
        record = UpdateRecord(
            str(uuid.uuid4()), cluster, type_, params, created_at, nodegroup=nodegroup, addon=addon
        )
        self._records[record.id] = record
        return record

    def get(self, cluster: str, update_id: str, nodegroup: str | None, addon: str | None) -> UpdateRecord:
        record = self._records.get(update_id)
        if (
            record is None
            or record.cluster != cluster
            or (nodegroup or None) != record.nodegroup
            or (addon or None) != record.addon
        ):
            raise err.ResourceNotFound(
                err.UPDATE_NOT_FOUND.format(update=update_id), clusterName=cluster
            )
        return record

    def ids(self, cluster: str, nodegroup: str | None, addon: str | None) -> list[str]:
        return [
            r.id
            for r in self._records.values()
            if r.cluster == cluster and r.nodegroup == (nodegroup or None) and r.addon == (addon or None)
        ]

    def in_progress(self, cluster: str, *, nodegroup: str | None = None, addon: str | None = None) -> UpdateRecord | None:
        for record in reversed(list(self._records.values())):
            if (
                record.cluster == cluster
                and record.nodegroup == nodegroup
                and record.addon == addon
                and record.status == "InProgress"
            ):
                return record
        return None

    def forget_cluster_object(self, cluster: str, *, nodegroup: str | None = None, addon: str | None = None) -> None:
        for key, record in list(self._records.items()):
            if record.cluster == cluster and record.nodegroup == nodegroup and record.addon == addon:
                del self._records[key]
