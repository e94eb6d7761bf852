"""boto3 clients wired straight into the sandbox dispatcher, with no socket in between.

Seeding uses the real AWS API (botocore serialises and validates every call) but must work before
the gateway listens and from inside the event loop that serves the gateway, where a blocking HTTP
call to ourselves would deadlock. botocore's ``before-send`` event lets a handler answer a prepared
request itself; it is registered on these clients only, never globally.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from .engine import HttpReply, HttpRequest
from .protocol import signing_service

LOCAL_ENDPOINT = "http://aws-sandbox.local"


class _RawBody(BytesIO):
    def stream(self, **_: Any) -> Any:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


@cache
def _session() -> boto3.session.Session:
    # One session for all local clients: botocore's loader caches the parsed service models
    # (the EC2 model alone takes ~0.2 s to parse), so later sandboxes seed much faster.
    return boto3.session.Session()


_session_lock = threading.Lock()  # botocore sessions are not safe for concurrent client creation


def local_client(
    service: str,
    dispatch: Callable[[HttpRequest], HttpReply],
    *,
    region: str,
    access_key_id: str,
    secret_access_key: str,
) -> Any:
    with _session_lock:
        client = _session().client(
            service,
            region_name=region,
            endpoint_url=LOCAL_ENDPOINT,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )

    def answer(request: Any, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        reply = dispatch(
            HttpRequest(
                method=request.method,
                path=url.path or "/",
                query_string=url.query,
                headers=headers,
                body=body,
                service=signing_service(headers),
            )
        )
        return AWSResponse(request.url, reply.status, reply.headers, _RawBody(reply.body))

    client.meta.events.register("before-send", answer)
    return client
