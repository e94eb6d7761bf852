"""REST verbs for the stored resource types: get, list, watch, create, update, patch, delete.

One ``Target`` (resource type, namespace, name, subresource) per request, parsed by the server.
The semantics (resourceVersion, conflicts, defaults, garbage collection) belong to the ObjectStore;
this module speaks HTTP: query parameters, bodies, content types, tables and watch streams.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import yaml
from aiohttp import web

from ..clock import SandboxClock
from . import apply_http, openapi, protobuf, reviews, tables
from .authz import AUTHORIZER_KEY, USER_KEY
from .errors import (ApiError, bad_request, json_response, method_not_allowed, not_found,
                     unsupported_media_type)
from .eviction import evict
from .patch import apply_patch
from .resources import ResourceType
from .watch_http import Target, WatchStreams
from .watch_http import int_param as _int_param
from .watch_http import true_param as _true

PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json")
BODY_TYPES = ("application/json", "application/yaml")
APPLY_PATCH = "application/apply-patch+yaml"
DEFAULT_WATCH_TIMEOUT = 1800.0  # wall seconds; a real server picks 30-60 min
BOOKMARK_EVERY_SIM = 60.0
# Registries with ReturnDeletedObject (kubernetes/pkg/registry): DELETE answers with the object.
RETURNS_DELETED_OBJECT = frozenset({"pods", "services", "serviceaccounts", "persistentvolumes",
                                    "persistentvolumeclaims"})  # simulated seconds between bookmarks, like a real server's ~1 min


def _media_type(request: web.Request) -> str:
    return request.headers.get("Content-Type", "application/json").split(";")[0].strip().lower()


async def read_object(request: web.Request, rt: ResourceType) -> dict:
    """The request body as an object of rt's kind; anything else is a 400 BadRequest."""
    media = _media_type(request)
    if media == protobuf.CONTENT_TYPE:
        try:  # kubectl create rolebinding sends protobuf
            return protobuf.decode(await request.read())
        except (ValueError, IndexError):
            raise unsupported_media_type(BODY_TYPES) from None
    if media not in BODY_TYPES:
        raise unsupported_media_type(BODY_TYPES)
    raw = await request.read()
    if not raw.strip():
        raise bad_request("the request body is empty: send a JSON object")
    try:
        body = yaml.safe_load(raw) if media == "application/yaml" else json.loads(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request(f"couldn't get version/kind; json parse error: expected a JSON object, "
                          f"got {type(body).__name__}")
    return body


def check_kind(body: dict, rt: ResourceType, kind: str | None = None,
               api_version: str | None = None) -> None:
    """Reject an object of another kind or apiVersion than the endpoint serves (no conversion)."""
    kind, api_version = kind or rt.kind, api_version or rt.api_version
    got_version, got_kind = body.get("apiVersion"), body.get("kind")
    if got_version is not None and got_version != api_version:
        raise bad_request(f"the API version in the data ({got_version}) does not match the "
                          f"expected API version ({api_version})")
    if got_kind is not None and got_kind != kind:
        raise bad_request(f'{got_kind} in version "{api_version.rpartition("/")[2]}" cannot be '
                          f"handled as a {kind}: the kind in the data ({got_kind}) does not "
                          f"match the expected kind ({kind})")
    if not isinstance(body.get("metadata", {}), dict):
        raise bad_request(f'{kind} in version "{api_version.rpartition("/")[2]}" cannot be handled '
                          f"as a {kind}: metadata must be an object")


def field_validation(request: web.Request, body: dict, rt: ResourceType,
                     current: dict | None = None) -> tuple[list[str], bool]:
    """Server-side field validation (kubectl sends fieldValidation=Strict): unknown fields are an
    error under Strict; otherwise they are dropped (never stored, as a real server decodes into
    typed objects), with a Warning under Warn, the server default. Fields the stored object
    already has (written by the simulated controllers) are left alone, so a read-modify-write
    round trip always works. Returns the warnings to send and whether anything was dropped."""
    mode = _field_validation_mode(request)
    known_before = frozenset(openapi.unknown_fields(current, rt.group, rt.version, rt.kind)) \
        if current is not None else frozenset()
    unknown = [f for f in openapi.unknown_fields(body, rt.group, rt.version, rt.kind)
               if f not in known_before]
    if not unknown:
        return [], False
    if mode == "Strict":
        fields = ", ".join(f'unknown field "{f}"' for f in unknown)
        raise bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                          f"strict decoding error: {fields}")
    openapi.prune_unknown(body, rt.group, rt.version, rt.kind, keep=known_before)
    return ([f'unknown field "{f}"' for f in unknown] if mode == "Warn" else []), True


def _field_validation_mode(request: web.Request) -> str:
    mode = request.query.get("fieldValidation", "Warn")
    if mode not in ("Ignore", "Warn", "Strict"):
        raise bad_request(f'fieldValidation must be one of "Ignore", "Warn" or "Strict", got "{mode}"')
    return mode


def _warning_headers(warnings: list[str]) -> dict[str, str]:
    # One Warning header may carry several comma-separated warn-values (RFC 7234).
    if not warnings:
        return {}
    return {"Warning": ", ".join('299 - "' + w.replace('"', '\\"') + '"' for w in warnings)}


def dry_run(request: web.Request) -> bool:
    """dryRun=All (kubectl --dry-run=server, kubectl diff): answer as the write would, store
    nothing. All is the only value a real server accepts."""
    values = request.query.getall("dryRun", [])
    for value in values:
        if value != "All":
            raise bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
    return bool(values)


class ResourceRoutes:
    def __init__(self, store, clock: SandboxClock) -> None:
        self.store = store
        self.clock = clock
        self.watches = WatchStreams(store, clock)

    def close_streams(self) -> None:
        self.watches.close_all()

    # -- dispatch ---------------------------------------------------------------------------------
    async def handle(self, request: web.Request, t: Target) -> web.StreamResponse:
        m = request.method
        if t.legacy_watch:
            if m != "GET" or t.subresource:
                raise method_not_allowed()
            return await self.watches.serve(request, t)
        if t.rt.is_review:
            if m == "POST" and t.name is None:
                body = await read_object(request, t.rt)
                check_kind(body, t.rt)
                return self._json(reviews.answer(t.rt, body, request.get(USER_KEY),
                                                 request.get(AUTHORIZER_KEY)), 201)
            raise method_not_allowed()
        if t.name is None:
            if m == "GET":
                if _true(request.query.get("watch")):
                    return await self.watches.serve(request, t)
                return self.list(request, t)
            if m == "POST" and (t.namespace is not None or not t.rt.namespaced):
                return await self.create(request, t)
            if m == "DELETE" and (t.namespace is not None or not t.rt.namespaced):
                return await self.delete_collection(request, t)
        elif t.subresource == "eviction":
            if m == "POST":
                body = await read_object(request, t.rt)
                check_kind(body, t.rt, kind="Eviction", api_version="policy/v1")
                with self.store.dry_run(dry_run(request)):
                    answer = evict(self.store, self.clock, t.namespace, t.name, body)
                return self._json(answer, 201)
        elif t.subresource == "scale":
            if m == "GET":
                return self._json(self.store.get_scale(t.rt, t.namespace, t.name))
            if m in ("PUT", "PATCH"):
                return await self.update_scale(request, t)
        elif t.subresource == "status":
            if m == "GET":
                return self._single(request, t, self._get(t))
            if m == "PUT":
                return await self.replace(request, t, status=True)
            if m == "PATCH":
                return await self.patch(request, t)
        else:
            if m == "GET":
                return self._single(request, t, self._get(t))
            if m == "PUT":
                return await self.replace(request, t, status=False)
            if m == "PATCH":
                return await self.patch(request, t)
            if m == "DELETE":
                return await self.delete(request, t)
        raise method_not_allowed()

    def _recording(self, request: web.Request, t: Target):
        """managedFields: the write about to be made is an Update by the request's manager."""
        return self.store.recording(apply_http.update_recorder(request, t, self.clock))

    # -- reads ------------------------------------------------------------------------------------
    def _get(self, t: Target) -> dict:
        obj = self.store.get(t.rt, t.namespace, t.name)
        if obj is None:
            raise not_found(t.rt, t.name or "")
        return obj

    def _json(self, body: Any, status: int = 200, warnings: list[str] | None = None) -> web.Response:
        return json_response(body, status=status, headers=_warning_headers(warnings or []))

    def _single(self, request: web.Request, t: Target, obj: dict, status: int = 200,
                warnings: list[str] | None = None) -> web.Response:
        accept = request.headers.get("Accept", "")
        if tables.wants_table(accept):
            table = tables.build_table(t.rt.plural, [obj], self.clock.now(),
                                       include_object=request.query.get("includeObject", "Metadata"),
                                       api_version=tables.table_api_version(accept))
            return self._json(table, status, warnings)
        return self._json(obj, status, warnings)

    def list(self, request: web.Request, t: Target) -> web.Response:
        """limit/continue as a real server pages: in (namespace, name) order, every page showing
        the store at the first page's resourceVersion (the continue token carries it), 410
        Expired once the store's history no longer reaches back that far. Only the page is
        read and serialized."""
        at_rv, after = _continue_key(request.query.get("continue"))
        limit = _int_param(request, "limit")
        try:
            items, rv, last = self.store.list_page(
                t.rt, t.namespace, label_selector=request.query.get("labelSelector") or None,
                field_selector=request.query.get("fieldSelector") or None,
                limit=limit if limit and limit > 0 else None, after=after, at_rv=at_rv)
        except ApiError as exc:
            if exc.status == 410 and after is not None:
                # As a real server does: the Status carries a token to go on with, at today's
                # version (an inconsistent remainder, which the message explains).
                raise ContinueExpired(exc.message, _continue_token(self.store.resource_version,
                                                                   after)) from None
            raise
        cont = _continue_token(rv, last) if last is not None else ""
        remaining = None
        if last is not None and not request.query.get("labelSelector") \
                and not request.query.get("fieldSelector"):  # a real server counts only then
            remaining = self.store.count_after(t.rt, t.namespace, last, int(rv))
        accept = request.headers.get("Accept", "")
        if tables.wants_table(accept):
            table = tables.build_table(t.rt.plural, items, self.clock.now(), resource_version=rv,
                                       include_object=request.query.get("includeObject", "Metadata"),
                                       api_version=tables.table_api_version(accept))
            if cont:
                table["metadata"]["continue"] = cont
            if remaining is not None:
                table["metadata"]["remainingItemCount"] = remaining
            return self._json(table)
        meta: dict[str, Any] = {"resourceVersion": rv}
        if cont:
            meta["continue"] = cont
        if remaining is not None:
            meta["remainingItemCount"] = remaining
        return self._json({"kind": f"{t.rt.kind}List", "apiVersion": t.rt.api_version,
                           "metadata": meta, "items": items})

    # -- writes -----------------------------------------------------------------------------------
    async def create(self, request: web.Request, t: Target) -> web.Response:
        body = await read_object(request, t.rt)
        check_kind(body, t.rt)
        meta = body.setdefault("metadata", {})
        if t.namespace is not None and meta.get("namespace") not in (None, "", t.namespace):
            raise bad_request("the namespace of the provided object does not match the namespace "
                              "sent on the request")
        warnings, _ = field_validation(request, body, t.rt)
        with self.store.dry_run(dry_run(request)), self._recording(request, t):
            created = self.store.create(t.rt, body, namespace=t.namespace)
        return self._single(request, t, created, status=201, warnings=warnings)

    async def replace(self, request: web.Request, t: Target, status: bool) -> web.Response:
        body = await read_object(request, t.rt)
        check_kind(body, t.rt)
        meta = body.setdefault("metadata", {})
        if meta.get("name") not in (None, t.name):
            raise bad_request(f"the name of the object ({meta.get('name')}) does not match the "
                              f"name on the URL ({t.name})")
        if t.namespace is not None and meta.get("namespace") not in (None, "", t.namespace):
            raise bad_request("the namespace of the provided object does not match the namespace "
                              "sent on the request")
        meta["name"] = t.name
        if t.namespace is not None:
            meta["namespace"] = t.namespace
        warnings, _ = field_validation(request, body, t.rt, self._get(t))
        body.setdefault("apiVersion", t.rt.api_version)
        body.setdefault("kind", t.rt.kind)
        with self.store.dry_run(dry_run(request)), self._recording(request, t):
            updated = self.store.replace_status(t.rt, body) if status else self.store.replace(t.rt, body)
        return self._single(request, t, updated, warnings=warnings)

    async def patch(self, request: web.Request, t: Target) -> web.Response:
        media = _media_type(request)
        if media == APPLY_PATCH:
            return await apply_http.serve_apply(self, request, t)
        if media not in PATCH_TYPES:
            raise unsupported_media_type(PATCH_TYPES)
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise bad_request(f"error decoding patch: {exc}") from None
        if media == "application/json-patch+json" and not isinstance(body, list):
            raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        if media != "application/json-patch+json" and not isinstance(body, dict):
            raise bad_request("error decoding patch: a merge patch must be a JSON object")
        with self.store.dry_run(dry_run(request)), self._recording(request, t):
            return self._patch(request, t, body, media)

    def _patch(self, request: web.Request, t: Target, body: Any, media: str) -> web.Response:
        current = self._get(t)
        if t.subresource == "scale":
            return self._json(self.store.patch(t.rt, t.namespace, t.name, body, media,
                                               subresource="scale"))
        # Preview the result to validate its fields before anything is stored.
        preview = apply_patch(t.rt, current, body, media)
        if not isinstance(preview, dict):
            raise bad_request("the patch did not produce an object")
        warnings, pruned = field_validation(request, preview, t.rt, current)  # Strict raises
        if not pruned:
            patched = self.store.patch(t.rt, t.namespace, t.name, body, media,
                                       subresource=t.subresource)
            return self._single(request, t, patched)
        # Store the pruned result as a replace at the version the preview started from: the same
        # change the patch makes, minus the fields a real server would have dropped.
        if t.subresource == "status":
            patched = self.store.replace_status(t.rt, preview)
        else:
            patched = self.store.replace(t.rt, preview)
        return self._single(request, t, patched, warnings=warnings)

    # -- scale ----------------------------------------------------------------------------------
    async def update_scale(self, request: web.Request, t: Target) -> web.Response:
        if request.method == "PUT":
            body = await read_object(request, t.rt)
            check_kind(body, t.rt, kind="Scale", api_version="autoscaling/v1")
            if (body.get("metadata") or {}).get("name") not in (None, t.name):
                raise bad_request(f"the name of the object ({body['metadata']['name']}) does not "
                                  f"match the name on the URL ({t.name})")
            with self.store.dry_run(dry_run(request)), self._recording(request, t):
                return self._json(self.store.replace_scale(t.rt, t.namespace, t.name, body))
        return await self.patch(request, t)

    # -- deletes ----------------------------------------------------------------------------------
    async def _delete_options(self, request: web.Request) -> dict:
        opts: dict[str, Any] = {}
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from None
            if not isinstance(body, dict):
                raise bad_request("DeleteOptions must be a JSON object")
            if body.get("kind") not in (None, "DeleteOptions"):
                raise bad_request(f"the body must be DeleteOptions, got {body.get('kind')}")
            opts.update(body)
        grace = _int_param(request, "gracePeriodSeconds")
        if grace is not None:
            opts["gracePeriodSeconds"] = grace
        if request.query.get("propagationPolicy"):
            opts["propagationPolicy"] = request.query["propagationPolicy"]
        if _true(request.query.get("orphanDependents")) or opts.get("orphanDependents") is True:
            opts.setdefault("propagationPolicy", "Orphan")
        policy = opts.get("propagationPolicy", "Background")
        if policy not in ("Background", "Foreground", "Orphan"):
            raise bad_request(f'propagationPolicy must be one of "Background", "Foreground" or '
                              f'"Orphan", got "{policy}"')
        opts["propagationPolicy"] = policy
        if opts.get("gracePeriodSeconds") is not None and not isinstance(opts["gracePeriodSeconds"], int):
            raise bad_request("gracePeriodSeconds must be an integer")
        body_dry = opts.get("dryRun") or []  # kubectl delete --dry-run=server sends it in the body
        if not isinstance(body_dry, list) or any(v != "All" for v in body_dry):
            raise bad_request(f'dryRun: Unsupported value: {json.dumps(body_dry)}: supported values: "All"')
        opts["dryRun"] = dry_run(request) or bool(body_dry)
        return opts

    async def delete(self, request: web.Request, t: Target) -> web.Response:
        opts = await self._delete_options(request)
        self._get(t)
        with self.store.dry_run(opts["dryRun"]):
            result = self.store.delete(t.rt, t.namespace, t.name,
                                       grace_period_seconds=opts.get("gracePeriodSeconds"),
                                       propagation_policy=opts["propagationPolicy"],
                                       preconditions=opts.get("preconditions"))
            return self._json(self._delete_answer(t, result))

    def _delete_answer(self, t: Target, result: dict | None) -> dict:
        """What a real server answers: the object itself for the types whose registry returns
        deleted objects (pods, services, ... and custom resources) or while it is still
        terminating; a Success Status otherwise."""
        if result is not None:
            if t.rt.plural in RETURNS_DELETED_OBJECT or t.rt.is_custom:
                return result
            if result.get("metadata", {}).get("deletionTimestamp") \
                    and self.store.get(t.rt, t.namespace, t.name) is not None:
                return result
        details: dict[str, Any] = {"name": t.name, "kind": t.rt.plural}
        if t.rt.group:
            details["group"] = t.rt.group
        if result is not None and result.get("metadata", {}).get("uid"):
            details["uid"] = result["metadata"]["uid"]
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": details}

    async def delete_collection(self, request: web.Request, t: Target) -> web.Response:
        opts = await self._delete_options(request)
        items, _ = self.store.list(t.rt, t.namespace,
                                   label_selector=request.query.get("labelSelector") or None,
                                   field_selector=request.query.get("fieldSelector") or None)
        deleted = []
        for obj in items:
            meta = obj["metadata"]
            with self.store.dry_run(opts["dryRun"]):
                result = self.store.delete(t.rt, meta.get("namespace"), meta["name"],
                                           grace_period_seconds=opts.get("gracePeriodSeconds"),
                                           propagation_policy=opts["propagationPolicy"])
            deleted.append(result if result is not None else obj)
        return self._json({"kind": f"{t.rt.kind}List", "apiVersion": t.rt.api_version,
                           "metadata": {"resourceVersion": self.store.resource_version},
                           "items": deleted})


class ContinueExpired(ApiError):
    """410 Expired for a continue token too old to page consistently, with a fresh token."""

    def __init__(self, message: str, token: str) -> None:
        super().__init__(410, "Expired", message)
        self.token = token

    def to_status(self) -> dict[str, Any]:
        status = super().to_status()
        status["metadata"] = {"continue": self.token}
        return status


def _continue_token(rv: str, last: tuple[str, str]) -> str:
    raw = json.dumps({"rv": int(rv), "ns": last[0], "name": last[1]}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _continue_key(token: str | None) -> tuple[int | None, tuple[str, str] | None]:
    """(resourceVersion, last key served) from a continue token; (None, None) without one."""
    if not token:
        return None, None
    try:
        last = json.loads(base64.urlsafe_b64decode(token.encode()))
        rv, after = int(last["rv"]), (str(last["ns"]), str(last["name"]))
    except (ValueError, KeyError, TypeError):
        raise bad_request("continue key is not valid: use the value the previous list "
                          "returned") from None
    if rv <= 0:
        raise bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                          "(version meta.k8s.io/v1)")
    return rv, after
