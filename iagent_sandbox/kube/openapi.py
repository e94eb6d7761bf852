"""/openapi/v2 and /openapi/v3 documents built from Kubernetes' published schemas.

kubectl apply reads /openapi/v3 to (a) decide whether the server validates fields itself (the
``fieldValidation`` query parameter on PATCH operations) and (b) compute strategic merge patches
from ``x-kubernetes-patch-merge-key`` / ``x-kubernetes-patch-strategy``. The schemas come from the
kubernetes-validate package, which ships them as JSON Schema (nullable type lists, ``$defs``); they
are turned back into OpenAPI here. Documents are built lazily, once per process.
"""

from __future__ import annotations

import copy
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import kubernetes_validate

from .discovery import GIT_VERSION
from .resources import RESOURCES, ResourceType

# Matches the server's minor version (discovery.GIT_VERSION), so clients validate against the
# schema of the API they are talking to.
SCHEMA_RELEASE = "v1.31.0-local"
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
PATCH_CONTENT_TYPES = ("application/json-patch+json", "application/merge-patch+json",
                       "application/strategic-merge-patch+json", "application/apply-patch+yaml")
# Custom resources take no strategic merge patch; kubectl reads this list to pick a patch type.
CUSTOM_PATCH_CONTENT_TYPES = ("application/json-patch+json", "application/merge-patch+json",
                              "application/apply-patch+yaml")

# The AWS Load Balancer Controller's CRD schema (v1beta1, trimmed to the fields it defines).
TGB = "io.k8s.aws.elbv2.v1beta1.TargetGroupBinding"
_TGB_SCHEMAS: dict[str, Any] = {
    TGB: {
        "description": "TargetGroupBinding is the Schema for the TargetGroupBinding API",
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"$ref": f"#/$defs/{META}ObjectMeta"},
            "spec": {
                "type": "object",
                "required": ["serviceRef", "targetGroupARN"],
                "properties": {
                    "targetGroupARN": {"type": "string", "minLength": 1},
                    "targetType": {"type": "string", "enum": ["instance", "ip"]},
                    "ipAddressType": {"type": "string", "enum": ["ipv4", "ipv6"]},
                    "vpcID": {"type": "string"},
                    "multiClusterTargetGroup": {"type": "boolean"},
                    "serviceRef": {
                        "type": "object",
                        "required": ["name", "port"],
                        "properties": {
                            "name": {"type": "string"},
                            "port": {"anyOf": [{"type": "integer"}, {"type": "string"}],
                                     "x-kubernetes-int-or-string": True},
                        },
                    },
                    "nodeSelector": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "networking": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                },
            },
            "status": {"type": "object",
                       "properties": {"observedGeneration": {"type": "integer", "format": "int64"}}},
        },
        "x-kubernetes-group-version-kind": [
            {"group": "elbv2.k8s.aws", "kind": "TargetGroupBinding", "version": "v1beta1"}],
    },
    TGB + "List": {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"$ref": f"#/$defs/{META}ListMeta"},
            "items": {"type": "array", "items": {"$ref": f"#/$defs/{TGB}"}},
        },
        "x-kubernetes-group-version-kind": [
            {"group": "elbv2.k8s.aws", "kind": "TargetGroupBindingList", "version": "v1beta1"}],
    },
}


def _schema_dir() -> Path:
    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    wanted = root / SCHEMA_RELEASE / "_definitions.json"
    if wanted.exists():
        return wanted
    # Closest release the installed package ships (a newer package may drop old releases).
    candidates = sorted(p for p in root.glob("v1.*.0-local") if (p / "_definitions.json").exists())
    if not candidates:
        raise RuntimeError(f"kubernetes-validate ships no schemas under {root}")
    return candidates[-1] / "_definitions.json"


@lru_cache(maxsize=1)
def json_schema_definitions() -> dict[str, Any]:
    """The raw JSON Schema definitions (with the CRD added), keyed by OpenAPI definition name."""
    with open(_schema_dir(), encoding="utf-8") as f:
        defs = json.load(f)["$defs"]
    defs.update(copy.deepcopy(_TGB_SCHEMAS))
    return defs


def _to_openapi(node: Any, ref_prefix: str, v3: bool) -> Any:
    """JSON Schema (kubernetes-validate's form) -> OpenAPI schema object."""
    if isinstance(node, list):
        return [_to_openapi(x, ref_prefix, v3) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            if types:
                out["type"] = types[0]
        elif key == "$ref":
            out["$ref"] = ref_prefix + value.rsplit("/", 1)[-1]
        elif key in ("properties", "patternProperties"):
            out[key] = {k: _to_openapi(v, ref_prefix, v3) for k, v in value.items()}
        else:
            out[key] = _to_openapi(value, ref_prefix, v3)
    if v3 and "$ref" in out and len(out) > 1:
        # kube-openapi's v3 form: a reference with siblings is wrapped in allOf.
        ref = out.pop("$ref")
        out["allOf"] = [{"$ref": ref}]
    return out


def _openapi_definition(name: str, schema: dict, ref_prefix: str, v3: bool) -> dict:
    if name == "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
        return {"description": schema.get("description", "IntOrString"), "type": "string",
                "format": "int-or-string"}
    if name == "io.k8s.apimachinery.pkg.api.resource.Quantity":
        return {"description": schema.get("description", "Quantity"), "type": "string"}
    out = _to_openapi(schema, ref_prefix, v3)
    if out.get("x-kubernetes-group-version-kind"):
        # kubernetes-validate pins apiVersion/kind with enums; the published schema does not.
        for field in ("apiVersion", "kind"):
            out.get("properties", {}).get(field, {}).pop("enum", None)
    return out


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref.rsplit("/", 1)[-1])
        for v in node.values():
            _refs(v, found)
    elif isinstance(node, list):
        for v in node:
            _refs(v, found)


def _closure(names: set[str], defs: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        found: set[str] = set()
        _refs(defs[name], found)
        todo.extend(found - seen)
    return seen


def definition_for(group: str, version: str, kind: str) -> str | None:
    """The definition name whose x-kubernetes-group-version-kind is (group, version, kind)."""
    return _gvk_index().get((group, version, kind))


@lru_cache(maxsize=1)
def _gvk_index() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in json_schema_definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            index.setdefault((gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")), name)
    return index


# -- paths ----------------------------------------------------------------------------------------

def _param(name: str, where: str, description: str, required: bool = False, type_: str = "string") -> dict:
    return {"name": name, "in": where, "description": description, "required": required,
            "schema": {"type": type_, "uniqueItems": True}}


_COMMON_WRITE_PARAMS = [
    _param("dryRun", "query", "When present, indicates that modifications should not be persisted."),
    _param("fieldManager", "query", "fieldManager is a name associated with the actor or entity that is making these changes."),
    _param("fieldValidation", "query", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict."),
]
_LIST_PARAMS = [
    _param(n, "query", d, type_=t) for n, d, t in (
        ("allowWatchBookmarks", "allowWatchBookmarks requests watch events with type \"BOOKMARK\".", "boolean"),
        ("continue", "The continue option should be set when retrieving more results from the server.", "string"),
        ("fieldSelector", "A selector to restrict the list of returned objects by their fields.", "string"),
        ("labelSelector", "A selector to restrict the list of returned objects by their labels.", "string"),
        ("limit", "limit is a maximum number of responses to return for a list call.", "integer"),
        ("resourceVersion", "resourceVersion sets a constraint on what resource versions a request may be served from.", "string"),
        ("timeoutSeconds", "Timeout for the list/watch call.", "integer"),
        ("watch", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.", "boolean"),
    )
]


def _op(action: str, gvk: dict, op_id: str, response_ref: str | None, *, body_ref: str | None = None,
        patch: tuple[str, ...] = (), params: list[dict] | None = None, v3: bool = True) -> dict:
    op: dict[str, Any] = {
        "operationId": op_id,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
        "parameters": list(params or []),
        "responses": {"401": {"description": "Unauthorized"}},
    }
    if v3:
        if response_ref:
            op["responses"]["200"] = {"description": "OK", "content": {
                "application/json": {"schema": {"$ref": response_ref}}}}
        if patch:
            op["requestBody"] = {"required": True, "content": {
                ct: {"schema": {"$ref": "#/components/schemas/" + META + "Patch"}}
                for ct in patch}}
        elif body_ref:
            op["requestBody"] = {"required": True, "content": {"*/*": {"schema": {"$ref": body_ref}}}}
    else:
        if response_ref:
            op["responses"]["200"] = {"description": "OK", "schema": {"$ref": response_ref}}
        if patch:
            op["consumes"] = list(patch)
            op["parameters"].append({"name": "body", "in": "body", "required": True,
                                     "schema": {"$ref": "#/definitions/" + META + "Patch"}})
        elif body_ref:
            op["parameters"].append({"name": "body", "in": "body", "required": True,
                                     "schema": {"$ref": body_ref}})
    return op


def _v2_params(params: list[dict]) -> list[dict]:
    out = []
    for p in params:
        q = {k: v for k, v in p.items() if k != "schema"}
        q["type"] = p["schema"]["type"]
        q["uniqueItems"] = True
        out.append(q)
    return out


def _paths_for(r: ResourceType, ref_prefix: str, v3: bool) -> dict[str, dict]:
    definition = definition_for(r.group, r.version, r.kind)
    if definition is None:
        return {}
    ref = ref_prefix + definition
    list_def = definition_for(r.group, r.version, r.kind + "List")
    list_ref = ref_prefix + list_def if list_def else None
    gvk = {"group": r.group, "version": r.version, "kind": r.kind}
    prefix = f"/api/{r.version}" if not r.group else f"/apis/{r.group}/{r.version}"
    base = f"{prefix}/namespaces/{{namespace}}/{r.plural}" if r.namespaced else f"{prefix}/{r.plural}"
    kind_id = r.kind + ("Namespaced" if r.namespaced else "")
    vid = (r.group.split(".")[0].capitalize() if r.group else "Core") + r.version.capitalize()

    def params(*extra: list[dict]) -> list[dict]:
        found = [p for group in extra for p in group]
        return found if v3 else _v2_params(found)

    path_params: list[dict] = []
    if r.namespaced:
        path_params.append(_param("namespace", "path", "object name and auth scope", required=True))
    name_param = [_param("name", "path", f"name of the {r.kind}", required=True)]
    status_ref = ref_prefix + META + "Status"
    patch_types = CUSTOM_PATCH_CONTENT_TYPES if r.is_custom else PATCH_CONTENT_TYPES

    paths: dict[str, dict] = {
        base: {
            "get": _op("list", gvk, f"list{vid}{kind_id}", list_ref, params=params(_LIST_PARAMS), v3=v3),
            "post": _op("post", gvk, f"create{vid}{kind_id}", ref, body_ref=ref,
                        params=params(_COMMON_WRITE_PARAMS), v3=v3),
            "delete": _op("deletecollection", gvk, f"deletecollection{vid}{kind_id}", status_ref,
                          params=params(_LIST_PARAMS), v3=v3),
            "parameters": params(path_params),
        },
        f"{base}/{{name}}": {
            "get": _op("get", gvk, f"read{vid}{kind_id}", ref, v3=v3),
            "put": _op("put", gvk, f"replace{vid}{kind_id}", ref, body_ref=ref,
                       params=params(_COMMON_WRITE_PARAMS), v3=v3),
            "patch": _op("patch", gvk, f"patch{vid}{kind_id}", ref, patch=patch_types,
                         params=params(_COMMON_WRITE_PARAMS), v3=v3),
            "delete": _op("delete", gvk, f"delete{vid}{kind_id}", status_ref, v3=v3),
            "parameters": params(path_params, name_param),
        },
    }
    if r.is_review:  # asked, never stored: POST is the only operation
        return {base: {"post": paths[base]["post"], "parameters": paths[base]["parameters"]}}
    if r.namespaced:
        paths[f"{prefix}/{r.plural}"] = {
            "get": _op("list", gvk, f"list{vid}{r.kind}ForAllNamespaces", list_ref,
                       params=params(_LIST_PARAMS), v3=v3)}
    for sub in r.subresources:
        if sub == "log":
            continue  # answered as text/plain; kubectl does not look it up in OpenAPI
        if sub == "eviction":  # create only, with a policy/v1 Eviction
            egvk = {"group": "policy", "version": "v1", "kind": "Eviction"}
            eref = ref_prefix + "io.k8s.api.policy.v1.Eviction"
            paths[f"{base}/{{name}}/eviction"] = {
                "post": _op("post", egvk, f"create{vid}{kind_id}Eviction", eref, body_ref=eref,
                            params=params(_COMMON_WRITE_PARAMS), v3=v3),
                "parameters": params(path_params, name_param)}
            continue
        if sub == "scale":
            sgvk = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
            sref = ref_prefix + "io.k8s.api.autoscaling.v1.Scale"
        else:
            sgvk, sref = gvk, ref
        cap = sub.capitalize()
        paths[f"{base}/{{name}}/{sub}"] = {
            "get": _op("get", sgvk, f"read{vid}{kind_id}{cap}", sref, v3=v3),
            "put": _op("put", sgvk, f"replace{vid}{kind_id}{cap}", sref, body_ref=sref,
                       params=params(_COMMON_WRITE_PARAMS), v3=v3),
            "patch": _op("patch", sgvk, f"patch{vid}{kind_id}{cap}", sref, patch=patch_types,
                         params=params(_COMMON_WRITE_PARAMS), v3=v3),
            "parameters": params(path_params, name_param),
        }
    return paths


def _info() -> dict:
    return {"title": "Kubernetes", "version": GIT_VERSION}


# -- documents ------------------------------------------------------------------------------------

def _gv_path(r: ResourceType) -> str:
    return f"api/{r.version}" if not r.group else f"apis/{r.group}/{r.version}"


@lru_cache(maxsize=None)
def v3_document(gv_path: str) -> bytes | None:
    """/openapi/v3/<gv_path> (e.g. "api/v1", "apis/apps/v1") as JSON bytes; None if not served."""
    types = [r for r in RESOURCES if _gv_path(r) == gv_path]
    if not types:
        return None
    prefix = "#/components/schemas/"
    paths: dict[str, dict] = {}
    for r in types:
        paths.update(_paths_for(r, prefix, v3=True))
    defs = json_schema_definitions()
    used: set[str] = set()
    _refs(paths, used)
    used.update({META + "Patch", META + "Status", META + "DeleteOptions"})
    schemas = {name: _openapi_definition(name, defs[name], prefix, True)
               for name in sorted(_closure(used, defs))}
    doc = {"openapi": "3.0.0", "info": _info(), "paths": paths,
           "components": {"schemas": schemas, "securitySchemes": {
               "BearerToken": {"type": "apiKey", "description": "Bearer Token authentication",
                               "name": "authorization", "in": "header"}}}}
    return json.dumps(doc, separators=(",", ":")).encode()


@lru_cache(maxsize=1)
def v3_index() -> bytes:
    """/openapi/v3: where each group version's document is, with a content hash for caching."""
    paths = {}
    for gv in dict.fromkeys(_gv_path(r) for r in RESOURCES):
        body = v3_document(gv) or b""
        digest = hashlib.sha512(body).hexdigest()[:128].upper()
        paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={digest}"}
    return json.dumps({"paths": paths}).encode()


@lru_cache(maxsize=1)
def v2_document() -> bytes:
    """/openapi/v2 (Swagger 2.0, JSON) with every served path and every published definition."""
    prefix = "#/definitions/"
    paths: dict[str, dict] = {}
    for r in RESOURCES:
        paths.update(_paths_for(r, prefix, v3=False))
    defs = json_schema_definitions()
    definitions = {name: _openapi_definition(name, schema, prefix, False)
                   for name, schema in sorted(defs.items())}
    doc = {"swagger": "2.0", "info": _info(), "paths": paths, "definitions": definitions,
           "securityDefinitions": {"BearerToken": {"type": "apiKey", "name": "authorization",
                                                   "in": "header"}},
           "security": [{"BearerToken": []}]}
    return json.dumps(doc, separators=(",", ":")).encode()


# -- server-side field validation (fieldValidation=Strict|Warn) -------------------------------------

def unknown_fields(obj: dict, group: str, version: str, kind: str) -> list[str]:
    """Paths of fields the published schema does not define ("spec.template.spec.containers[0].imagee"),
    which is what a real API server reports as 'strict decoding error: unknown field ...'."""
    return [path for _, _, path in _find_unknown(obj, group, version, kind)]


def prune_unknown(obj: dict, group: str, version: str, kind: str,
                  keep: frozenset[str] = frozenset()) -> list[str]:
    """Drop the fields the schema does not define (except the paths in keep), in place, and
    return their paths: a real API server decodes into typed structs (or prunes by a CRD's
    structural schema), so unknown fields are never stored."""
    found = [f for f in _find_unknown(obj, group, version, kind) if f[2] not in keep]
    for parent, key, _ in reversed(found):
        parent.pop(key, None)
    return [path for _, _, path in found]


def _find_unknown(obj: dict, group: str, version: str, kind: str) -> list[tuple[dict, str, str]]:
    name = definition_for(group, version, kind)
    if name is None:
        return []
    defs = json_schema_definitions()
    found: list[tuple[dict, str, str]] = []
    _walk_unknown(obj, defs[name], defs, "", found)
    return found


def _resolve(schema: dict, defs: dict[str, Any]) -> dict:
    while "$ref" in schema:
        schema = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _walk_unknown(value: Any, schema: dict, defs: dict[str, Any], path: str,
                  found: list[tuple[dict, str, str]]) -> None:
    schema = _resolve(schema, defs)
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if props is not None:
            for key, sub in value.items():
                child = f"{path}.{key}" if path else key
                if key in props:
                    _walk_unknown(sub, props[key], defs, child, found)
                elif isinstance(extra, dict):
                    _walk_unknown(sub, extra, defs, child, found)
                else:
                    found.append((value, key, child))
        elif isinstance(extra, dict):
            for key, sub in value.items():
                _walk_unknown(sub, extra, defs, f"{path}[{key}]" if path else key, found)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _walk_unknown(item, schema["items"], defs, f"{path}[{i}]", found)
