"""The sandbox API server's check of EKS bearer tokens (what aws-iam-authenticator does on EKS).

A real EKS control plane forwards the presigned STS GetCallerIdentity URL inside the token to STS,
which recomputes the SigV4 signature. The sandbox knows the secret of every access key it issued,
so it recomputes the signature itself with botocore's SigV4 signer, as the AWS gateway does. The
signature covers the header ``x-k8s-aws-id: <cluster>``, so a token minted for another cluster
fails. Age is checked on the real wall clock (X-Amz-Date is written by botocore from the wall
clock, not the sandbox clock), with the 15-minute window real EKS applies.
"""

from __future__ import annotations

import base64
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"
_CLOCK_SKEW_SECONDS = 300  # tokens dated slightly in the future are fine (clock drift)


def _aws_sts_host(host: str) -> bool:
    hostname = host.split(":", 1)[0]
    return hostname == "sts.amazonaws.com" or (
        hostname.startswith("sts.") and (hostname.endswith(".amazonaws.com") or hostname.endswith(".amazonaws.com.cn"))
    )


def _loopback_host(host: str) -> bool:
    # The sandbox's AWS gateway listens on loopback; tokens presigned against it name that host.
    return host.split(":", 1)[0] in ("127.0.0.1", "localhost", "[::1]")


class EksTokenVerifier:
    def __init__(
        self,
        cluster_name: str,
        credentials: Mapping[str, str],
        max_age_seconds: float = 900,
        *,
        allowed_hosts: Iterable[str] | None = None,
        wall_time: Callable[[], float] = time.time,
    ) -> None:
        self.cluster_name = cluster_name
        self._credentials = credentials  # access key id -> secret access key (read at verify time)
        self.max_age_seconds = max_age_seconds
        self._allowed_hosts = frozenset(allowed_hosts) if allowed_hosts is not None else None
        self._wall_time = wall_time

    def verify(self, token: str) -> bool:
        return self.check(token) is None

    def access_key_id(self, token: str) -> str | None:
        """Who the token belongs to, if it is valid."""
        if self.check(token) is not None:
            return None
        query = dict(parse_qsl(urlsplit(self._decode(token) or "").query, keep_blank_values=True))
        return query["X-Amz-Credential"].split("/", 1)[0]

    @staticmethod
    def _decode(token: str) -> str | None:
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
            return None
        body = token[len(TOKEN_PREFIX) :]
        try:
            return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None

    def _host_allowed(self, host: str) -> bool:
        if self._allowed_hosts is not None:
            return host in self._allowed_hosts
        return _aws_sts_host(host) or _loopback_host(host)

    def check(self, token: str) -> str | None:
        """None when the token is valid, else why not (for the API server's log, never the client)."""
        url = self._decode(token)
        if url is None:
            return "not an EKS token (k8s-aws-v1. + base64url presigned URL expected)"
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            return "the token does not hold an absolute URL"
        if parts.scheme == "http" and not _loopback_host(parts.netloc):
            return "only https STS URLs are accepted"
        if not self._host_allowed(parts.netloc):
            return f"{parts.netloc} is not an STS endpoint"
        if parts.path not in ("", "/"):
            return "the presigned URL path must be /"
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = dict(pairs)
        if len(query) != len(pairs):
            return "repeated query parameters"
        if query.get("Action") != "GetCallerIdentity" or query.get("Version") != "2011-06-15":
            return "the URL is not an STS GetCallerIdentity call"
        if query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            return "unsupported signing algorithm"
        signature = query.get("X-Amz-Signature", "")
        signed_headers = query.get("X-Amz-SignedHeaders", "")
        if set(signed_headers.split(";")) != {"host", CLUSTER_HEADER}:
            return f"signed headers must be host;{CLUSTER_HEADER}"
        scope = query.get("X-Amz-Credential", "").split("/")
        if len(scope) != 5 or scope[3] != "sts" or scope[4] != "aws4_request":
            return "malformed credential scope"
        access_key, date_stamp, region = scope[0], scope[1], scope[2]
        secret = self._credentials.get(access_key)
        if secret is None:
            return "unknown access key"
        amz_date = query.get("X-Amz-Date", "")
        try:
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return "malformed X-Amz-Date"
        if not amz_date.startswith(date_stamp):
            return "X-Amz-Date does not match the credential scope"
        age = self._wall_time() - signed_at.timestamp()
        if age > self.max_age_seconds:
            return "token expired"
        if age < -_CLOCK_SKEW_SECONDS:
            return "token is dated in the future"

        # Recomputed by botocore's own SigV4 signer (the code that presigned it): the URL minus
        # its signature, the headers it signed (host and the cluster id), no body.
        unsigned_query = "&".join(p for p in parts.query.split("&")
                                  if p and p.partition("=")[0] != "X-Amz-Signature")
        request = AWSRequest(method="GET", url=f"{parts.scheme}://{parts.netloc}/?{unsigned_query}",
                             headers={"host": parts.netloc, CLUSTER_HEADER: self.cluster_name})
        request.context["timestamp"] = amz_date
        auth = SigV4Auth(Credentials(access_key, secret), "sts", region)
        expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
        if not hmac.compare_digest(expected, signature):
            return "signature mismatch (wrong cluster, wrong secret or altered token)"
        return None
