"""errors.py: every AWS / Kubernetes failure becomes a ServiceError of the right kind with a sentence."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from botocore import exceptions as bce
from kubernetes_asyncio.client.exceptions import ApiException

from iagent_tui.services.errors import ServiceError, from_aws, from_kube


def client_error(code: str, message: str = "boom", status: int = 400) -> bce.ClientError:
    return bce.ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "DescribeCluster")


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("AccessDenied", 403, "not_permitted"),
        ("AccessDeniedException", 403, "not_permitted"),
        ("UnauthorizedOperation", 403, "not_permitted"),
        ("ResourceNotFoundException", 404, "not_found"),
        ("NoSuchEntity", 404, "not_found"),
        ("ResourceInUseException", 409, "conflict"),
        ("InvalidParameterException", 400, "invalid"),
        ("InvalidRequestException", 400, "invalid"),
        ("Throttling", 400, "throttled"),
        ("ThrottlingException", 400, "throttled"),
        ("RequestLimitExceeded", 503, "throttled"),
        ("ExpiredToken", 403, "auth"),
        ("ExpiredTokenException", 400, "auth"),
        ("ServerException", 500, "server"),
        ("SomethingNew", 403, "not_permitted"),  # unknown code: the HTTP status decides
        ("SomethingElse", 503, "server"),
    ],
)
def test_aws_codes(code, status, kind):
    err = from_aws(client_error(code, status=status), "describe the EKS cluster", "iagent-cluster")
    assert err.kind == kind
    assert err.code == code
    assert err.message.startswith("Could not describe the EKS cluster (iagent-cluster): ")


def test_access_denied_says_not_permitted_and_what_to_do():
    msg = "User: arn:aws:iam::1:user/x is not authorized to perform: eks:ListFargateProfiles"
    err = from_aws(client_error("AccessDeniedException", msg, 403), "list Fargate profiles", "iagent-cluster")
    assert "not permitted" in err.message and "eks:ListFargateProfiles" in err.message
    assert "permission" in err.message.lower()
    assert "not found" not in err.message


def test_aws_connection_and_credential_errors():
    err = from_aws(bce.EndpointConnectionError(endpoint_url="https://eks.eu-central-1.amazonaws.com/"), "list add-ons")
    assert err.kind == "unreachable" and err.retryable and "eks.eu-central-1.amazonaws.com" in err.message
    err = from_aws(bce.NoCredentialsError(), "describe the EKS cluster")
    assert err.kind == "auth" and "credentials" in err.message.lower()


def test_service_error_passes_through_unchanged():
    original = ServiceError("conflict", "x")
    assert from_aws(original) is original and from_kube(original) is original


def status_body(reason: str, message: str, code: int) -> str:
    return json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "message": message, "code": code})


@pytest.mark.parametrize(
    ("status", "reason", "kind"),
    [(401, "Unauthorized", "auth"), (403, "Forbidden", "not_permitted"), (404, "NotFound", "not_found"),
     (409, "Conflict", "conflict"), (410, "Gone", "conflict"), (422, "Invalid", "invalid"),
     (429, "TooManyRequests", "throttled"), (500, "InternalError", "server"), (503, "ServiceUnavailable", "server")],
)
def test_kube_statuses(status, reason, kind):
    exc = ApiException(status=status, reason=reason)
    exc.body = status_body(reason, f'pods "web" is {reason.lower()}', status)
    err = from_kube(exc, "read pod", "default/web")
    assert (err.kind, err.status, err.code) == (kind, status, reason)
    assert 'pods "web"' in err.message and "(default/web)" in err.message


def test_kube_forbidden_is_not_permitted_never_empty():
    exc = ApiException(status=403, reason="Forbidden")
    exc.body = status_body("Forbidden", 'pods is forbidden: User "dev" cannot list resource "pods" in API group "" at the cluster scope', 403)
    err = from_kube(exc, "list pods")
    assert err.kind == "not_permitted" and "cannot list resource" in err.message


async def test_kube_non_json_body_and_connection_errors():
    exc = ApiException(status=502, reason="Bad Gateway")
    exc.body = b"<html>bad gateway</html>"
    assert from_kube(exc, "list nodes").kind == "server"
    import socket

    with socket.socket() as s:  # a real refused connection, not a hand-made exception
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectorError) as refused:
            await http.get(f"http://127.0.0.1:{port}/api")
    err = from_kube(refused.value, "list nodes", f"https://127.0.0.1:{port}")
    assert err.kind == "unreachable" and f"127.0.0.1:{port}" in err.message
    # In words, never the exception's class name or aiohttp's "ssl:default [...]".
    assert "connection refused" in err.message and "ClientConnectorError" not in err.message
    assert "ssl:default" not in err.message and "Check the endpoint" in err.message
    assert from_kube(asyncio.TimeoutError(), "watch pods").kind == "unreachable"


def test_connection_failures_are_described_in_words_in_one_place():
    import asyncio

    import aiohttp
    from botocore import exceptions as bce

    from iagent_tui.services.errors import describe

    for exc in (bce.EndpointConnectionError(endpoint_url="http://127.0.0.1:5000/"),
                bce.ConnectTimeoutError(endpoint_url="http://127.0.0.1:5000/"),
                bce.ReadTimeoutError(endpoint_url="http://127.0.0.1:5000/"),
                aiohttp.ServerDisconnectedError(), asyncio.TimeoutError(), ConnectionRefusedError(111, "refused")):
        sentence = describe(exc, "read target groups")
        assert sentence.startswith("Could not read target groups: endpoint unreachable: "), sentence
        assert type(exc).__name__ not in sentence and "Check the endpoint" in sentence
    assert "127.0.0.1:5000" in describe(bce.EndpointConnectionError(endpoint_url="http://127.0.0.1:5000/"))
    assert "KeyError" in describe(KeyError("x"), "poll AWS")  # a bug keeps its type, to be reported
