"""pods/log: container output from the LogSource, with kubectl's options and the kubelet's errors.

Options: container, tailLines, timestamps, sinceSeconds, sinceTime, previous, limitBytes and
follow (streams new lines as the source produces them until the container stops, the pod goes
away or the client leaves).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from aiohttp import web

from ..clock import SandboxClock, parse_rfc3339
from .errors import ApiError, bad_request, not_found
from .sources import LogSource

FOLLOW_POLL_SIM = 1.0  # simulated seconds between looks at the source while following


def _bool(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


def _int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f'invalid value for {name}: "{raw}" is not an integer') from None
    if value < 0:
        raise bad_request(f"{name}: Invalid value: {value}: must be greater than or equal to 0")
    return value


def rfc3339_nano(dt: datetime) -> str:
    """The kubelet's timestamp prefix: RFC 3339 with nanoseconds."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}000Z"


class PodLogs:
    def __init__(self, store, clock: SandboxClock, source: LogSource | None) -> None:
        self.store = store
        self.clock = clock
        self.source = source
        self._closing = asyncio.Event()

    def close_streams(self) -> None:
        # Followers hold the event they started with; later followers get a fresh one.
        self._closing.set()
        self._closing = asyncio.Event()

    # -- validation -----------------------------------------------------------------------------
    def _container(self, pod: dict, requested: str | None) -> str:
        name = pod["metadata"]["name"]
        spec = pod.get("spec") or {}
        names = [c.get("name") for c in spec.get("containers") or []]
        init_names = [c.get("name") for c in spec.get("initContainers") or []]
        if not requested:
            if len(names) == 1:
                return names[0]
            raise bad_request(f"a container name must be specified for pod {name}, choose one of: "
                              f"[{' '.join(names)}]"
                              + (f" or one of the init containers: [{' '.join(init_names)}]"
                                 if init_names else ""))
        if requested not in names and requested not in init_names:
            raise bad_request(f"container {requested} is not valid for pod {name}")
        return requested

    def _status(self, pod: dict, container: str) -> dict:
        status = pod.get("status") or {}
        for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
            if cs.get("name") == container:
                return cs
        return {}

    def _check_started(self, pod: dict, container: str, previous: bool) -> dict:
        """The kubelet's answers for a container with nothing to show yet."""
        name = pod["metadata"]["name"]
        cs = self._status(pod, container)
        if previous:
            if not (cs.get("lastState") or {}).get("terminated"):
                raise bad_request(f'previous terminated container "{container}" in pod "{name}" '
                                  "not found")
            return cs
        waiting = (cs.get("state") or {}).get("waiting")
        if not cs or (waiting and not (cs.get("lastState") or {}).get("terminated")):
            if not (pod.get("spec") or {}).get("nodeName"):
                raise bad_request(f"pod {name} does not have a host assigned")
            reason = (waiting or {}).get("reason") or "ContainerCreating"
            raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        return cs

    # -- reading --------------------------------------------------------------------------------
    def _lines(self, pod: dict, container: str, cs: dict, previous: bool) -> list[tuple[datetime, str]]:
        if self.source is None:
            return []
        lines = list(self.source.pod_log(pod, container))
        last = (cs.get("lastState") or {}).get("terminated")
        if not last:
            return [] if previous else lines  # one instance so far: everything is its output
        # The source keeps every instance's output; the statuses say when each one ran.
        state = cs.get("state") or {}
        if previous:
            start, end = last.get("startedAt"), last.get("finishedAt")
        else:
            # The running (or just terminated) instance; while waiting to restart after a crash,
            # the kubelet shows the instance that crashed.
            current = state.get("running") or state.get("terminated") or last
            start, end = current.get("startedAt"), None
        low = parse_rfc3339(start) if start else None
        high = parse_rfc3339(end) if end else None
        return [(ts, text) for ts, text in lines
                if (low is None or ts >= low) and (high is None or ts <= high)]

    async def handle(self, request: web.Request, target) -> web.StreamResponse:
        rt, ns, name = target.rt, target.namespace, target.name
        pod = self.store.get(rt, ns, name)
        if pod is None:
            raise not_found(rt, name)
        q = request.query
        container = self._container(pod, q.get("container"))
        previous = _bool(q.get("previous"))
        follow = _bool(q.get("follow"))
        timestamps = _bool(q.get("timestamps"))
        tail = _int(request, "tailLines")
        since_seconds = _int(request, "sinceSeconds")
        limit_bytes = _int(request, "limitBytes")
        since_time = None
        if q.get("sinceTime"):
            try:
                since_time = parse_rfc3339(q["sinceTime"])
            except ValueError:
                raise bad_request(f'sinceTime: Invalid value: "{q["sinceTime"]}": must be RFC 3339') from None
        if since_seconds is not None:
            since_time = self.clock.now() - timedelta(seconds=since_seconds)
        cs = self._check_started(pod, container, previous)

        lines = self._lines(pod, container, cs, previous)
        shown = [(ts, text) for ts, text in lines if since_time is None or ts >= since_time]
        if tail is not None:
            shown = shown[-tail:] if tail else []

        def render(batch: list[tuple[datetime, str]]) -> bytes:
            out = "".join((f"{rfc3339_nano(ts)} " if timestamps else "") + text + "\n" for ts, text in batch)
            return out.encode()

        body = render(shown)
        if limit_bytes is not None:
            body = body[:limit_bytes]
        if not follow or previous:
            return web.Response(body=body, content_type="text/plain")

        response = web.StreamResponse()
        response.content_type = "text/plain"
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(body)
        seen = len(lines)
        closing = self._closing
        try:
            while not closing.is_set():
                try:
                    await asyncio.wait_for(closing.wait(),
                                           timeout=self.clock.wall_seconds(FOLLOW_POLL_SIM))
                    break
                except asyncio.TimeoutError:
                    pass
                pod = self.store.get(rt, ns, name)
                if pod is None:
                    break
                cs = self._status(pod, container)
                lines = self._lines(pod, container, cs, False)
                if len(lines) > seen:
                    await response.write(render(lines[seen:]))
                    seen = len(lines)
                if (cs.get("state") or {}).get("terminated") is not None:
                    break
            await response.write_eof()
        except ConnectionResetError:
            pass
        return response
