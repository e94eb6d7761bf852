"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902, via jsonpatch) and Kubernetes
strategic merge patch, which is what `kubectl apply`, `kubectl scale` and `kubectl rollout restart`
send for built-in types.

Strategic merge needs each list's patch strategy and merge key (containers merge by "name", ports
by "containerPort", ...). Those come from the OpenAPI schemas that kubernetes-validate ships for
v1.32 (kubectl's version here): ``x-kubernetes-patch-strategy`` and ``x-kubernetes-patch-merge-key``.
The file is over a megabyte, so it is read on first use and cached.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonpatch

from . import errors
from .resources import ResourceType

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
SCHEMA_VERSION = "v1.32.0-local"


@functools.lru_cache(maxsize=1)
def _definitions() -> dict[str, Any]:
    import kubernetes_validate

    path = (Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / SCHEMA_VERSION
            / "_definitions.json")
    return json.loads(path.read_text())["$defs"]


@functools.lru_cache(maxsize=64)
def _definition_name(group: str, version: str, kind: str) -> str | None:
    for name, schema in _definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or ():
            if (gvk.get("group", ""), gvk.get("version"), gvk.get("kind")) == (group, version, kind):
                return name
    return None


def schema_for(rt: ResourceType) -> dict | None:
    name = _definition_name(rt.group, rt.version, rt.kind)
    return _definitions()[name] if name else None


def _resolve(node: dict | None) -> dict | None:
    defs = _definitions()
    while isinstance(node, dict) and "$ref" in node:
        node = defs.get(node["$ref"].rsplit("/", 1)[-1])
    return node


def _field(node: dict | None, key: str) -> dict | None:
    """The (unresolved) schema of one field of an object, or of a map's values."""
    node = _resolve(node)
    if not isinstance(node, dict):
        return None
    props = node.get("properties") or {}
    if key in props:
        return props[key]
    extra = node.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


# -- JSON merge patch ---------------------------------------------------------------------------

def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- strategic merge patch ----------------------------------------------------------------------
# Follows k8s.io/apimachinery/pkg/util/strategicpatch (mergeMap, mergeSlice,
# mergePatchIntoOriginal, normalizeElementOrder), including where it puts list items: patch
# items in the patch's order, items only the server has interleaved by their old positions.

SET_ORDER = "$setElementOrder/"
DELETE_FROM = "$deleteFromPrimitiveList/"


def strategic_merge(original: dict, patch: dict, schema: dict | None) -> dict:
    return _merge_map(original, patch, schema)


def _strategy(node: dict | None) -> tuple[list[str], str | None, dict | None]:
    node = node or {}
    strategy = (node.get("x-kubernetes-patch-strategy") or "").split(",")
    return strategy, node.get("x-kubernetes-patch-merge-key"), (_resolve(node) or {}).get("items")


def _merge_map(original: dict, patch: dict, schema: dict | None) -> dict:
    patch = dict(patch)
    if "$patch" in patch:
        directive = patch.pop("$patch")
        if directive == "replace":
            return _merge_map({}, patch, schema)  # the patch as is, minus directives
        if directive == "delete":
            return {}
        raise errors.bad_request(f"Unknown patch type: {directive} in: {json.dumps(patch)}")
    result = copy.deepcopy(original)
    _apply_retain_keys(result, patch)

    for key in [k for k in patch if k.startswith(SET_ORDER)]:
        field = key[len(SET_ORDER):]
        order = patch.pop(key)
        if not isinstance(order, list):
            raise errors.bad_request("invalid patch format of setElementOrder list")
        node = _field(schema, field)
        in_server, in_patch = field in result, field in patch
        server = result.get(field) if isinstance(result.get(field), list) else []
        if in_server and in_patch:
            merged = _merge_list(server, patch.pop(field), node)
        elif in_patch:
            merged = [_clean_new(x, _strategy(node)[2]) for x in patch.pop(field) or []]
        elif in_server:
            merged = server
        else:
            continue
        result[field] = _normalize_order(merged, order, server, _strategy(node)[1])

    for key, value in patch.items():
        if key.startswith(DELETE_FROM):
            field = key[len(DELETE_FROM):]
            if isinstance(result.get(field), list) and isinstance(value, list):
                result[field] = [v for v in result[field] if v not in value]
            elif not isinstance(value, list):
                raise errors.bad_request("invalid patch format of primitive list")
            continue
        sub = _field(schema, key)
        current = result.get(key)
        if value is None:
            result.pop(key, None)
        elif key not in result or type(current) is not type(value):
            result[key] = _clean_new(value, sub if not isinstance(value, list) else _strategy(sub)[2])
        elif isinstance(value, dict):
            strategy = _strategy(sub)[0]
            result[key] = _merge_map({}, value, sub) if "replace" in strategy else \
                _merge_map(current, value, sub)
        elif isinstance(value, list):
            result[key] = _merge_list(current, value, sub)
        else:
            result[key] = value
    return result


def _apply_retain_keys(result: dict, patch: dict) -> None:
    """$retainKeys: drop the fields of the original that the list does not name (used when a
    union field such as a volume source or a deployment strategy changes its kind)."""
    if "$retainKeys" not in patch:
        return
    retain = patch.pop("$retainKeys")
    if not isinstance(retain, list):
        raise errors.bad_request("invalid patch format of retainKeys")
    for key, value in patch.items():
        if value is not None and not key.startswith((SET_ORDER, DELETE_FROM)) and key not in retain:
            raise errors.ApiError(422, "Invalid", "patch content doesn't match retainKeys list")
    for key in [k for k in result if k not in retain]:
        del result[key]


def _merge_list(original: list, patch: list, node: dict | None) -> list:
    strategy, merge_key, item_schema = _strategy(node)
    if "merge" not in strategy:
        return [_clean_new(x, item_schema) for x in patch]
    if not original and not patch:
        return original
    if not any(isinstance(x, dict) for x in list(original) + list(patch)):
        merged = []
        for value in list(original) + list(patch):  # a set of primitives
            if value not in merged:
                merged.append(value)
        return _normalize_order(merged, patch, original, None)
    if merge_key is None:
        raise errors.bad_request("cannot merge lists without merge key for type map")
    server, items = _special_elements(copy.deepcopy(original), patch, merge_key)
    merged = list(server)  # server keeps the pre-merge order for _normalize_order
    for item in items:
        at = next((i for i, x in enumerate(merged)
                   if isinstance(x, dict) and x.get(merge_key) == item[merge_key]), None)
        if at is None:
            merged.append(_merge_map({}, item, item_schema))
        else:
            merged[at] = _merge_map(merged[at], item, item_schema)
    return _normalize_order(merged, items, server, merge_key)


def _special_elements(original: list, patch: list, merge_key: str) -> tuple[list, list]:
    """Apply the list items that carry a $patch directive; return (original, plain items)."""
    plain, replace = [], False
    for item in patch:
        if not isinstance(item, dict):
            raise errors.bad_request(f"unable to merge list item {json.dumps(item)}: the list "
                                     f"merges maps by {merge_key}")
        directive = item.get("$patch")
        if directive is None:
            if merge_key not in item:
                raise errors.bad_request(f"map: {json.dumps(item)} does not contain declared "
                                         f"merge key: {merge_key}")
            plain.append(item)
        elif directive == "delete":
            if merge_key not in item:
                raise errors.bad_request(f"map: {json.dumps(item)} does not contain declared "
                                         f"merge key: {merge_key}")
            original = [x for x in original
                        if not (isinstance(x, dict) and x.get(merge_key) == item[merge_key])]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise errors.bad_request("merging lists cannot yet be specified in the patch")
        else:
            raise errors.bad_request(f"Unknown patch type: {directive} in: {json.dumps(item)}")
    if replace:
        return [_merge_map({}, x, None) for x in plain], []
    return original, plain


def _clean_new(value: Any, schema: dict | None) -> Any:
    """A value the original did not have, with any directives inside it resolved."""
    if isinstance(value, dict):
        return _merge_map({}, value, schema)
    if isinstance(value, list):
        return [_clean_new(x, schema) for x in value
                if not (isinstance(x, dict) and x.get("$patch") in ("delete", "replace"))]
    return value


def _normalize_order(merged: list, order: list, server: list, merge_key: str | None) -> list:
    """normalizeElementOrder: items named in ``order`` take that order; the others (only on the
    server) keep theirs, and are slotted in before a patch item only when both were on the server
    and the server item stood earlier (mergeSortedSlice)."""
    def ident(x: Any) -> str:
        value = x.get(merge_key) if merge_key and isinstance(x, dict) else x
        return json.dumps(value, sort_keys=True)

    wanted = {}
    for i, o in enumerate(order):
        if not (isinstance(o, dict) and o.get("$patch")):
            wanted.setdefault(ident(o), i)
    server_at = {}
    for i, s in enumerate(server):
        server_at.setdefault(ident(s), i)
    patched = sorted((x for x in merged if ident(x) in wanted), key=lambda x: wanted[ident(x)])
    server_only = sorted((x for x in merged if ident(x) not in wanted),
                         key=lambda x: server_at.get(ident(x), len(server)))
    out, i, j = [], 0, 0
    while i < len(server_only) and j < len(patched):
        li, ri = server_at.get(ident(server_only[i])), server_at.get(ident(patched[j]))
        if li is not None and ri is not None and li < ri:
            out.append(server_only[i])
            i += 1
        else:
            out.append(patched[j])
            j += 1
    return out + server_only[i:] + patched[j:]


# -- entry point --------------------------------------------------------------------------------

def _decode(body: bytes | str | dict | list) -> Any:
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            return json.loads(body)
        except json.JSONDecodeError as exc:
            raise errors.bad_request(f"error decoding patch: {exc}") from None
    return copy.deepcopy(body)


def check_patch_type(rt: ResourceType, patch_type: str) -> str:
    """The media type without parameters; 415 for one this resource cannot be patched with
    (checked before the object is looked up, as the API server does)."""
    media = patch_type.split(";", 1)[0].strip().lower()
    supported = (JSON_PATCH, MERGE_PATCH) if rt.is_custom else (
        JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)
    if media not in supported:
        raise errors.unsupported_media_type(supported)
    return media


def apply_patch(rt: ResourceType, obj: dict, body: bytes | str | dict | list, patch_type: str,
                schema_kind: str | None = None) -> dict:
    """Apply one PATCH body to obj (not modified) and return the patched object. schema_kind
    names the definition to use instead of rt's (the scale subresource patches a Scale)."""
    media = check_patch_type(rt, patch_type)
    patch = _decode(body)
    if media == JSON_PATCH:
        if not isinstance(patch, list):
            raise errors.bad_request("json patch must be a list of operations")
        try:
            return jsonpatch.JsonPatch(patch).apply(copy.deepcopy(obj))
        except jsonpatch.InvalidJsonPatch as exc:
            raise errors.bad_request(str(exc)) from None
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise errors.ApiError(422, "Invalid", f"the server rejected our request due to an "
                                                  f"error in our request: {exc}") from None
    if not isinstance(patch, dict):
        raise errors.bad_request("a merge patch must be a JSON object")
    if media == MERGE_PATCH:
        return merge_patch(obj, patch)
    schema = _definitions().get(schema_kind) if schema_kind else schema_for(rt)
    return strategic_merge(obj, patch, schema)
