"""pods/exec and pods/attach over the WebSocket channel protocols.

What a client sees is what the API server and the kubelet answer: the API server's 400s before
the upgrade (no container named, a container that is not in the pod, a pod without a node);
after it, stdout/stderr on channels 1 and 2, stdin on 0, terminal resizes on 4, and on channel 3
the outcome as a ``Status`` (``Success``, or ``NonZeroExitCode`` with the exit code as the
``ExitCode`` cause), then a normal close. For a container that is not running the kubelet has no
container to exec in: ``unable to upgrade connection: container not found``, carried as an
InternalError Status for v5 clients (the API server's stream translator) and as the kubelet's
plain 500 for the older protocols it proxies.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .channels import EXEC_PROTOCOLS, V5, ChannelSocket, is_websocket, stream_target
from .container import Containers
from .container_env import container_env
from .errors import bad_request, go_json
from .resources import rt
from .shell import Io, Stdin
from .shell_session import ShellSession
from .sources import AppSource, LogSource

STDIN, STDOUT, STDERR, ERROR, RESIZE = range(5)
ATTACH_POLL_SIM = 1.0  # simulated seconds between looks at the container's output


def _flag(request: web.Request, name: str, default: bool = False) -> bool:
    raw = request.query.get(name)
    return default if raw is None else raw.lower() in ("1", "true", "yes")


def pick_container(pod: dict, requested: str | None) -> dict:
    """The API server's checks (pkg/registry/core/pod/strategy.go streamLocation)."""
    name = pod["metadata"]["name"]
    spec = pod.get("spec") or {}
    containers = spec.get("containers") or []
    init = spec.get("initContainers") or []
    ephemeral = spec.get("ephemeralContainers") or []
    if not requested:
        if len(containers) == 1:
            return containers[0]
        names = " ".join(c["name"] for c in containers)
        message = f"a container name must be specified for pod {name}, choose one of: [{names}]"
        if init:
            message += f" or one of the init containers: [{' '.join(c['name'] for c in init)}]"
        raise bad_request(message)
    for c in containers + init + ephemeral:
        if c.get("name") == requested:
            break
    else:
        raise bad_request(f"container {requested} is not valid for pod {name}")
    return c


def running_container(pod: dict, name: str) -> dict | None:
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []) \
            + (status.get("ephemeralContainerStatuses") or []):
        if cs.get("name") == name and (cs.get("state") or {}).get("running") is not None:
            return cs
    return None


def exit_status(command: list[str], code: int) -> dict[str, Any]:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"[{' '.join(command)}], exit code {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def internal_error(message: str) -> dict[str, Any]:
    return {"metadata": {}, "status": "Failure", "message": f"Internal error occurred: {message}",
            "reason": "InternalError", "details": {"causes": [{"message": message}]}, "code": 500}


class PodExec:
    def __init__(self, store, clock, apps: AppSource | None, logs: LogSource | None) -> None:
        self.store = store
        self.clock = clock
        self.logs = logs
        self.containers = Containers(store, clock, apps)

    async def handle(self, request: web.Request, target) -> web.StreamResponse:
        pod = stream_target(self.store, request, target)
        command = request.query.getall("command", [])
        if target.subresource == "exec" and not command:
            raise bad_request("you must specify at least 1 command")
        container = pick_container(pod, request.query.get("container"))
        if not (pod.get("spec") or {}).get("nodeName"):
            raise bad_request(f"pod {target.name} does not have a host assigned")
        tty = _flag(request, "tty")
        streams = {"stdin": _flag(request, "stdin"), "stdout": _flag(request, "stdout", True),
                   "stderr": _flag(request, "stderr", True) and not tty}
        if not any(streams.values()):
            raise bad_request("you must specify at least 1 of stdin, stdout, stderr")
        if not is_websocket(request):
            raise bad_request("Upgrade request required: the sandbox serves exec, attach and "
                              "port-forward over WebSocket (v5.channel.k8s.io, v4.channel.k8s.io)")
        status = running_container(pod, container["name"])
        missing = f'unable to upgrade connection: container not found ("{container["name"]}")'
        if status is None and V5 not in request.headers.get("Sec-WebSocket-Protocol", ""):
            return web.Response(status=500, text=f'container not found ("{container["name"]}")')
        sock = await ChannelSocket.accept(request, EXEC_PROTOCOLS, 5)
        try:
            if status is None:
                await sock.write(ERROR, _status_bytes(internal_error(missing)))
                return sock.ws
            first = STDOUT if streams["stdout"] else STDERR if streams["stderr"] else ERROR
            await sock.write(first, b"")  # the kubelet's "connection established" signal
            asyncio.ensure_future(_drain(sock.inbox[RESIZE]))
            instance = self.containers.instance(pod, container, int(status.get("restartCount", 0)))
            io = self._io(sock, streams, tty)
            if target.subresource == "attach":
                await self._attach(sock, pod, container["name"], io)
                await sock.write(ERROR, _status_bytes(exit_status([], 0)))
                return sock.ws
            session = ShellSession(self.containers, instance,
                                   container_env(self.store, pod, container), tty=tty)
            pid = instance.new_pid()
            instance.sessions[pid] = " ".join(command)
            try:
                code = await session.run_argv(command, io)
            finally:
                instance.sessions.pop(pid, None)
            await sock.write(ERROR, _status_bytes(exit_status(command, code)))
            return sock.ws
        finally:
            await sock.close()

    def _io(self, sock: ChannelSocket, streams: dict[str, bool], tty: bool) -> Io:
        async def nothing(data: bytes) -> None:
            return None

        def writer(channel: int):
            async def write(data: bytes) -> None:
                if data:
                    await sock.write(channel, data)
            return write

        stdin = Stdin(sock.inbox[STDIN].get) if streams["stdin"] else Stdin()
        out = writer(STDOUT) if streams["stdout"] else nothing
        err = out if tty else (writer(STDERR) if streams["stderr"] else nothing)
        return Io(stdin, out, err)

    async def _attach(self, sock: ChannelSocket, pod: dict, container: str, io: Io) -> None:
        """The container's output from now on, until it stops or the client leaves; what is
        typed goes to a process that does not read it."""
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        seen = len(self.logs.pod_log(pod, container)) if self.logs else 0
        while not await sock.wait_gone(self.clock.wall_seconds(ATTACH_POLL_SIM)):
            current = self.store.get(rt("pods"), ns, name)
            if current is None or running_container(current, container) is None:
                return
            lines = self.logs.pod_log(current, container) if self.logs else []
            if len(lines) > seen:
                await io.out("".join(text + "\n" for _, text in lines[seen:]).encode())
                seen = len(lines)


def _status_bytes(status: dict[str, Any]) -> bytes:
    return go_json(status).rstrip(b"\n")  # json.Marshal, as the kubelet writes it


async def _drain(queue: asyncio.Queue) -> None:
    """Terminal sizes (channel 4): accepted; the simulated programs do not lay out text."""
    while await queue.get() is not None:
        pass

