"""HTTP to the Kubernetes API server on aiohttp: TLS, proxies, timeouts, one connection pool.

What kubernetes_asyncio's ApiClient did for KubeClient, without it: importing any part of that
package loads every generated model and API class (a third of a second, issue 10), and KubeClient
only ever used it to send a request and read raw JSON back. Behaviour kept from it: the CA from
the kubeconfig (or the system store), insecure-skip-tls-verify, tls-server-name, proxies from
HTTP(S)_PROXY/NO_PROXY (trust_env), a total timeout per request unless a ClientTimeout is given,
JSON bodies, and a read buffer large enough for one big watch event.
"""

from __future__ import annotations

import json
import ssl
from typing import Any
from urllib.parse import urlencode

import aiohttp
from yarl import URL

MAX_CONNECTIONS = 100
READ_BUFFER_BYTES = 2**21  # one watch event can be an etcd-sized object (1.5 MiB)


class KubeHttpError(Exception):
    """The API server answered with an error status. ``body`` is its text (a Status object)."""

    def __init__(self, status: int, reason: str, body: str, headers: Any) -> None:
        super().__init__(f"({status}) {reason}")
        self.status = status
        self.reason = reason
        self.body = body
        self.headers = headers


def tls_context(ca_file: str | None, verify: bool) -> ssl.SSLContext:
    """Trust the cluster's CA (the system store when there is none); ``verify`` False is
    kubeconfig's insecure-skip-tls-verify: no certificate or host name check at all."""
    context = ssl.create_default_context(cafile=ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class KubeHttp:
    """One pool of connections to one API server. Requests carry ``Authorization: Bearer`` when a
    token is given; an answer >= 400 raises KubeHttpError with the body already read."""

    def __init__(self, server: str, *, ca_file: str | None = None, verify_ssl: bool = True,
                 tls_server_name: str | None = None, timeout: float = 30.0) -> None:
        self.server = server.rstrip("/")
        self.timeout = timeout
        self._ca_file = ca_file
        self._verify_ssl = verify_ssl
        self._tls_server_name = tls_server_name
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop that will use it.
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, ssl=tls_context(self._ca_file, self._verify_ssl))
            self._session = aiohttp.ClientSession(connector=connector, trust_env=True, read_bufsize=READ_BUFFER_BYTES)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(self, method: str, path: str, query: list[tuple[str, str]] | None = None, *,
                      token: str = "", body: Any = None, content_type: str | None = None,
                      accept: str = "application/json", timeout: Any = None) -> aiohttp.ClientResponse:
        """The response, unread (the caller reads and releases it)."""
        headers = {"Accept": accept, "Content-Type": content_type or "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = self.server + path + (f"?{urlencode(query)}" if query else "")
        if timeout is None:
            timeout = self.timeout
        extra: dict[str, Any] = {}
        if self._tls_server_name:
            extra["server_hostname"] = self._tls_server_name
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body)  # merge/strategic/apply patches are JSON too (JSON is YAML)
        resp = await self._open().request(
            method, URL(url, encoded=True), headers=headers, data=body,
            timeout=timeout if isinstance(timeout, aiohttp.ClientTimeout) else aiohttp.ClientTimeout(total=timeout),
            **extra)
        if resp.status >= 400:
            try:
                text = (await resp.read()).decode("utf-8", "replace")
            finally:
                resp.release()
            raise KubeHttpError(resp.status, resp.reason or "", text, resp.headers)
        return resp
