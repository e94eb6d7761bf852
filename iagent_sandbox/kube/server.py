"""The sandbox's Kubernetes API server: HTTPS on loopback, bearer-token auth, Kubernetes REST.

Built on aiohttp over the ObjectStore. kubectl, kubernetes_asyncio and the official sync client
talk to it exactly as to EKS: the kubeconfig carries this server's CA (``ca_pem``) and a bearer token.
This module owns the HTTP plumbing (TLS, auth, the Date header in simulated time, errors as
``Status``) and maps URL paths to handlers; the handlers live in ``routes`` (stored resources),
``pod_logs``, ``metrics_api``, ``discovery`` and ``openapi``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from email.utils import format_datetime
from typing import Awaitable, Callable, Sequence

from aiohttp import web

from ..clock import SandboxClock
from . import apiservices, discovery, openapi
from .authz import (ADMIN, AUTHORIZER_KEY, MASTERS, USER_KEY, Authorizer, UserInfo,
                    request_attributes)
from .errors import ApiError, json_response, method_not_allowed, not_found_path
from .exec_ws import PodExec
from .metrics_api import MetricsApi
from .pod_logs import PodLogs
from .portforward import PodPortForward
from .resources import RESOURCES, rt_for_path
from .routes import ResourceRoutes
from .sources import AppSource, LogSource, MetricsSource
from .tls import generate_tls
from .watch_http import Target

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# An authenticator answers a bearer token with the user it belongs to (True: the admin), or None.
Authenticator = Callable[[str], "UserInfo | bool | None"]
MAX_BODY = 3 * 1024 * 1024  # a real API server refuses request bodies over 3 MiB


def status_response(err: ApiError) -> web.Response:
    return json_response(err.to_status(), status=err.status)


class KubeApiServer:
    def __init__(self, store, clock: SandboxClock, token: str, *,
                 metrics: MetricsSource | None = None, logs: LogSource | None = None,
                 authenticators: Sequence[Authenticator] = (),
                 apps: AppSource | None = None) -> None:
        if not token:
            raise ValueError("the static sandbox token must not be empty")
        self.store = store
        self.clock = clock
        self._token: str | None = token
        self._authenticators = list(authenticators)
        self._users: dict[str, UserInfo] = {}  # further static tokens (the read-only user)
        self.authorizer = Authorizer(store)
        self._tls = generate_tls()
        self.ca_pem: bytes = self._tls.ca_pem
        self.url: str = ""
        self._runner: web.AppRunner | None = None
        self.resources = ResourceRoutes(store, clock)
        self.logs = PodLogs(store, clock, logs)
        self.metrics = MetricsApi(store, clock, metrics) if metrics is not None else None
        self.exec = PodExec(store, clock, apps, logs)  # pods/exec, pods/attach
        self.port_forward = PodPortForward(store, clock, apps)

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._runner is not None:
            raise RuntimeError("the API server is already running")
        apiservices.register(self.store, with_metrics=self.metrics is not None)
        app = web.Application(middlewares=[self._errors, self._auth], client_max_size=MAX_BODY)
        app.router.add_route("*", "/{path:.*}", self._dispatch)
        app.on_response_prepare.append(self._stamp_date)
        # handler_cancellation: a watch or log stream ends when its client goes away.
        runner = web.AppRunner(app, handler_cancellation=True, access_log=None,
                               shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port, ssl_context=self._tls.server_context())
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]  # the free port picked when port=0
        self.url = f"https://{host}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is None:
            return
        self.drop_watches()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    # -- faults -----------------------------------------------------------------------------------
    def expire_token(self) -> None:
        """The static token stops working (like an EKS token past its 15 minutes)."""
        self._token = None

    def set_token(self, token: str) -> None:
        if not token:
            raise ValueError("token must not be empty")
        self._token = token

    def add_token(self, token: str, user: UserInfo) -> None:
        """Accept ``token`` as ``user`` (RBAC decides what that user may do)."""
        if not token or token == self._token:
            raise ValueError("a user's token must be non-empty and differ from the admin token")
        self._users[token] = user

    def drop_watches(self) -> None:
        """End every open watch and log stream, as an API server restart does."""
        self.resources.close_streams()
        self.logs.close_streams()
        self.store.close_all_watches()  # and any watch not being served over HTTP right now

    # -- middleware -------------------------------------------------------------------------------
    def _authenticated(self, header: str) -> UserInfo | None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if self._token is not None and hmac.compare_digest(token.encode(), self._token.encode()):
            return ADMIN
        for known, user in self._users.items():
            if hmac.compare_digest(token.encode(), known.encode()):
                return user
        for check in self._authenticators:
            try:
                user = check(token)
            except Exception:  # noqa: BLE001 - a broken verifier must not open the door
                log.exception("authenticator failed")
                continue
            if isinstance(user, UserInfo):
                return user
            if user is True:
                return ADMIN
        return None

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        user = self._authenticated(request.headers.get("Authorization", ""))
        if user is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        # Authorization precedes routing, as in kube-apiserver: a denied user learns nothing
        # about whether the object or even the path exists.
        if MASTERS not in user.groups:  # the privileged group skips RBAC, as in kube-apiserver
            self.authorizer.check(user, request_attributes(request.method, request.path, request.query))
        request[USER_KEY] = user
        request[AUTHORIZER_KEY] = self.authorizer
        return await handler(request)

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as err:
            return status_response(err)
        except web.HTTPRequestEntityTooLarge:
            return status_response(ApiError(413, "RequestEntityTooLarge",
                                            "the request body is larger than 3 MiB"))
        except (asyncio.CancelledError, ConnectionResetError):
            raise
        except Exception as exc:  # noqa: BLE001 - every failure reaches the client as a Status
            log.exception("unhandled error serving %s %s", request.method, request.path)
            return status_response(ApiError(500, "InternalError",
                                            f"Internal error occurred: {type(exc).__name__}: {exc}"))

    async def _stamp_date(self, request: web.Request, response: web.StreamResponse) -> None:
        # The sandbox's clock is the cluster's clock: clients see simulated time, as they would
        # see a server's own clock.
        response.headers["Date"] = format_datetime(self.clock.now(), usegmt=True)
        response.headers.setdefault("Cache-Control", "no-cache, private")

    # -- routing ----------------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        segs = [s for s in request.path.split("/") if s]
        if not segs:
            return self._paths()
        head = segs[0]
        if head in ("healthz", "livez", "readyz") and len(segs) == 1:
            return web.Response(text="ok", content_type="text/plain")
        if head == "version" and len(segs) == 1:
            return json_response(discovery.VERSION_INFO)
        if head == "openapi":
            return self._openapi(request, segs[1:])
        if head == "api":
            if len(segs) == 1:
                return self._discovery(request, core=True)
            return await self._group_version(request, "", segs[1], segs[2:])
        if head == "apis":
            if len(segs) == 1:
                return self._discovery(request, core=False)
            if len(segs) == 2:
                return self._get_only(request, discovery.api_group(
                    segs[1], with_metrics=self.metrics is not None))
            return await self._group_version(request, segs[1], segs[2], segs[3:])
        raise not_found_path()

    def _paths(self) -> web.Response:
        paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v2", "/openapi/v3",
                 "/readyz", "/version"]
        paths += sorted({f"/apis/{r.group}" for r in discovery.served_types() if r.group}
                        | {f"/apis/{r.group}/{r.version}" for r in discovery.served_types() if r.group})
        return json_response({"paths": sorted(paths)})

    def _get_only(self, request: web.Request, doc: dict | None) -> web.Response:
        if doc is None:
            raise not_found_path()
        if request.method != "GET":
            raise method_not_allowed()
        return json_response(doc)

    def _discovery(self, request: web.Request, core: bool) -> web.Response:
        if request.method != "GET":
            raise method_not_allowed()
        if discovery.wants_aggregated(request.headers.get("Accept", "")):
            doc = discovery.aggregated(core, with_metrics=self.metrics is not None)
            return web.Response(body=json.dumps(doc).encode(),
                                headers={"Content-Type": discovery.AGGREGATED_CONTENT_TYPE})
        if core:
            return json_response(discovery.api_versions())
        return json_response(discovery.api_group_list(with_metrics=self.metrics is not None))

    def _openapi(self, request: web.Request, rest: list[str]) -> web.Response:
        if request.method != "GET":
            raise method_not_allowed()
        if rest == ["v2"]:
            accept = request.headers.get("Accept", "")
            if "protobuf" in accept and "json" not in accept:
                # kubectl asks for the protobuf encoding only; answering 406 makes it fall back
                # rather than choke on JSON it cannot parse as protobuf.
                raise ApiError(406, "NotAcceptable",
                               "only application/json is supported for /openapi/v2 by the sandbox")
            return web.Response(body=openapi.v2_document(), content_type="application/json")
        if rest == ["v3"]:
            return web.Response(body=openapi.v3_index(), content_type="application/json")
        if len(rest) >= 3 and rest[0] == "v3":
            doc = openapi.v3_document("/".join(rest[1:]))
            if doc is not None:
                return web.Response(body=doc, content_type="application/json")
        raise not_found_path()

    async def _group_version(self, request: web.Request, group: str, version: str,
                             rest: list[str]) -> web.StreamResponse:
        if group == "metrics.k8s.io" and version == "v1beta1" and self.metrics is not None:
            if not rest:
                return self._get_only(request, discovery.resource_list(group, version))
            return await self.metrics.handle(request, rest)
        if not rest:
            return self._get_only(request, discovery.resource_list(group, version)
                                  if any(r.group == group and r.version == version for r in RESOURCES)
                                  else None)
        watch_path = rest[0] == "watch"
        if watch_path:
            rest = rest[1:]
        target = parse_target(group, version, rest)
        if target is None:
            raise not_found_path()
        target.legacy_watch = watch_path
        if target.subresource == "log":
            if request.method != "GET":
                raise method_not_allowed()
            return await self.logs.handle(request, target)
        if target.subresource in ("exec", "attach"):
            return await self.exec.handle(request, target)
        if target.subresource == "portforward":
            return await self.port_forward.handle(request, target)
        return await self.resources.handle(request, target)


def parse_target(group: str, version: str, segs: list[str]) -> Target | None:
    """Map the path after /api/v1 or /apis/<g>/<v> to a resource type, namespace, name, subresource."""
    namespace = None
    if len(segs) >= 3 and segs[0] == "namespaces":
        r = rt_for_path(group, version, segs[2])
        if r is not None and r.namespaced:
            namespace = segs[1]
            segs = segs[2:]
    if not segs:
        return None
    r = rt_for_path(group, version, segs[0])
    if r is None or len(segs) > 3:
        return None
    if namespace is None and r.namespaced and len(segs) > 1:
        return None  # a namespaced object must be addressed under /namespaces/<ns>/
    name = segs[1] if len(segs) >= 2 else None
    sub = segs[2] if len(segs) == 3 else None
    if sub is not None and sub not in r.subresources:
        return None
    return Target(rt=r, namespace=namespace, name=name, subresource=sub)
