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

_DELETE = object()  # a map carrying {"$patch": "delete"}: remove it from its parent


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

def strategic_merge(original: dict, patch: dict, schema: dict | None) -> dict:
    merged = _merge_map(original, patch, schema)
    if merged is _DELETE:
        raise errors.bad_request("a strategic merge patch cannot delete the whole object")
    return merged


def _merge_map(original: dict, patch: dict, schema: dict | None) -> Any:
    patch = dict(patch)
    directive = patch.pop("$patch", None)
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return _merge_map({}, patch, schema)
    if directive is not None:
        raise errors.bad_request(f"Unknown patch type: {directive} in map: {json.dumps(patch)}")
    retain = patch.pop("$retainKeys", None)
    orders = {k.split("/", 1)[1]: patch.pop(k) for k in list(patch)
              if k.startswith("$setElementOrder/")}
    removals = {k.split("/", 1)[1]: patch.pop(k) for k in list(patch)
                if k.startswith("$deleteFromPrimitiveList/")}

    result = copy.deepcopy(original)
    if retain is not None:
        if not isinstance(retain, list):
            raise errors.bad_request("$retainKeys must be a list")
        result = {k: v for k, v in result.items() if k in retain}
    for key, values in removals.items():
        if isinstance(result.get(key), list):
            result[key] = [v for v in result[key] if v not in (values or [])]
    server_lists = {k: copy.deepcopy(v) for k, v in result.items() if isinstance(v, list)}

    for key, value in patch.items():
        sub = _field(schema, key)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            merged = _merge_map(current if isinstance(current, dict) else {}, value, sub)
            if merged is _DELETE:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            current = result.get(key)
            result[key] = _merge_list(current if isinstance(current, list) else [], value, sub)
        else:
            result[key] = value

    for key, order in orders.items():
        if isinstance(result.get(key), list) and isinstance(order, list):
            merge_key = (_field(schema, key) or {}).get("x-kubernetes-patch-merge-key")
            result[key] = _apply_element_order(result[key], order, server_lists.get(key, []),
                                               merge_key)
    return result


def _merge_list(original: list, patch: list, node: dict | None) -> list:
    node = node or {}
    strategy = (node.get("x-kubernetes-patch-strategy") or "").split(",")
    merge_key = node.get("x-kubernetes-patch-merge-key")
    item_schema = (_resolve(node) or {}).get("items")
    replace_marker = [x for x in patch if isinstance(x, dict) and x.get("$patch") == "replace"]
    if "merge" not in strategy or replace_marker:
        return [_clean_new(x, item_schema) for x in patch if not (
            isinstance(x, dict) and x.get("$patch") == "replace" and len(x) == 1)]
    if merge_key is None:  # a set of primitives: union, new values appended
        result = list(original)
        for value in patch:
            if value not in result:
                result.append(value)
        return result
    result = copy.deepcopy(original)
    for item in patch:
        if not isinstance(item, dict):
            raise errors.bad_request(f"unable to find api field in struct for the list item: "
                                     f"{json.dumps(item)}")
        if merge_key not in item:
            raise errors.bad_request(f"map: {json.dumps(item)} does not contain declared merge "
                                     f"key: {merge_key}")
        key_value = item[merge_key]
        at = next((i for i, x in enumerate(result)
                   if isinstance(x, dict) and x.get(merge_key) == key_value), None)
        if item.get("$patch") == "delete":
            result = [x for x in result if not (isinstance(x, dict) and x.get(merge_key) == key_value)]
            continue
        merged = _merge_map(result[at] if at is not None else {}, item, item_schema)
        if merged is _DELETE:
            continue
        if at is None:
            result.append(merged)
        else:
            result[at] = merged
    return result


def _clean_new(value: Any, schema: dict | None) -> Any:
    if isinstance(value, dict):
        merged = _merge_map({}, value, schema)
        return {} if merged is _DELETE else merged
    return value


def _apply_element_order(items: list, order: list, server: list, merge_key: str | None) -> list:
    """$setElementOrder: the patch's elements in the patch's order, with elements only the
    server has kept where they stood relative to them (strategicpatch.normalizeElementOrder)."""
    def ident(x: Any) -> Any:
        value = x.get(merge_key) if merge_key and isinstance(x, dict) else x
        return json.dumps(value, sort_keys=True)

    wanted = [ident(o) for o in order]
    server_order = [ident(s) for s in server]
    patched = sorted((x for x in items if ident(x) in wanted), key=lambda x: wanted.index(ident(x)))
    server_only = sorted((x for x in items if ident(x) not in wanted),
                         key=lambda x: server_order.index(ident(x))
                         if ident(x) in server_order else len(server_order))

    def position(x: Any) -> int:
        return server_order.index(ident(x)) if ident(x) in server_order else -1

    merged, i, j = [], 0, 0
    while i < len(server_only) and j < len(patched):
        li, ri = position(server_only[i]), position(patched[j])
        left_first = (li >= 0 and ri >= 0 and li < ri) or (li >= 0 > ri)
        if left_first:
            merged.append(server_only[i])
            i += 1
        else:
            merged.append(patched[j])
            j += 1
    return merged + server_only[i:] + patched[j:]


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
