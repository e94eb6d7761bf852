"""Managed node group config updates: moto applies them instantly and keeps no Update record; EKS
goes UPDATING for a while and tracks the change as a ``ConfigUpdate``."""

from __future__ import annotations

import json
from typing import Any

from ..clock import SandboxClock
from . import eks_errors as err
from .engine import HttpReply, MotoEngine
from .simtime import aware, moto_now
from .timings import AwsTimings
from .updates import UpdateLog

NODEGROUP_NOT_FOUND = "No node group found for name: {nodegroup}."


class NodegroupUpdates:
    def __init__(self, engine: MotoEngine, clock: SandboxClock, timings: AwsTimings, updates: UpdateLog) -> None:
        self.engine = engine
        self.clock = clock
        self.timings = timings
        self.updates = updates
        self._deadlines: dict[str, tuple[str, str, float]] = {}  # update id -> cluster, nodegroup, t
        self._count = 0

    def settle(self) -> None:
        if not self._deadlines:
            return
        now = self.clock.elapsed()
        eks = self.engine.backend("eks")
        for update_id, (cluster_name, name, deadline) in list(self._deadlines.items()):
            if now < deadline:
                continue
            del self._deadlines[update_id]
            cluster = eks.clusters.get(cluster_name)
            nodegroup = cluster.nodegroups.get(name) if cluster else None
            if nodegroup is not None:
                nodegroup.status = "ACTIVE"
                nodegroup.modified_at = moto_now(self.clock)
            record = self.updates.get(cluster_name, update_id, name, None)
            record.status = "Successful"

    def _find(self, cluster_name: str, name: str) -> Any:
        cluster = self.engine.backend("eks").clusters.get(cluster_name)
        if cluster is None:
            raise err.cluster_not_found(cluster_name)
        nodegroup = cluster.nodegroups.get(name)
        if nodegroup is None:
            raise err.ResourceNotFound(
                NODEGROUP_NOT_FOUND.format(nodegroup=name), clusterName=cluster_name, nodegroupName=name
            )
        return nodegroup

    def update_config(self, cluster_name: str, name: str, body: dict[str, Any]) -> HttpReply:
        nodegroup = self._find(cluster_name, name)
        if nodegroup.status != "ACTIVE":
            raise err.ResourceInUse(
                f"Nodegroup {name} cannot be updated because it is currently in "
                f"{nodegroup.status} status; wait for it to become ACTIVE.",
                clusterName=cluster_name, nodegroupName=name,
            )
        scaling = body.get("scalingConfig") or {}
        self._check_scaling(nodegroup.scaling_config, scaling, cluster_name, name)
        params = _update_params(body)
        if not params:
            raise err.InvalidParameter(
                "No changes needed: the request names no configuration to update.",
                clusterName=cluster_name, nodegroupName=name,
            )
        # moto shares one default scalingConfig dict between node groups; never mutate it.
        nodegroup.scaling_config = dict(nodegroup.scaling_config)
        self.engine.backend("eks").update_nodegroup_config(
            cluster_name=cluster_name,
            nodegroup_name=name,
            labels=body.get("labels"),
            taints=body.get("taints"),
            scaling_config=scaling or None,
            update_config=body.get("updateConfig"),
            node_repair_config=body.get("nodeRepairConfig"),
            client_request_token=body.get("clientRequestToken"),
        )
        nodegroup.status = "UPDATING"
        nodegroup.modified_at = moto_now(self.clock)
        record = self.updates.start(
            cluster_name, "ConfigUpdate", params, moto_now(self.clock), nodegroup=name
        )
        self._count += 1
        duration = self.timings.draw(self.clock, "nodegroup_update", f"nodegroup-update:{name}:{self._count}")
        self._deadlines[record.id] = (cluster_name, name, self.clock.elapsed() + duration)
        return HttpReply.json(200, {"update": record.to_api()})

    @staticmethod
    def _check_scaling(current: dict[str, int], change: dict[str, Any], cluster: str, name: str) -> None:
        def invalid(message: str) -> err.InvalidParameter:
            return err.InvalidParameter(message, clusterName=cluster, nodegroupName=name)

        for key, value in change.items():
            if key not in ("minSize", "maxSize", "desiredSize"):
                raise invalid(f"Unknown scalingConfig field {key}")
            if not isinstance(value, int) or value < 0:
                raise invalid(f"scalingConfig.{key} must be a non-negative integer, got {value!r}")
        merged = {**current, **change}
        low, high, desired = merged["minSize"], merged["maxSize"], merged["desiredSize"]
        if high < 1:
            raise invalid(f"Maximum capacity {high} must be at least 1")
        if low > high:
            raise invalid(f"Minimum capacity {low} can't be greater than max size {high}")
        if desired > high:
            raise invalid(f"Desired capacity {desired} can't be greater than max size {high}")
        if desired < low:
            raise invalid(f"Desired capacity {desired} can't be lower than min size {low}")

    def as_dict(self, cluster_name: str, name: str) -> dict[str, Any] | None:
        cluster = self.engine.backend("eks").clusters.get(cluster_name)
        nodegroup = cluster.nodegroups.get(name) if cluster else None
        if nodegroup is None:
            return None
        return nodegroup_dict(nodegroup)


def _update_params(body: dict[str, Any]) -> list[dict[str, str]]:
    """UpdateParam entries as EKS reports them (one per changed value)."""
    params: list[dict[str, str]] = []
    names = {"minSize": "MinSize", "maxSize": "MaxSize", "desiredSize": "DesiredSize"}
    for key, value in (body.get("scalingConfig") or {}).items():
        params.append({"type": names[key], "value": str(value)})
    labels = body.get("labels") or {}
    if labels.get("addOrUpdateLabels"):
        params.append({"type": "LabelsToAdd", "value": json.dumps(labels["addOrUpdateLabels"])})
    if labels.get("removeLabels"):
        params.append({"type": "LabelsToRemove", "value": json.dumps(labels["removeLabels"])})
    taints = body.get("taints") or {}
    if taints.get("addOrUpdateTaints"):
        params.append({"type": "TaintsToAdd", "value": json.dumps(taints["addOrUpdateTaints"])})
    if taints.get("removeTaints"):
        params.append({"type": "TaintsToRemove", "value": json.dumps(taints["removeTaints"])})
    update_config = body.get("updateConfig") or {}
    if "maxUnavailable" in update_config:
        params.append({"type": "MaxUnavailable", "value": str(update_config["maxUnavailable"])})
    if "maxUnavailablePercentage" in update_config:
        params.append(
            {"type": "MaxUnavailablePercentage", "value": str(update_config["maxUnavailablePercentage"])}
        )
    if body.get("nodeRepairConfig"):
        params.append({"type": "NodeRepairEnabled", "value": json.dumps(body["nodeRepairConfig"])})
    return params


def nodegroup_dict(nodegroup: Any) -> dict[str, Any]:
    return {
        "nodegroupName": nodegroup.nodegroup_name,
        "nodegroupArn": nodegroup.arn,
        "clusterName": nodegroup.cluster_name,
        "version": nodegroup.version,
        "releaseVersion": nodegroup.release_version,
        "createdAt": aware(nodegroup.created_at),
        "modifiedAt": aware(nodegroup.modified_at),
        "status": nodegroup.status,
        "capacityType": nodegroup.capacity_type,
        "scalingConfig": dict(nodegroup.scaling_config),
        "instanceTypes": list(nodegroup.instance_types),
        "subnets": list(nodegroup.subnets),
        "amiType": nodegroup.ami_type,
        "nodeRole": nodegroup.node_role,
        "labels": dict(nodegroup.labels or {}),
        "taints": [dict(t) for t in nodegroup.taints or []],
        "tags": dict(nodegroup.tags or {}),
    }
