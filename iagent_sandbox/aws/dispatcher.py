"""Routes one AWS request: the EKS operations the sandbox adds or changes are served here, the rest
go to moto. Runs synchronously under the engine lock (on the engine's thread for gateway traffic,
on the caller's thread for seeding), settling lazy state first so every answer is current."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote

from ..clock import SandboxClock
from . import eks_errors as err
from .addons import Addons
from .engine import HttpReply, HttpRequest, MotoEngine
from .fargate import FargateProfiles
from .nodegroups import NodegroupUpdates
from .target_health import TargetHealthOverrides
from .timings import AwsTimings
from .updates import UpdateLog

Handler = Callable[["Dispatcher", HttpRequest, list[str], dict[str, list[str]]], HttpReply]
_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _ROUTES.append((method, re.compile(f"^{pattern}$"), handler))
        return handler

    return register


class Dispatcher:
    def __init__(self, engine: MotoEngine, clock: SandboxClock, timings: AwsTimings) -> None:
        self.engine = engine
        self.clock = clock
        self.updates = UpdateLog()
        self.profiles = FargateProfiles(engine, clock, timings)
        self.nodegroups = NodegroupUpdates(engine, clock, timings, self.updates)
        self.addons = Addons(engine, clock, timings, self.updates)
        self.target_health = TargetHealthOverrides()

    def settle(self) -> None:
        with self.engine.lock:
            self.profiles.settle()
            self.nodegroups.settle()
            self.addons.settle()

    def handle(self, request: HttpRequest) -> HttpReply:
        with self.engine.lock:
            self.settle()
            if request.service == "eks":
                return self._eks(request)
            if request.service == "iam":
                self.engine.backend("iam")  # installs the AWS managed policies moto leaves out
            if request.service == "elasticloadbalancing":
                self.target_health.install(self.engine.backend("elbv2"))
            return self.engine.call(request)

    def _eks(self, request: HttpRequest) -> HttpReply:
        path = request.path
        query = parse_qs(request.query_string, keep_blank_values=True)
        for method, pattern, handler in _ROUTES:
            if method != request.method:
                continue
            match = pattern.match(path)
            if match:
                try:
                    return handler(self, request, [unquote(g) for g in match.groups()], query)
                except err.EksApiError as exc:
                    return exc.reply()
                except json.JSONDecodeError as exc:
                    return err.InvalidParameter(f"The request body is not valid JSON: {exc}").reply()
                except Exception as exc:  # moto's own EKS errors, raised by direct backend calls
                    response = getattr(exc, "response", None)
                    if callable(response) and hasattr(exc, "STATUS"):
                        status, headers, body = response()
                        # moto puts the status itself among the headers; keep real header strings only.
                        clean = {str(k): str(v) for k, v in headers.items() if k.lower() != "status"}
                        return HttpReply(int(status), body.encode(), {**clean, "Content-Type": "application/json"})
                    raise
        return self.engine.call(request)


def _int(query: dict[str, list[str]], key: str, default: int) -> int:
    values = query.get(key)
    try:
        return int(values[0]) if values else default
    except ValueError:
        raise err.InvalidParameter(f"{key} must be an integer, got {values[0]!r}") from None


def _one(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values and values[0] else None


# -- Fargate profiles (moto stores them; we validate and pace them) ---------------------------
@route("POST", r"/clusters/([^/]+)/fargate-profiles")
def _create_profile(d: Dispatcher, req: HttpRequest, args: list[str], q: Any) -> HttpReply:
    return d.profiles.create(req, args[0])


@route("DELETE", r"/clusters/([^/]+)/fargate-profiles/([^/]+)")
def _delete_profile(d: Dispatcher, req: HttpRequest, args: list[str], q: Any) -> HttpReply:
    return d.profiles.delete(req, args[0], args[1])


# -- clusters ---------------------------------------------------------------------------------
@route("DELETE", r"/clusters/([^/]+)")
def _delete_cluster(d: Dispatcher, req: HttpRequest, args: list[str], q: Any) -> HttpReply:
    cluster = d.engine.backend("eks").clusters.get(args[0])
    busy = d.profiles.in_flight(cluster) if cluster is not None else None
    if busy and busy[1] == "DELETING":
        raise err.ResourceInUse(
            f"Cannot delete because cluster {args[0]} currently has Fargate profile {busy[0]} in status DELETING",
            clusterName=args[0],
        )
    reply = d.engine.call(req)
    if reply.status == 200:
        d.addons.forget_cluster(args[0])
    return reply


# -- node groups ------------------------------------------------------------------------------
@route("POST", r"/clusters/([^/]+)/node-groups/([^/]+)/update-config")
def _update_nodegroup(d: Dispatcher, req: HttpRequest, args: list[str], q: Any) -> HttpReply:
    return d.nodegroups.update_config(args[0], args[1], req.json)


# -- add-ons ----------------------------------------------------------------------------------
@route("POST", r"/clusters/([^/]+)/addons")
def _create_addon(d: Dispatcher, req: HttpRequest, args: list[str], q: Any) -> HttpReply:
    return d.addons.create(args[0], req.json)


@route("GET", r"/clusters/([^/]+)/addons")
def _list_addons(d: Dispatcher, req: HttpRequest, args: list[str], q: Any) -> HttpReply:
    return d.addons.list(args[0], _int(q, "maxResults", 100), _one(q, "nextToken"))


@route("GET", r"/clusters/([^/]+)/addons/([^/]+)")
def _describe_addon(d: Dispatcher, req: HttpRequest, args: list[str], q: Any) -> HttpReply:
    return d.addons.describe(args[0], args[1])


@route("POST", r"/clusters/([^/]+)/addons/([^/]+)/update")
def _update_addon(d: Dispatcher, req: HttpRequest, args: list[str], q: Any) -> HttpReply:
    return d.addons.update(args[0], args[1], req.json)


@route("DELETE", r"/clusters/([^/]+)/addons/([^/]+)")
def _delete_addon(d: Dispatcher, req: HttpRequest, args: list[str], q: Any) -> HttpReply:
    return d.addons.delete(args[0], args[1])


@route("GET", r"/addons/supported-versions")
def _addon_versions(d: Dispatcher, req: HttpRequest, args: list[str], q: Any) -> HttpReply:
    return d.addons.describe_versions(q)


@route("GET", r"/addons/configuration-schemas")
def _addon_schema(d: Dispatcher, req: HttpRequest, args: list[str], q: Any) -> HttpReply:
    return d.addons.describe_configuration(q)


# -- updates ------------------------------------------------------------------------------------
@route("GET", r"/clusters/([^/]+)/updates")
def _list_updates(d: Dispatcher, req: HttpRequest, args: list[str], q: Any) -> HttpReply:
    cluster = args[0]
    if cluster not in d.engine.backend("eks").clusters:
        raise err.cluster_not_found(cluster)
    ids = d.updates.ids(cluster, _one(q, "nodegroupName"), _one(q, "addonName"))
    max_results = _int(q, "maxResults", 100)
    token = _one(q, "nextToken")
    start = ids.index(token) if token in ids else 0
    end = min(start + max(1, max_results), len(ids))
    out: dict[str, Any] = {"updateIds": ids[start:end]}
    if end < len(ids):
        out["nextToken"] = ids[end]
    return HttpReply.json(200, out)


@route("GET", r"/clusters/([^/]+)/updates/([^/]+)")
def _describe_update(d: Dispatcher, req: HttpRequest, args: list[str], q: Any) -> HttpReply:
    cluster, update_id = args
    if cluster not in d.engine.backend("eks").clusters:
        raise err.cluster_not_found(cluster)
    record = d.updates.get(cluster, update_id, _one(q, "nodegroupName"), _one(q, "addonName"))
    return HttpReply.json(200, {"update": record.to_api()})
