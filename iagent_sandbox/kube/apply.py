"""Server-side apply and the field managers of ``metadata.managedFields``.

What the API server's fieldmanager does (k8s.io/apimachinery/pkg/util/managedfields and
structured-merge-diff's merge.Updater), for built-in types described by the published schema:

- every write names a manager (``fieldManager``, or the User-Agent's product for updates);
- an Update (create, PUT, non-apply PATCH) gives its manager the fields it added or changed and
  takes them from every other manager, without conflicts;
- an Apply merges the configuration into the live object; fields another manager owns and the
  configuration changes are conflicts (409, the API server's message and causes) unless forced,
  which moves them; fields the manager applied last time and no longer applies are removed when
  no other manager owns them; the manager then owns exactly the fields of its configuration.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime

from ..clock import rfc3339
from . import fieldsets as fs
from .errors import ApiError
from .resources import ResourceType

APPLY, UPDATE = "Apply", "Update"
# Paths no manager owns (internal/stripmeta.go), and the fields a subresource's strategy resets.
_STRIPPED = [(("f", "apiVersion"),), (("f", "kind"),)] + [
    (("f", "metadata"), ("f", name)) for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
        "managedFields", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds")]


@dataclass
class Manager:
    manager: str
    operation: str
    api_version: str
    time: str | None = None
    subresource: str = ""
    fields: set = field(default_factory=set)

    def identity(self) -> tuple:
        # BuildManagerIdentifier: appliers are one manager whatever apiVersion they used.
        return (self.manager, self.operation,
                "" if self.operation == APPLY else self.api_version, self.subresource)

    def described(self) -> str:
        """printManager: how conflict messages name the manager."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text


def decode(obj: dict | None) -> list[Manager]:
    out = []
    for entry in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        if not isinstance(entry, dict) or entry.get("fieldsType", "FieldsV1") != "FieldsV1":
            continue
        out.append(Manager(str(entry.get("manager", "")), str(entry.get("operation", UPDATE)),
                           str(entry.get("apiVersion", "")), entry.get("time"),
                           str(entry.get("subresource") or ""),
                           fs.from_fields_v1(entry.get("fieldsV1") or {})))
    return out


def encode(managers: list[Manager]) -> list[dict]:
    def order(m: Manager) -> tuple:
        return (m.operation, m.time or "", m.manager, m.api_version, m.subresource)

    out = []
    for m in sorted((m for m in managers if m.fields), key=order):
        entry = {"manager": m.manager, "operation": m.operation, "apiVersion": m.api_version}
        if m.time:
            entry["time"] = m.time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = fs.to_fields_v1(m.fields)
        if m.subresource:
            entry["subresource"] = m.subresource
        out.append(entry)
    return out


def _schema(rt: ResourceType) -> dict | None:
    return fs.root_schema(rt.group, rt.version, rt.kind)


def _owned_paths(rt: ResourceType, obj: dict | None, subresource: str) -> set:
    """The paths of obj a manager of this endpoint can own."""
    paths = fs.without_prefix(fs.field_set(obj, _schema(rt)), _STRIPPED)
    if subresource == "status":
        return {p for p in paths if p[0] == ("f", "status")}
    if "status" in rt.subresources:
        return fs.without_prefix(paths, [(("f", "status"),)])
    return paths


def _has_descendant(paths: set, prefix: tuple) -> bool:
    return any(len(p) > len(prefix) and p[:len(prefix)] == prefix for p in paths)


# -- Update ---------------------------------------------------------------------------------------

def record_update(rt: ResourceType, old: dict | None, new: dict, manager: str, now: datetime,
                  subresource: str = "") -> None:
    """Set new's managedFields after an Update by manager (in place)."""
    meta = new.setdefault("metadata", {})
    managers = decode(new if "managedFields" in meta else old)
    old_set = _owned_paths(rt, old, subresource) if old is not None else set()
    new_set = _owned_paths(rt, new, subresource)
    added, removed, modified = fs.compare(old, new, _schema(rt), old_set, new_set)
    changed = added | modified
    own = next((m for m in managers if m.identity() == (manager, UPDATE, rt.api_version,
                                                        subresource)), None)
    for m in managers:
        if m is not own:
            m.fields -= changed | removed
    if own is None:
        own = Manager(manager, UPDATE, rt.api_version, None, subresource)
        managers.append(own)
    own.fields = (own.fields - removed) | changed
    if changed or removed:
        own.time = rfc3339(now)
    encoded = encode(managers)
    if encoded or meta.get("managedFields") is not None:
        meta["managedFields"] = encoded


# -- Apply ----------------------------------------------------------------------------------------

def conflict_error(conflicts: list[tuple[Manager, tuple]]) -> ApiError:
    """NewConflictError: 409 Conflict, one cause per field, the message getConflictMessage
    writes."""
    causes = [{"type": "FieldManagerConflict", "message": f"conflict with {m.described()}",
               "field": fs.path_string(p)} for m, p in conflicts]
    if len(conflicts) == 1:
        m, p = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {m.described()}: {fs.path_string(p)}"
    else:
        by_manager: dict[str, list[str]] = {}
        for m, p in conflicts:
            by_manager.setdefault(m.described(), []).append(fs.path_string(p))
        lines = []
        for described in sorted(by_manager):
            lines.append(f"conflicts with {described}:")
            lines += [f"- {p}" for p in by_manager[described]]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})


def _iteration_order(paths: set) -> list:
    """The order fieldpath.Set.Iterate visits paths: at each level the paths that end there
    (members) first, then the deeper ones (children), each by path element."""
    def element(e: tuple) -> tuple:
        return ({"f": 0, "k": 1, "v": 2, "i": 3}[e[0]], str(e[1]))

    def visit(prefix: tuple, group: list) -> list:
        members = sorted((p for p in group if len(p) == len(prefix) + 1), key=lambda p: element(p[-1]))
        deeper: dict = {}
        for p in group:
            if len(p) > len(prefix) + 1:
                deeper.setdefault(p[len(prefix)], []).append(p)
        out = list(members)
        for e in sorted(deeper, key=element):
            out += visit(prefix + (e,), deeper[e])
        return out
    return visit((), list(paths))


def apply(rt: ResourceType, live: dict | None, config: dict, manager: str, force: bool,
          now: datetime, subresource: str = "") -> dict:
    """The object after manager applies config to live (None: it does not exist yet), with its
    managedFields. Raises the 409 conflict error unless force. Returns live itself (same content)
    when the apply changes nothing."""
    config = copy.deepcopy(config)
    config.get("metadata", {}).pop("managedFields", None)
    config_set = _owned_paths(rt, config, subresource)
    entry = Manager(manager, APPLY, rt.api_version, rfc3339(now), subresource, config_set)
    if live is None:
        config.setdefault("metadata", {})["managedFields"] = encode([entry])
        return config
    schema = _schema(rt)
    managers = decode(live)
    base = copy.deepcopy(live)
    base["metadata"].pop("managedFields", None)
    merged = fs.merge(base, config, schema)
    own = next((m for m in managers if m.identity() == entry.identity()), None)
    last_set = own.fields if own is not None else set()
    others = [m for m in managers if m is not own]
    others_before = [set(m.fields) for m in others]

    live_set = _owned_paths(rt, base, subresource)
    merged_set = _owned_paths(rt, merged, subresource)
    added, _, modified = fs.compare(base, merged, schema, live_set, merged_set)
    conflicts = [(m, p) for m in sorted(others, key=lambda m: m.described())
                 for p in _iteration_order(m.fields & (added | modified))]
    if conflicts and not force:
        raise conflict_error(conflicts)
    for m in others:
        m.fields -= added | modified

    # Fields this manager stopped applying go, unless someone else still has a say in them.
    still_owned = set().union(*(m.fields for m in others)) if others else set()
    dropped = {p for p in last_set - config_set
               if p not in still_owned and not _has_descendant(still_owned, p)
               and not _has_descendant(config_set, p)}
    fs.remove(merged, dropped)
    _, removed, _ = fs.compare(base, merged, schema, live_set,
                               _owned_paths(rt, merged, subresource))
    for m in others:
        m.fields -= removed

    if merged == base and own is not None and own.fields == config_set \
            and [m.fields for m in others] == others_before:
        return live  # a no-op apply: nothing written, not even the manager's time
    merged["metadata"]["managedFields"] = encode(others + [entry])
    return merged
