"""The sandbox's AWS endpoint: one aiohttp server on loopback that every AWS client is pointed at
(``AWS_ENDPOINT_URL``). It checks the request's SigV4 signature and the caller's IAM policy
(``access.AccessGuard``), injects faults, hands the request to the dispatcher on the engine thread,
and afterwards tells add-on listeners about configuration changes on this event loop."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .dispatcher import Dispatcher
from .engine import HttpReply, HttpRequest
from .faults import FaultDecision, FaultInjector
from .protocol import server_error_reply, signing_service

log = logging.getLogger(__name__)

AddonListener = Callable[[str, str, dict[str, Any]], Awaitable[None] | None]
MAX_BODY = 16 * 1024 * 1024


class Gateway:
    def __init__(self, dispatcher: Dispatcher, faults: FaultInjector,
                 listeners: Callable[[], list[AddonListener]],
                 guard: Callable[[HttpRequest], HttpReply | None] | None = None) -> None:
        self.dispatcher = dispatcher
        self.guard = guard  # None when the reply may be served; else AWS's auth error
        self.faults = faults
        self.listeners = listeners  # read at each notification: the owner may replace its list
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.endpoint = ""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # No access log: request lines carry signed Authorization headers' key ids.
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        bound_host, bound_port = server.sockets[0].getsockname()[:2]
        self.endpoint = f"http://{bound_host}:{bound_port}"
        return self.endpoint

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items()}
        service = signing_service(headers)
        aws_request = HttpRequest(
            method=request.method,
            path=request.raw_path.split("?", 1)[0],
            query_string=request.query_string,
            headers=headers,
            body=body,
            service=service,
        )
        loop = asyncio.get_running_loop()
        executor = self.dispatcher.engine.executor
        # AWS authenticates and authorizes before anything else, throttling included.
        denied = await loop.run_in_executor(executor, self.guard, aws_request) if self.guard else None
        if denied is not None:
            return web.Response(status=denied.status, body=denied.body, headers=denied.headers)
        try:
            decision = self.faults.decide(service)
        except ValueError:
            # Fault fields edited in place to invalid values: say so here, serve without faults.
            log.exception("invalid AWS sandbox fault settings; serving without faults")
            decision = FaultDecision()
        if decision.latency_seconds:
            await asyncio.sleep(decision.latency_seconds)
        if decision.reply is not None:
            reply = decision.reply
        else:
            try:
                reply = await loop.run_in_executor(executor, self.dispatcher.handle, aws_request)
            except Exception:
                # A sandbox bug must still look like an AWS 500 to the client, and be visible here.
                log.exception("AWS sandbox failed on %s %s", request.method, request.path)
                reply = server_error_reply(service, unavailable=False)
            self._notify()
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers)

    def _notify(self) -> None:
        with self.dispatcher.engine.lock:
            pending = list(self.dispatcher.addons.notifications)
            self.dispatcher.addons.notifications.clear()
        for cluster, addon, config in pending:
            for listener in list(self.listeners()):
                try:
                    result = listener(cluster, addon, config)
                except Exception:
                    log.exception("add-on listener failed for %s/%s", cluster, addon)
                    continue
                if inspect.isawaitable(result):
                    task = asyncio.ensure_future(result)
                    self._tasks.add(task)
                    task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("add-on listener failed", exc_info=task.exception())
