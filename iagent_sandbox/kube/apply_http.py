"""HTTP side of server-side apply: PATCH with ``application/apply-patch+yaml``, ``fieldManager``
and ``force`` (what ``kubectl apply --server-side`` and ``kubectl diff --server-side`` send), and
the field manager of every other write, recorded in ``metadata.managedFields``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import yaml
from aiohttp import web

from . import apply as ssa
from .errors import ApiError, bad_request, modified_conflict, not_found
from .watch_http import Target
from .watch_http import true_param as _true

if TYPE_CHECKING:
    from .routes import ResourceRoutes

MAX_MANAGER = 128


def _patch_options_invalid(field: str, kind: str, detail: str) -> ApiError:
    """ValidatePatchOptions' 422, as the API server words it."""
    reason = {"Required value": "FieldValueRequired", "Forbidden": "FieldValueForbidden",
              "Too long": "FieldValueTooLong"}[kind]
    return ApiError(422, "Invalid",
                    f'PatchOptions.meta.k8s.io "" is invalid: {field}: {kind}: {detail}',
                    {"group": "meta.k8s.io", "kind": "PatchOptions",
                     "causes": [{"reason": reason, "message": f"{kind}: {detail}", "field": field}]})


def manager_of(request: web.Request) -> str:
    """fieldManager, else the User-Agent's product ("kubectl", "OpenAPI-Generator"), as the
    API server names the manager of an update that does not say."""
    name = request.query.get("fieldManager")
    if name:
        if len(name) > MAX_MANAGER:
            raise _patch_options_invalid("fieldManager", "Too long",
                                         f"may not be more than {MAX_MANAGER} bytes")
        return name
    return request.headers.get("User-Agent", "").split("/")[0][:MAX_MANAGER]


def update_recorder(request: web.Request, t: Target, clock) -> Callable:
    """The store recorder for an Update (create, PUT, non-apply PATCH) by this request's manager."""
    manager = manager_of(request)
    if _true(request.query.get("force")):
        raise _patch_options_invalid("force", "Forbidden", "may not be specified for non-apply patch")

    def record(rt, old, new) -> None:
        ssa.record_update(rt, old, new, manager, clock.now(), t.subresource or "")
    return record


def _read_config(raw: bytes) -> dict:
    try:
        config = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise bad_request(f"error decoding YAML: {exc}") from None
    if not isinstance(config, dict):
        raise bad_request("error decoding YAML: the apply configuration must be an object")
    return config


async def serve_apply(routes: "ResourceRoutes", request: web.Request, t: Target) -> web.Response:
    from .routes import check_kind, dry_run, field_validation

    manager = request.query.get("fieldManager")
    if not manager:
        raise _patch_options_invalid("fieldManager", "Required value", "is required for apply patch")
    manager = manager_of(request)
    if t.subresource not in (None, "status"):
        raise ApiError(415, "UnsupportedMediaType",
                       f'the body of the request was in an unknown format - accepted media types '
                       f'include: application/json-patch+json, application/merge-patch+json')
    config = _read_config(await request.read())
    if not config.get("apiVersion") or not config.get("kind"):
        raise bad_request(f"invalid object type: {config.get('apiVersion', '')}, "
                          f"Kind={config.get('kind', '')}")
    check_kind(config, t.rt)
    meta = config.setdefault("metadata", {})
    if meta.get("name") not in (None, t.name):
        raise bad_request(f"the name of the object ({meta.get('name')}) does not match the name "
                          f"on the URL ({t.name})")
    if t.namespace is not None and meta.get("namespace") not in (None, "", t.namespace):
        raise bad_request("the namespace of the provided object does not match the namespace "
                          "sent on the request")
    if meta.get("managedFields") is not None:
        raise bad_request("metadata.managedFields must be nil")
    meta["name"] = t.name
    if t.namespace is not None:
        meta["namespace"] = t.namespace
    store, rt = routes.store, t.rt
    live = store.get(rt, t.namespace, t.name)
    warnings, _ = field_validation(request, config, rt, live)
    rv = meta.pop("resourceVersion", None)
    if live is not None and rv and rv != live["metadata"]["resourceVersion"]:
        raise modified_conflict(rt, t.name)
    force = _true(request.query.get("force"))
    with store.dry_run(dry_run(request)):
        result = ssa.apply(rt, live, config, manager, force, routes.clock.now(),
                           t.subresource or "")
        if live is None:
            if t.subresource:
                raise not_found(rt, t.name)
            managed = result["metadata"].pop("managedFields")
            with store.recording(lambda _rt, _old, new: new["metadata"].__setitem__(
                    "managedFields", managed)):
                created = store.create(rt, result, namespace=t.namespace)
            return routes._single(request, t, created, status=201, warnings=warnings)
        if result is live:
            return routes._single(request, t, live, warnings=warnings)
        managed = result["metadata"]["managedFields"]
        with store.recording(lambda _rt, _old, new: new["metadata"].__setitem__(
                "managedFields", managed)):
            stored = store.replace_status(rt, result) if t.subresource == "status" \
                else store.replace(rt, result)
    return routes._single(request, t, stored, warnings=warnings)
