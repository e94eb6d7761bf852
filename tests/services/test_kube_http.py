"""KubeClient's own HTTP transport (services/kube_http.py) against the sandbox's HTTPS API server:
the cluster CA is checked, insecure-skip-tls-verify and tls-server-name do what kubeconfig says,
and HTTPS_PROXY is honoured as kubectl honours it."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from iagent_sandbox.kube.tls import generate_tls
from iagent_tui.services.errors import ServiceError
from iagent_tui.services.kube import PODS, KubeClient

from .conftest import make_connection


def connection(server, **kube):
    conn = make_connection(server.url, server.ca_pem, None)
    return replace(conn, kube=replace(conn.kube, **kube))


async def list_pods(conn) -> list:
    async with KubeClient(conn) as kube:
        items, _ = await kube.list(PODS)
    return items


async def test_a_server_signed_by_another_ca_is_refused(kube_server):
    stranger = generate_tls().ca_pem
    with pytest.raises(ServiceError) as err:
        await list_pods(connection(kube_server, ca_data=stranger))
    assert err.value.kind == "unreachable" and "certificate" in err.value.message.lower()


async def test_insecure_skip_tls_verify_accepts_any_certificate(kube_server):
    assert await list_pods(connection(kube_server, ca_data=generate_tls().ca_pem, verify_ssl=False)) == []


async def test_tls_server_name_is_the_name_checked_against_the_certificate(kube_server):
    # The sandbox's certificate names 127.0.0.1 and localhost; the URL says 127.0.0.1.
    assert await list_pods(connection(kube_server, tls_server_name="localhost")) == []
    with pytest.raises(ServiceError) as err:
        await list_pods(connection(kube_server, tls_server_name="api.elsewhere.example"))
    assert err.value.kind == "unreachable"


class ConnectProxy:
    """A forward proxy that tunnels CONNECT requests and remembers where they went."""

    def __init__(self) -> None:
        self.tunnels: list[str] = []
        self.url = ""

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        method, target, _ = request.split(b"\r\n", 1)[0].decode().split(" ", 2)
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            writer.close()
            return
        self.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_https_proxy_from_the_environment_carries_the_requests(kube_server, monkeypatch):
    proxy = ConnectProxy()
    await proxy.start()
    try:
        for name in ("NO_PROXY", "no_proxy", "https_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        assert await list_pods(connection(kube_server)) == []
    finally:
        await proxy.stop()
    assert proxy.tunnels and set(proxy.tunnels) == {kube_server.url.removeprefix("https://")}
