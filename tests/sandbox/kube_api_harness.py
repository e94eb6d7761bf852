"""A bare sandbox Kubernetes API server (store + HTTPS server, no controllers) for the API tests.

``ApiServerThread`` runs it on its own event loop in a thread, so blocking clients (kubectl, the
sync ``kubernetes`` client) can talk to it from the test. The store is not thread-safe: the test
touches it only through ``on_loop``.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, TypeVar

from iagent_sandbox.clock import SandboxClock
from iagent_sandbox.kube.server import KubeApiServer
from iagent_sandbox.kube.store import ObjectStore

T = TypeVar("T")
TOKEN = "sandbox-test-token"


def kubeconfig_text(url: str, ca_pem: bytes, token: str = TOKEN) -> str:
    ca = base64.b64encode(ca_pem).decode()
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: sandbox\n  cluster:\n    server: {url}\n"
        f"    certificate-authority-data: {ca}\n"
        "contexts:\n- name: sandbox\n  context:\n    cluster: sandbox\n    user: sandbox\n"
        "current-context: sandbox\n"
        f"users:\n- name: sandbox\n  user:\n    token: {token}\n"
    )


class ApiServerThread:
    def __init__(self, tmp: Path, *, speed: float = 1.0, seed: int = 7, history: int = 2000,
                 metrics=None, logs=None, authenticators=()) -> None:
        self.tmp = tmp
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="kube-api", daemon=True)
        self._thread.start()

        async def build():
            clock = SandboxClock(speed=speed, seed=seed)
            store = ObjectStore(clock, history=history)
            server = KubeApiServer(store, clock, TOKEN, metrics=metrics, logs=logs,
                                   authenticators=authenticators)
            await server.start()
            return clock, store, server

        self.clock, self.store, self.server = self.run(build())
        self.url = self.server.url
        self.ca_file = tmp / "ca.crt"
        self.ca_file.write_bytes(self.server.ca_pem)
        self.kubeconfig = tmp / "kubeconfig"
        self.kubeconfig.write_text(kubeconfig_text(self.url, self.server.ca_pem))

    def run(self, coro) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def on_loop(self, fn: Callable[[], T]) -> T:
        """Run fn on the server's loop (where the store lives) and return its result."""
        done: Future = Future()

        def call() -> None:
            try:
                done.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
                done.set_exception(exc)

        self.loop.call_soon_threadsafe(call)
        return done.result(timeout=30)

    def sync_client(self, token: str = TOKEN):
        """The official sync client, configured like a kubeconfig would (CA + bearer token)."""
        from kubernetes import client
        cfg = client.Configuration()
        cfg.host = self.url
        cfg.ssl_ca_cert = str(self.ca_file)
        cfg.api_key = {"BearerToken": token}
        cfg.api_key_prefix = {"BearerToken": "Bearer"}
        return client.ApiClient(cfg)

    def stop(self) -> None:
        try:
            self.run(self.server.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
            self.loop.close()


async def async_client(server: KubeApiServer, ca_file: Path, token: str = TOKEN):
    """kubernetes_asyncio ApiClient for a server running on the current loop."""
    from kubernetes_asyncio import client
    cfg = client.Configuration()
    cfg.host = server.url
    cfg.ssl_ca_cert = str(ca_file)
    cfg.api_key = {"BearerToken": token}
    cfg.api_key_prefix = {"BearerToken": "Bearer"}
    return client.ApiClient(cfg)


class running_server:
    """``async with running_server(tmp_path) as api:`` a server on the current loop, with
    ``api.server``, ``api.store``, ``api.clock``, ``api.ca_file``, ``api.ssl`` and ``api.url``."""

    def __init__(self, tmp: Path, *, speed: float = 1.0, seed: int = 7, history: int = 2000,
                 start=None, metrics=None, logs=None, authenticators=()) -> None:
        self.tmp = tmp
        self.clock = SandboxClock(speed=speed, seed=seed, start=start)
        self.store = ObjectStore(self.clock, history=history)
        self.server = KubeApiServer(self.store, self.clock, TOKEN, metrics=metrics, logs=logs,
                                    authenticators=authenticators)

    async def __aenter__(self) -> "running_server":
        import ssl
        self.url = await self.server.start()
        self.ca_file = self.tmp / "ca.crt"
        self.ca_file.write_bytes(self.server.ca_pem)
        self.ssl = ssl.create_default_context(cadata=self.server.ca_pem.decode())
        return self

    async def __aexit__(self, *exc) -> None:
        await self.server.stop()

    def headers(self, token: str = TOKEN, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", **extra}
