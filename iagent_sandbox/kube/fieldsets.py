"""Sets of field paths over typed objects, as kubernetes-sigs/structured-merge-diff computes them for
server-side apply: which fields an object sets, how two objects differ, how an applied
configuration merges into a live object, and the ``fieldsV1`` and ``.spec.replicas`` notations.

A path is a tuple of elements, each ``("f", name)`` for a field or map key, ``("k", '{"name":"x"}')``
for an item of an associative list (x-kubernetes-list-type: map, keyed by x-kubernetes-list-map-keys),
``("v", '"x"')`` for an item of a set list, ``("i", n)`` for an index. The type of every node comes
from the published OpenAPI schema (kubernetes-validate's 1.31 definitions, openapi.py).
"""

from __future__ import annotations

import copy
import json
from typing import Any, Iterable

from . import openapi

Path = tuple
# Key fields of associative lists that the API server defaults when an item leaves them out
# (SMD reads them from the schema's defaults; ports are the lists where it matters).
KEY_DEFAULTS = {"protocol": "TCP"}


# -- schema -------------------------------------------------------------------------------------

def root_schema(group: str, version: str, kind: str) -> dict | None:
    name = openapi.definition_for(group, version, kind)
    return openapi.json_schema_definitions().get(name) if name else None


def _resolve(node: dict | None) -> dict:
    defs = openapi.json_schema_definitions()
    while isinstance(node, dict) and "$ref" in node:
        node = defs.get(node["$ref"].rsplit("/", 1)[-1])
    return node if isinstance(node, dict) else {}


def _types(node: dict) -> set[str]:
    t = node.get("type")
    return set(t) if isinstance(t, list) else ({t} if t else set())


def shape(node: dict | None) -> str:
    """"struct", "map", "assoc", "set", "atomic" or "scalar": how SMD treats a schema node."""
    node = _resolve(node)
    types = _types(node)
    if "array" in types:
        kind = node.get("x-kubernetes-list-type")
        if kind == "map" or (kind is None and node.get("x-kubernetes-patch-merge-key")):
            return "assoc"
        if kind == "set":
            return "set"
        return "atomic"
    if "object" in types:
        if node.get("x-kubernetes-map-type") == "atomic":
            return "atomic"
        return "struct" if "properties" in node else "map"
    return "scalar"


def _child(node: dict | None, key: str) -> tuple[dict | None, bool]:
    """(schema of field or map value key, whether key is a declared struct field)."""
    node = _resolve(node)
    props = node.get("properties") or {}
    if key in props:
        return props[key], True
    extra = node.get("additionalProperties")
    return (extra if isinstance(extra, dict) else None), False


def _items(node: dict | None) -> dict | None:
    return _resolve(node).get("items")


def list_keys(node: dict | None) -> list[str]:
    node = _resolve(node)
    keys = node.get("x-kubernetes-list-map-keys")
    if keys:
        return list(keys)
    merge_key = node.get("x-kubernetes-patch-merge-key")
    return [merge_key] if merge_key else []


def item_key(item: Any, keys: list[str]) -> str:
    """The k: element of an associative list item: its key fields, sorted, as compact JSON."""
    fields = {}
    for k in keys:
        value = item.get(k, KEY_DEFAULTS.get(k)) if isinstance(item, dict) else None
        if value is not None:
            fields[k] = value
    return json.dumps(dict(sorted(fields.items())), separators=(",", ":"))


def _value_element(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# -- field sets ---------------------------------------------------------------------------------

def field_set(value: Any, schema: dict | None) -> set[Path]:
    """The paths an object sets (typed/helpers ToFieldSet): every scalar, atomic value, list item,
    map entry and empty or null field."""
    out: set[Path] = set()
    _walk(value, schema, (), out)
    return out


def _walk(value: Any, schema: dict | None, path: Path, out: set[Path]) -> None:
    kind = shape(schema) if schema is not None else _guess(value)
    if value is None or kind in ("scalar", "atomic"):
        if path:
            out.add(path)
        return
    if kind in ("struct", "map") and isinstance(value, dict):
        for key, sub in value.items():
            sub_schema, declared = _child(schema, key) if schema is not None else (None, False)
            child = path + (("f", key),)
            _walk(sub, sub_schema, child, out)
            if sub is None or (isinstance(sub, dict) and not sub) or not declared:
                out.add(child)
        return
    if kind == "assoc" and isinstance(value, list):
        keys, item_schema = list_keys(schema), _items(schema)
        for item in value:
            child = path + (("k", item_key(item, keys)),)
            _walk(item, item_schema, child, out)
            out.add(child)
        return
    if kind == "set" and isinstance(value, list):
        for item in value:
            out.add(path + (("v", _value_element(item)),))
        return
    out.add(path)  # a value of another shape than the schema says: owned as a whole


def _guess(value: Any) -> str:
    return "map" if isinstance(value, dict) else "atomic"


def without_prefix(paths: Iterable[Path], prefixes: Iterable[Path]) -> set[Path]:
    prefixes = tuple(prefixes)
    return {p for p in paths if not any(p[:len(q)] == q for q in prefixes)}


def value_at(obj: Any, path: Path) -> tuple[bool, Any]:
    """(found, value) at a path of an object."""
    node = obj
    for kind, element in path:
        if kind == "f":
            if not isinstance(node, dict) or element not in node:
                return False, None
            node = node[element]
        elif kind == "k":
            wanted = json.loads(element)
            if not isinstance(node, list):
                return False, None
            found = [x for x in node if isinstance(x, dict) and
                     all(x.get(k, KEY_DEFAULTS.get(k)) == v for k, v in wanted.items())]
            if not found:
                return False, None
            node = found[0]
        elif kind == "v":
            wanted = json.loads(element)
            if not isinstance(node, list) or wanted not in node:
                return False, None
            node = wanted
        else:
            if not isinstance(node, list) or element >= len(node):
                return False, None
            node = node[element]
    return True, node


def compare(old: dict | None, new: dict, schema: dict | None,
            old_set: set[Path] | None = None, new_set: set[Path] | None = None
            ) -> tuple[set[Path], set[Path], set[Path]]:
    """(added, removed, modified) between two versions of an object (typed.Compare)."""
    old_set = field_set(old, schema) if old_set is None else old_set
    new_set = field_set(new, schema) if new_set is None else new_set
    parents = {p[:i] for p in old_set | new_set for i in range(1, len(p))}
    modified = {p for p in old_set & new_set
                if p not in parents and value_at(old, p)[1] != value_at(new, p)[1]}
    return new_set - old_set, old_set - new_set, modified


# -- merge and removal --------------------------------------------------------------------------

def merge(live: Any, config: Any, schema: dict | None) -> Any:
    """The applied configuration merged into the live object (typed.Merge): structs and maps by
    key, associative lists by their keys, sets as unions, anything else replaced."""
    kind = shape(schema) if schema is not None else _guess(config)
    if config is None:
        return None
    if kind in ("struct", "map") and isinstance(config, dict) and isinstance(live, dict):
        out = copy.deepcopy(live)
        for key, sub in config.items():
            sub_schema = _child(schema, key)[0] if schema is not None else None
            out[key] = merge(live.get(key), sub, sub_schema) if key in live else copy.deepcopy(sub)
        return out
    if kind == "assoc" and isinstance(config, list) and isinstance(live, list):
        keys, item_schema = list_keys(schema), _items(schema)
        out = copy.deepcopy(live)
        at = {item_key(x, keys): i for i, x in enumerate(out)}
        for item in config:
            k = item_key(item, keys)
            if k in at:
                out[at[k]] = merge(out[at[k]], item, item_schema)
            else:
                at[k] = len(out)
                out.append(copy.deepcopy(item))
        return out
    if kind == "set" and isinstance(config, list) and isinstance(live, list):
        return copy.deepcopy(live) + [x for x in config if x not in live]
    return copy.deepcopy(config)


def remove(obj: dict, paths: Iterable[Path]) -> None:
    """Remove the fields, map entries and list items at these paths from obj, in place, parents
    first (a removed list item takes its fields along); a map or list left empty by a removal
    goes too (prune's addBackDanglingItems keeps nothing that no manager wants)."""
    paths = set(paths)
    for path in sorted(paths, key=len):
        found, parent = value_at(obj, path[:-1])
        if not found:
            continue
        kind, element = path[-1]
        if kind == "f" and isinstance(parent, dict):
            parent.pop(element, None)
        elif kind in ("k", "v") and isinstance(parent, list):
            parent[:] = [x for x in parent if not value_at([x], ((kind, element),))[0]]
    for path in sorted({p[:-1] for p in paths if len(p) > 1}, key=len, reverse=True):
        found, value = value_at(obj, path)
        if found and value in ({}, []):
            remove(obj, [path])


# -- notations ----------------------------------------------------------------------------------

def _sort_key(element: tuple) -> tuple:
    kind, value = element
    return ({"f": 0, "k": 1, "v": 2, "i": 3}[kind], str(value))


def to_fields_v1(paths: Iterable[Path]) -> dict:
    """The set as managedFields' fieldsV1 tree: "f:", "k:", "v:", "i:" keys, and "." for a path
    that is both in the set and a parent of others."""
    tree: dict = {}
    members: set[Path] = set(paths)
    for path in members:
        node = tree
        for element in path:
            node = node.setdefault(element, {})
    return _emit(tree, (), members)


def _emit(tree: dict, prefix: Path, members: set[Path]) -> dict:
    out: dict = {}
    if prefix and prefix in members and tree:
        out["."] = {}
    for element in sorted(tree, key=_sort_key):
        kind, value = element
        out[f"{kind}:{value}"] = _emit(tree[element], prefix + (element,), members)
    return out


def from_fields_v1(tree: dict, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for key, sub in (tree or {}).items():
        if key == ".":
            if prefix:
                out.add(prefix)
            continue
        kind, _, value = key.partition(":")
        element = (kind, int(value) if kind == "i" else value)
        path = prefix + (element,)
        if sub:
            out |= from_fields_v1(sub, path)
        else:
            out.add(path)
    return out


def path_string(path: Path) -> str:
    """fieldpath.Path.String(): .spec.replicas, .spec.containers[name="x"].image, [="v"]."""
    out = []
    for kind, value in path:
        if kind == "f":
            out.append("." + value)
        elif kind == "k":
            fields = json.loads(value)
            out.append("[" + ",".join(f"{k}={_go_value(v)}" for k, v in fields.items()) + "]")
        elif kind == "v":
            out.append(f"[={_go_value(json.loads(value))}]")
        else:
            out.append(f"[{value}]")
    return "".join(out)


def _go_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"))
