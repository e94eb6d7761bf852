"""The EKS add-on API (moto has none): create, describe, list, update, delete, versions, schemas.

Lifecycle: CREATING -> ACTIVE and DELETING -> gone after drawn durations; UPDATING -> ACTIVE after a
drawn duration too, unless the add-on is in ``controlled``: then a controller (the sandbox's CoreDNS
controller, written elsewhere) decides the outcome with ``complete_update`` because only it knows
whether the pods actually came up. Listeners hear of every create and update with the parsed
configuration, after the request has been answered.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..clock import SandboxClock
from . import eks_errors as err
from .addon_catalog import CATALOG, AddonSpec
from .addon_config import parse_configuration, validate_configuration
from .engine import HttpReply, MotoEngine
from .simtime import aware, epoch, moto_now
from .timings import AwsTimings
from .updates import UpdateLog

ADDON_STATUSES = {
    "CREATING", "ACTIVE", "CREATE_FAILED", "UPDATING", "DELETING", "DELETE_FAILED", "DEGRADED", "UPDATE_FAILED",
}
ADDON_ISSUE_CODES = {
    "AccessDenied", "InternalFailure", "ClusterUnreachable", "InsufficientNumberOfReplicas",
    "ConfigurationConflict", "AdmissionRequestDenied", "UnsupportedAddonModification",
    "K8sResourceNotFound", "AddonSubscriptionNeeded", "AddonPermissionFailure",
}
RESOLVE_CONFLICTS = {"OVERWRITE", "NONE", "PRESERVE"}
BUSY = ("CREATING", "UPDATING", "DELETING")


@dataclass
class Addon:
    cluster: str
    name: str
    version: str
    arn: str
    created_at: datetime
    modified_at: datetime
    status: str = "CREATING"
    configuration_values: str | None = None
    service_account_role_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    deadline: float | None = None  # when the current automatic transition completes

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "addonName": self.name,
            "clusterName": self.cluster,
            "status": self.status,
            "addonVersion": self.version,
            "health": {"issues": [dict(i) for i in self.issues]},
            "addonArn": self.arn,
            "createdAt": epoch(self.created_at),
            "modifiedAt": epoch(self.modified_at),
            "tags": dict(self.tags),
            "podIdentityAssociations": [],
        }
        if self.service_account_role_arn:
            out["serviceAccountRoleArn"] = self.service_account_role_arn
        if self.configuration_values is not None:
            out["configurationValues"] = self.configuration_values
        return out

    def to_dict(self) -> dict[str, Any]:
        """For in-process callers: datetimes instead of epochs, parsed configuration added."""
        out = self.to_api()
        out["createdAt"], out["modifiedAt"] = aware(self.created_at), aware(self.modified_at)
        out["configuration"] = parse_configuration(self.configuration_values)
        return out


class Addons:
    def __init__(self, engine: MotoEngine, clock: SandboxClock, timings: AwsTimings, updates: UpdateLog) -> None:
        self.engine = engine
        self.clock = clock
        self.timings = timings
        self.updates = updates
        self._addons: dict[tuple[str, str], Addon] = {}
        self.controlled: set[str] = set()
        self.notifications: list[tuple[str, str, dict[str, Any]]] = []
        self._count = 0

    # -- lifecycle -------------------------------------------------------------------------
    def settle(self) -> None:
        now = self.clock.elapsed()
        for key, addon in list(self._addons.items()):
            if addon.deadline is None or now < addon.deadline:
                continue
            addon.deadline = None
            if addon.status == "DELETING":
                del self._addons[key]
                self.updates.forget_cluster_object(addon.cluster, addon=addon.name)
                continue
            if addon.status == "UPDATING":
                self._finish_update(addon, "ACTIVE", [])
            elif addon.status == "CREATING":
                addon.status = "ACTIVE"
                addon.modified_at = moto_now(self.clock)

    def _finish_update(self, addon: Addon, status: str, issues: list[dict[str, Any]]) -> None:
        addon.status = status
        addon.issues = issues
        addon.deadline = None
        addon.modified_at = moto_now(self.clock)
        record = self.updates.in_progress(addon.cluster, addon=addon.name)
        if record is not None:
            record.status = "Successful" if status == "ACTIVE" else "Failed"
            record.errors = [
                {"errorCode": i.get("code"), "errorMessage": i.get("message", ""), "resourceIds": list(i.get("resourceIds", []))}
                for i in issues
            ]

    # -- helpers ---------------------------------------------------------------------------
    def _cluster(self, cluster_name: str) -> Any:
        cluster = self.engine.backend("eks").clusters.get(cluster_name)
        if cluster is None:
            raise err.cluster_not_found(cluster_name)
        return cluster

    def _get(self, cluster_name: str, name: str) -> Addon:
        self._cluster(cluster_name)
        addon = self._addons.get((cluster_name, name))
        if addon is None:
            raise err.ResourceNotFound(
                err.ADDON_NOT_FOUND.format(addon=name, cluster=cluster_name),
                clusterName=cluster_name, addonName=name,
            )
        return addon

    @staticmethod
    def _spec(name: str, cluster_name: str) -> AddonSpec:
        spec = CATALOG.get(name)
        if spec is None:
            raise err.InvalidParameter(err.ADDON_NOT_SUPPORTED, clusterName=cluster_name, addonName=name)
        return spec

    @staticmethod
    def _check_version(spec: AddonSpec, version: str, cluster: Any) -> None:
        found = spec.version(version)
        if found is None or cluster.version not in found.cluster_versions:
            raise err.InvalidParameter(
                err.ADDON_VERSION_NOT_SUPPORTED, clusterName=cluster.name, addonName=spec.name
            )

    @staticmethod
    def _check_resolve_conflicts(value: str | None, cluster_name: str, name: str) -> None:
        if value is not None and value not in RESOLVE_CONFLICTS:
            raise err.InvalidParameter(
                f"resolveConflicts must be one of OVERWRITE, NONE, PRESERVE; got {value}",
                clusterName=cluster_name, addonName=name,
            )

    # -- API -------------------------------------------------------------------------------
    def create(self, cluster_name: str, body: dict[str, Any]) -> HttpReply:
        cluster = self._cluster(cluster_name)
        name = body.get("addonName") or ""
        spec = self._spec(name, cluster_name)
        if (cluster_name, name) in self._addons:
            raise err.ResourceInUse(err.ADDON_EXISTS, clusterName=cluster_name, addonName=name)
        version = body.get("addonVersion") or spec.default_version(cluster.version)
        self._check_version(spec, version, cluster)
        self._check_resolve_conflicts(body.get("resolveConflicts"), cluster_name, name)
        values = body.get("configurationValues")
        config = validate_configuration(values, spec.schema, name)
        now = moto_now(self.clock)
        addon = Addon(
            cluster=cluster_name,
            name=name,
            version=version,
            arn=f"arn:aws:eks:{self.engine.region}:{self.engine.account_id}:addon/{cluster_name}/{name}/{uuid.uuid4()}",
            created_at=now,
            modified_at=now,
            configuration_values=values if values else None,
            service_account_role_arn=body.get("serviceAccountRoleArn"),
            tags=dict(body.get("tags") or {}),
        )
        addon.deadline = self.clock.elapsed() + self.timings.draw(self.clock, "addon_create", f"addon:{name}")
        self._addons[(cluster_name, name)] = addon
        self.notifications.append((cluster_name, name, config))
        return HttpReply.json(200, {"addon": addon.to_api()})

    def describe(self, cluster_name: str, name: str) -> HttpReply:
        return HttpReply.json(200, {"addon": self._get(cluster_name, name).to_api()})

    def list(self, cluster_name: str, max_results: int, next_token: str | None) -> HttpReply:
        self._cluster(cluster_name)
        names = sorted(n for (c, n) in self._addons if c == cluster_name)
        return HttpReply.json(200, _page("addons", names, max_results, next_token))

    def update(self, cluster_name: str, name: str, body: dict[str, Any]) -> HttpReply:
        addon = self._get(cluster_name, name)
        cluster = self._cluster(cluster_name)
        spec = self._spec(name, cluster_name)
        if addon.status in BUSY:
            raise err.ResourceInUse(
                f"Addon {name} cannot be updated because it is currently in {addon.status} status; "
                "wait for the current operation to finish.",
                clusterName=cluster_name, addonName=name,
            )
        params: list[dict[str, str]] = []
        version = body.get("addonVersion")
        if version:
            self._check_version(spec, version, cluster)
            params.append({"type": "AddonVersion", "value": version})
        if "serviceAccountRoleArn" in body:
            params.append({"type": "ServiceAccountRoleArn", "value": body["serviceAccountRoleArn"] or ""})
        resolve = body.get("resolveConflicts")
        self._check_resolve_conflicts(resolve, cluster_name, name)
        if resolve:
            params.append({"type": "ResolveConflicts", "value": resolve})
        values = body.get("configurationValues")
        if values is not None:
            validate_configuration(values, spec.schema, name)
            params.append({"type": "ConfigurationValues", "value": values})
        if body.get("podIdentityAssociations"):
            params.append({"type": "PodIdentityAssociations", "value": str(body["podIdentityAssociations"])})

        if version:
            addon.version = version
        if "serviceAccountRoleArn" in body:
            addon.service_account_role_arn = body["serviceAccountRoleArn"] or None
        if values is not None:
            # An empty string removes the configuration (EKS defaults apply again).
            addon.configuration_values = values if values.strip() else None
        addon.status = "UPDATING"
        addon.modified_at = moto_now(self.clock)
        record = self.updates.start(cluster_name, "AddonUpdate", params, moto_now(self.clock), addon=name)
        self._count += 1
        if name in self.controlled:
            addon.deadline = None
        else:
            addon.deadline = self.clock.elapsed() + self.timings.draw(
                self.clock, "addon_update", f"addon-update:{name}:{self._count}"
            )
        self.notifications.append((cluster_name, name, parse_configuration(addon.configuration_values)))
        return HttpReply.json(200, {"update": record.to_api()})

    def delete(self, cluster_name: str, name: str) -> HttpReply:
        addon = self._get(cluster_name, name)
        if addon.status == "DELETING":
            return HttpReply.json(200, {"addon": addon.to_api()})
        addon.status = "DELETING"
        addon.modified_at = moto_now(self.clock)
        addon.deadline = self.clock.elapsed() + self.timings.draw(self.clock, "addon_delete", f"addon-delete:{name}")
        return HttpReply.json(200, {"addon": addon.to_api()})

    def describe_versions(self, query: dict[str, list[str]]) -> HttpReply:
        kubernetes_version = _first(query, "kubernetesVersion")
        wanted = _first(query, "addonName")
        types = set(query.get("types", []))
        specs = [s for n, s in sorted(CATALOG.items()) if (wanted is None or n == wanted) and (not types or s.type in types)]
        addons = [s.to_api(kubernetes_version) for s in specs]
        addons = [a for a in addons if a["addonVersions"]]
        max_results = int(_first(query, "maxResults") or 100)
        page = _page("addons", addons, max_results, _first(query, "nextToken"), key=lambda a: a["addonName"])
        return HttpReply.json(200, page)

    def describe_configuration(self, query: dict[str, list[str]]) -> HttpReply:
        name = _first(query, "addonName") or ""
        version = _first(query, "addonVersion") or ""
        spec = CATALOG.get(name)
        if spec is None:
            raise err.InvalidParameter(err.ADDON_NOT_SUPPORTED, addonName=name)
        if spec.version(version) is None:
            raise err.InvalidParameter(err.ADDON_VERSION_NOT_SUPPORTED, addonName=name)
        return HttpReply.json(
            200,
            {
                "addonName": name,
                "addonVersion": version,
                "configurationSchema": json.dumps(spec.schema),
                "podIdentityConfiguration": [],
            },
        )

    # -- hooks for controllers ---------------------------------------------------------------
    def get(self, cluster_name: str, name: str) -> Addon | None:
        return self._addons.get((cluster_name, name))

    def forget_cluster(self, cluster_name: str) -> None:
        for key in [k for k in self._addons if k[0] == cluster_name]:
            del self._addons[key]

    def force_active(self, cluster_name: str, name: str) -> None:
        addon = self._addons[(cluster_name, name)]
        addon.status, addon.deadline = "ACTIVE", None

    def set_health(self, cluster_name: str, name: str, status: str, issues: list[dict[str, Any]]) -> None:
        addon = self._addons.get((cluster_name, name))
        if addon is None:
            raise KeyError(f"no add-on {name} in cluster {cluster_name}")
        checked = _check_issues(issues)
        if status not in ADDON_STATUSES:
            raise ValueError(f"add-on status must be one of {sorted(ADDON_STATUSES)}, got {status!r}")
        if addon.status == "UPDATING" and status != "UPDATING":
            self._finish_update(addon, status, checked)
            return
        addon.status, addon.issues = status, checked
        addon.modified_at = moto_now(self.clock)

    def complete_update(self, cluster_name: str, name: str, status: str, issues: list[dict[str, Any]]) -> None:
        if status not in ("ACTIVE", "DEGRADED", "UPDATE_FAILED"):
            raise ValueError(f"an add-on update ends ACTIVE, DEGRADED or UPDATE_FAILED, not {status!r}")
        addon = self._addons.get((cluster_name, name))
        if addon is None:
            raise KeyError(f"no add-on {name} in cluster {cluster_name}")
        self._finish_update(addon, status, _check_issues(issues))


def _check_issues(issues: Any) -> list[dict[str, Any]]:
    checked = []
    for issue in issues or ():
        code = issue.get("code")
        if code not in ADDON_ISSUE_CODES:
            raise ValueError(f"add-on issue code must be one of {sorted(ADDON_ISSUE_CODES)}, got {code!r}")
        checked.append(
            {"code": code, "message": str(issue.get("message", "")), "resourceIds": list(issue.get("resourceIds", []))}
        )
    return checked


def _first(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def _page(field_name: str, items: list[Any], max_results: int, next_token: str | None, key: Any = None) -> dict[str, Any]:
    names = [key(i) if key else i for i in items]
    start = names.index(next_token) if next_token in names else 0
    end = min(start + max(1, max_results), len(items))
    out: dict[str, Any] = {field_name: items[start:end]}
    if end < len(items):
        out["nextToken"] = names[end]
    return out
