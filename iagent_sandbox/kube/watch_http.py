"""Watch streams over HTTP: ``?watch=1`` and the legacy ``/watch/`` paths.

Chunked JSON lines ``{"type": ..., "object": ...}``. Without a resourceVersion (or with "0") the
stream starts with the current state as ADDED events; with one it resumes after it, or answers an
expired one with an ERROR event carrying a 410 Status, as a real API server does. Bookmarks come
every simulated minute when asked for; ``timeoutSeconds`` is wall time (the client's own clock).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from ..clock import SandboxClock
from . import tables
from .errors import ApiError, bad_request, go_json
from .resources import ResourceType

DEFAULT_WATCH_TIMEOUT = 1800.0  # wall seconds; a real server picks 30-60 min
BOOKMARK_EVERY_SIM = 60.0  # simulated seconds between bookmarks, like a real server's ~1 min


@dataclass
class Target:
    """What a request addresses: /api/v1/namespaces/<namespace>/<plural>/<name>/<subresource>."""

    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None
    legacy_watch: bool = False


def true_param(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


def int_param(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f'invalid value for {name}: "{raw}" is not an integer') from None



class WatchStreams:
    def __init__(self, store, clock: SandboxClock) -> None:
        self.store = store
        self.clock = clock
        self._watches: set = set()

    def close_all(self) -> None:
        """End every watch being streamed (their responses then end cleanly)."""
        for watch in list(self._watches):
            watch.close()

    async def serve(self, request: web.Request, t: Target) -> web.StreamResponse:
        q = request.query
        label_sel, field_sel = q.get("labelSelector") or None, q.get("fieldSelector") or None
        if t.name is not None:
            # /watch/namespaces/x/pods/name (legacy) watches one object by name.
            field_sel = ",".join(filter(None, [field_sel, f"metadata.name={t.name}"]))
        rv = q.get("resourceVersion") or None
        timeout = int_param(request, "timeoutSeconds")
        bookmarks = true_param(q.get("allowWatchBookmarks"))
        accept = request.headers.get("Accept", "")
        as_table = tables.wants_table(accept)
        include = q.get("includeObject", "Metadata")

        initial: list[dict] = []
        # Streaming lists (sendInitialEvents, client-go's WatchList): the current state as ADDED,
        # then a bookmark annotated "k8s.io/initial-events-end", then changes.
        streaming_list = true_param(q.get("sendInitialEvents"))
        if streaming_list:
            if q.get("resourceVersionMatch") != "NotOlderThan":
                raise ApiError(422, "Invalid", "resourceVersionMatch: Forbidden: sendInitialEvents "
                               "requires setting resourceVersionMatch to NotOlderThan")
            if not bookmarks:
                raise ApiError(422, "Invalid", "allowWatchBookmarks: Forbidden: sendInitialEvents "
                               "requires setting allowWatchBookmarks to true")
            rv = None
        if rv in (None, "0"):
            # Start with the current state as ADDED events, then changes after that list.
            initial = self.store.scan(t.rt, t.namespace, label_selector=label_sel, field_selector=field_sel)
            rv = self.store.resource_version
        response = web.StreamResponse(status=200)
        response.content_type = "application/json"
        response.enable_chunked_encoding()
        try:
            watch = self.store.watch(t.rt, t.namespace, resource_version=rv,
                                     label_selector=label_sel, field_selector=field_sel)
        except ApiError as err:
            if err.status != 410:
                raise
            # Expired resourceVersion: a 200 stream carrying one ERROR event, as a real server.
            await response.prepare(request)
            await response.write(_line({"type": "ERROR", "object": err.to_status()}))
            await response.write_eof()
            return response

        self._watches.add(watch)
        first_table = True

        def encode(kind: str, obj: dict) -> bytes:
            nonlocal first_table
            if as_table and kind != "BOOKMARK":
                payload = tables.build_table(t.rt.plural, [obj], self.clock.now(),
                                             include_object=include, with_columns=first_table,
                                             api_version=tables.table_api_version(accept))
                first_table = False
                return _line({"type": kind, "object": payload})
            return _line({"type": kind, "object": obj})

        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout if timeout and timeout > 0 else DEFAULT_WATCH_TIMEOUT)
        try:
            await response.prepare(request)
            for obj in initial:
                await response.write(encode("ADDED", obj))
            if streaming_list:
                end = {"kind": t.rt.kind, "apiVersion": t.rt.api_version, "metadata": {
                    "resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}}}
                await response.write(encode("BOOKMARK", end))
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                wait = min(remaining, self.clock.wall_seconds(BOOKMARK_EVERY_SIM)) if bookmarks else remaining
                try:
                    # Shared, not copied: the object is only encoded here.
                    kind, obj = await asyncio.wait_for(watch.next_shared(), timeout=max(wait, 0.01))
                except StopAsyncIteration:
                    break
                except asyncio.TimeoutError:
                    if bookmarks and loop.time() < deadline:
                        watch.request_bookmark()  # queued behind anything already delivered
                    continue
                if kind == "BOOKMARK" and not bookmarks:
                    continue
                await response.write(encode(kind, obj))
            await response.write_eof()
        except ConnectionResetError:
            pass  # the client left
        finally:
            watch.close()
            self._watches.discard(watch)
        return response


def _line(event: dict) -> bytes:
    """One watch event per line, encoded as the API server encodes every JSON body."""
    return go_json(event)


