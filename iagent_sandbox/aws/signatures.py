"""SigV4 on the sandbox's AWS endpoint: every request must be signed with keys the sandbox issued.

The signature is recomputed with botocore's own ``SigV4Auth`` (the code that signed it on the
client side), from the headers the client listed as signed, the raw path, the query string and
the body; only the comparison is ours. Failures are answered with each protocol's error, worded
as AWS words them (see ``auth_error``), and nothing else about the request is looked at.
"""

from __future__ import annotations

import hmac
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qs

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .engine import HttpReply, HttpRequest
from .protocol import EC2_QUERY, PROTOCOLS, QUERY, REST_JSON, ec2_error, eks_error, query_error

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60  # AWS refuses signatures dated more than 15 minutes off
_PART = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]*)")
# Query-protocol API versions -> signing name, to answer an unsigned request in its own protocol.
_QUERY_VERSIONS = {"2016-11-15": "ec2", "2010-05-08": "iam", "2011-06-15": "sts",
                   "2015-12-01": "elasticloadbalancing"}
_SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you "
                       "provided. Check your AWS Secret Access Key and signing method. Consult "
                       "the service documentation for details.")
_INVALID_TOKEN = "The security token included in the request is invalid."
_EC2_AUTH_FAILURE = "AWS was not able to validate the provided access credentials"


@dataclass(frozen=True)
class SignedRequest:
    access_key_id: str
    date: str  # yyyymmdd of the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


class SignatureError(Exception):
    """Why a request's signature is refused: ``kind`` picks the protocol's error code."""

    def __init__(self, kind: str, message: str = "") -> None:
        super().__init__(message or kind)
        self.kind = kind  # missing | incomplete | unknown_key | mismatch | expired
        self.message = message


def header(headers: dict[str, str], name: str) -> str:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), "")


def parse_authorization(headers: dict[str, str]) -> SignedRequest:
    auth = header(headers, "Authorization")
    if not auth:
        raise SignatureError("missing")
    algorithm, _, rest = auth.partition(" ")
    parts = dict(_PART.findall(rest))
    missing = [f"Authorization header requires '{p}' parameter." for p in
               ("Credential", "Signature", "SignedHeaders") if not parts.get(p)]
    if algorithm != ALGORITHM:
        missing = [f"Unsupported AWS 'algorithm': '{algorithm}'"]
    if not header(headers, "X-Amz-Date"):
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a "
                       "'Date' header.")
    if missing:
        raise SignatureError("incomplete", " ".join(missing) + f" Authorization={auth}")
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise SignatureError("incomplete", "Credential should be scoped to correct service: "
                             f"'{parts['Credential']}'.")
    return SignedRequest(scope[0], scope[1], scope[2], scope[3],
                         tuple(parts["SignedHeaders"].split(";")), parts["Signature"])


def expected_signature(request: HttpRequest, signed: SignedRequest, secret: str) -> str:
    """The signature botocore computes for this request with ``secret``."""
    headers = {k: v for k, v in request.headers.items() if k.lower() in signed.signed_headers}
    host = header(request.headers, "Host") or "localhost"
    url = f"http://{host}{request.path or '/'}" + (f"?{request.query_string}"
                                                    if request.query_string else "")
    aws_request = AWSRequest(method=request.method, url=url, data=request.body, headers=headers)
    aws_request.context["timestamp"] = header(request.headers, "X-Amz-Date")
    auth = SigV4Auth(Credentials(signed.access_key_id, secret), signed.service, signed.region)
    canonical = auth.canonical_request(aws_request)
    return auth.signature(auth.string_to_sign(aws_request, canonical), aws_request)


def verify(request: HttpRequest, secret_for, wall_time=time.time) -> SignedRequest:
    """The request's signing details when its signature is good; else ``SignatureError``.
    ``secret_for(access_key_id)`` is the secret the sandbox issued for that key, or None."""
    signed = parse_authorization(request.headers)
    secret = secret_for(signed.access_key_id)
    if secret is None:
        raise SignatureError("unknown_key")
    amz_date = header(request.headers, "X-Amz-Date")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise SignatureError("incomplete", f"Date must be in ISO-8601 'basic format'. Got "
                             f"'{amz_date}'.") from None
    now = wall_time()
    if abs(now - signed_at.timestamp()) > MAX_SKEW_SECONDS:
        stamp = datetime.fromtimestamp(now, timezone.utc)
        fmt = "%Y%m%dT%H%M%SZ"
        if signed_at.timestamp() < now:
            bound = datetime.fromtimestamp(now - MAX_SKEW_SECONDS, timezone.utc)
            why = f"is now earlier than {bound.strftime(fmt)} ({stamp.strftime(fmt)} - 15 min.)"
        else:
            bound = datetime.fromtimestamp(now + MAX_SKEW_SECONDS, timezone.utc)
            why = f"is now later than {bound.strftime(fmt)} ({stamp.strftime(fmt)} + 15 min.)"
        raise SignatureError("expired", f"Signature expired: {amz_date} {why}")
    if not hmac.compare_digest(expected_signature(request, signed, secret), signed.signature):
        raise SignatureError("mismatch")
    return signed


def request_service(request: HttpRequest) -> str:
    """The service a request is for, signed or not (an unsigned one names none): the query
    protocols' Version parameter, else EKS's REST paths."""
    if request.service:
        return request.service
    params = parse_qs(request.query_string)
    if not params.get("Version") and "x-www-form-urlencoded" in header(request.headers, "Content-Type"):
        params = parse_qs(request.body.decode("utf-8", "replace"))
    version = (params.get("Version") or [""])[0]
    return _QUERY_VERSIONS.get(version, "eks")


def auth_error(service: str, err: SignatureError) -> HttpReply:
    """What AWS answers in this service's protocol."""
    protocol = PROTOCOLS.get(service, QUERY)
    if protocol == REST_JSON:
        if err.kind == "missing":
            # API Gateway's answer, with the code in the header only.
            return eks_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        if err.kind == "unknown_key":
            return eks_error(403, "UnrecognizedClientException", _INVALID_TOKEN)
        if err.kind == "incomplete":
            return eks_error(403, "IncompleteSignatureException", err.message)
        return eks_error(403, "InvalidSignatureException",
                         err.message if err.kind == "expired" else _SIGNATURE_MISMATCH)
    if protocol == EC2_QUERY:
        if err.kind == "missing":
            return ec2_error(401, "AuthFailure", _EC2_AUTH_FAILURE)
        if err.kind == "incomplete":
            return ec2_error(400, "IncompleteSignature", err.message)
        if err.kind == "expired":
            return ec2_error(400, "RequestExpired", "Request has expired.")
        return ec2_error(401, "AuthFailure", _EC2_AUTH_FAILURE)
    if err.kind == "missing":
        return query_error(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
    if err.kind == "unknown_key":
        return query_error(403, "InvalidClientTokenId", _INVALID_TOKEN)
    if err.kind == "incomplete":
        return query_error(400, "IncompleteSignature", err.message)
    return query_error(403, "SignatureDoesNotMatch",
                       err.message if err.kind == "expired" else _SIGNATURE_MISMATCH)
