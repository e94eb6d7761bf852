"""Wire-level facts about the AWS protocols the sandbox speaks: which service a request is for, and
what an error looks like in each protocol (so botocore and the aws CLI parse and classify it the way
they would against AWS)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from xml.sax.saxutils import escape

from .engine import HttpReply

_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")

# Signing name -> the protocol family its errors use.
REST_JSON = "rest-json"
EC2_QUERY = "ec2"
QUERY = "query"
PROTOCOLS = {
    "eks": REST_JSON,
    "ec2": EC2_QUERY,
    "elasticloadbalancing": QUERY,
    "iam": QUERY,
    "sts": QUERY,
}
# Friendly names accepted in fault settings -> SigV4 signing names.
SERVICE_ALIASES = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing"}


def signing_service(headers: dict[str, str]) -> str | None:
    """The service named in the SigV4 credential scope, e.g. ``eks`` or ``elasticloadbalancing``."""
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    match = _CREDENTIAL_SCOPE.search(auth)
    return match.group(4).lower() if match else None


def signing_access_key(headers: dict[str, str]) -> str | None:
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    match = _CREDENTIAL_SCOPE.search(auth)
    return match.group(1) if match else None


def canonical_service(name: str) -> str:
    name = name.lower()
    return SERVICE_ALIASES.get(name, name)


def request_id() -> str:
    return str(uuid.uuid4())


def eks_error(status: int, code: str, message: str, **fields: Any) -> HttpReply:
    """rest-json error: the code travels in ``x-amzn-ErrorType``, the body carries the message
    and the exception's modeled fields (clusterName, fargateProfileName, ...)."""
    body: dict[str, Any] = {"message": message}
    body.update({k: v for k, v in fields.items() if v is not None})
    # Compact, as AWS writes it: clients that show the raw body (curl) see AWS's bytes.
    return HttpReply(status, json.dumps(body, separators=(",", ":"), default=str).encode(),
                     {"Content-Type": "application/json", "x-amzn-ErrorType": code,
                      "x-amzn-RequestId": request_id()})


def query_error(status: int, code: str, message: str, *, sender: bool = True) -> HttpReply:
    """awsQuery error document (IAM, STS, ELBv2)."""
    kind = "Sender" if sender else "Receiver"
    rid = request_id()
    body = (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        f"<Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{rid}</RequestId></ErrorResponse>"
    )
    return HttpReply(status, body.encode(), {"Content-Type": "text/xml", "x-amzn-RequestId": rid})


def ec2_error(status: int, code: str, message: str) -> HttpReply:
    """EC2's own error document (Response/Errors/Error, RequestID with capital D)."""
    rid = request_id()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Errors><Error><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error></Errors>"
        f"<RequestID>{rid}</RequestID></Response>"
    )
    return HttpReply(status, body.encode(), {"Content-Type": "text/xml;charset=UTF-8"})


def throttling_reply(service: str | None) -> HttpReply:
    """What each protocol answers when its request rate is exceeded."""
    protocol = PROTOCOLS.get(service or "", QUERY)
    if protocol == REST_JSON:
        return eks_error(429, "ThrottlingException", "Rate exceeded")
    if protocol == EC2_QUERY:
        return ec2_error(503, "RequestLimitExceeded", "Request limit exceeded.")
    return query_error(400, "Throttling", "Rate exceeded")


def server_error_reply(service: str | None, unavailable: bool) -> HttpReply:
    """A transient 5xx in each protocol's vocabulary (botocore retries all of these)."""
    protocol = PROTOCOLS.get(service or "", QUERY)
    if protocol == REST_JSON:
        if unavailable:
            return eks_error(503, "ServiceUnavailableException", "Service Unavailable")
        return eks_error(500, "ServerException", "An internal error occurred")
    if protocol == EC2_QUERY:
        if unavailable:
            return ec2_error(503, "Unavailable", "The server is overloaded and can't handle the request.")
        return ec2_error(500, "InternalError", "An internal error has occurred.")
    if unavailable:
        return query_error(503, "ServiceUnavailable", "Service is unavailable", sender=False)
    return query_error(500, "InternalFailure", "An internal error occurred", sender=False)
