"""Port-forwards from the dashboard (k9s shift-f): `kubectl port-forward` to the selected pod or
service, run in the background with the dashboard's kubeconfig and context, listed while they run
and stopped when the dashboard quits. No Textual here: the App asks, this module runs.

kubectl does the forwarding (it speaks the API server's streaming protocol, which the product's
clients do not): a forward needs kubectl on PATH, and without it the command is handed back for the
user to run elsewhere. Forwards listen on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import socket
from collections import deque
from dataclasses import dataclass, field
from typing import Any

STOP_GRACE = 3.0  # seconds kubectl gets to end after SIGTERM before it is killed
KINDS = ("pod", "service")


def free_local_port() -> int:
    """A port nothing on 127.0.0.1 listens on now (a suggestion for the dialog)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_port(text: str, what: str = "local port") -> int:
    """A port number from what was typed, or ValueError with the sentence to show."""
    try:
        port = int(text.strip())
    except ValueError:
        raise ValueError(f"The {what} must be a number from 1 to 65535, not {text.strip()!r}.") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"The {what} must be from 1 to 65535, not {port}.")
    return port


@dataclass(frozen=True)
class PortForward:
    """Builds the command, with the same kubeconfig and context as the panels (never kubectl's
    current context by chance)."""

    kubeconfig: str | None = None
    context: str | None = None

    @classmethod
    def for_connection(cls, settings: Any, connection: Any) -> "PortForward":
        kube = getattr(connection, "kube", None)
        return cls(getattr(settings, "kubeconfig", None),
                   getattr(settings, "kube_context", None) or getattr(kube, "context", "") or None)

    def command(self, kind: str, namespace: str, name: str, local_port: int, remote_port: int | str) -> list[str]:
        if kind not in KINDS:
            raise ValueError(f"cannot forward to a {kind}: choose one of {', '.join(KINDS)}")
        options = ([f"--kubeconfig={self.kubeconfig}"] if self.kubeconfig else []) \
            + ([f"--context={self.context}"] if self.context else [])
        return ["kubectl", *options, "port-forward", "--address", "127.0.0.1", "-n", namespace,
                f"{kind}/{name}", f"{local_port}:{remote_port}"]


@dataclass
class ActiveForward:
    """One forward: its target, ports and process; ``state`` is what the list shows."""

    kind: str
    namespace: str
    name: str
    local_port: int
    remote_port: int | str
    command: list[str]
    process: asyncio.subprocess.Process | None = None
    state: str = "starting"
    output: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    _reader: asyncio.Task | None = field(default=None, repr=False)

    @property
    def target(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def shown(self) -> str:
        return shlex.join(self.command)

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip()
            if not line:
                continue
            self.output.append(line)
            if line.startswith("Forwarding from"):
                self.state = f"forwarding 127.0.0.1:{self.local_port}"
        code = await self.process.wait()
        last = self.output[-1] if self.output else "no output"
        if not self.state.startswith("stopped"):
            self.state = f"ended (exit {code}): {last}"


class PortForwards:
    """The dashboard's forwards. ``start`` runs kubectl when it is on PATH (``kubectl`` overrides
    the lookup) and returns the forward; without kubectl it returns None and the caller shows
    ``builder.command(...)`` instead."""

    def __init__(self, builder: PortForward | None = None, kubectl: str | None = None) -> None:
        self.builder = builder or PortForward()
        self.kubectl = kubectl
        self.forwards: list[ActiveForward] = []

    def executable(self) -> str | None:
        return self.kubectl or shutil.which("kubectl")

    async def start(self, kind: str, namespace: str, name: str, local_port: int,
                    remote_port: int | str) -> ActiveForward | None:
        command = self.builder.command(kind, namespace, name, local_port, remote_port)
        kubectl = self.executable()
        if kubectl is None:
            return None
        taken = next((f for f in self.forwards if f.running and f.local_port == local_port), None)
        if taken is not None:
            raise ValueError(f"Local port {local_port} already forwards to {taken.target}; choose another.")
        forward = ActiveForward(kind, namespace, name, local_port, remote_port, command)
        # Its own session: a Ctrl-C in the terminal reaches the dashboard, not the forwards, and
        # stop() ends kubectl and anything it started.
        forward.process = await asyncio.create_subprocess_exec(
            kubectl, *command[1:], stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        forward._reader = asyncio.create_task(forward._read(), name=f"port-forward-{forward.target}")
        self.forwards.append(forward)
        return forward

    async def stop(self, forward: ActiveForward) -> None:
        process = forward.process
        if process is not None and process.returncode is None:
            forward.state = "stopped"
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_GRACE)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        if forward._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(forward._reader, STOP_GRACE)
        if forward in self.forwards:
            self.forwards.remove(forward)

    async def stop_all(self) -> None:
        for forward in list(self.forwards):
            await self.stop(forward)
