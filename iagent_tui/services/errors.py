"""The one place that turns AWS and Kubernetes failures into sentences a person can act on.

Every service call that fails is re-raised as a ServiceError: a ``kind`` the code can branch on
(retry when throttled, mark "not evaluated" when not permitted, ...) and a ``message`` that says
what failed, on which object, why, and what to do next. AccessDenied / 403 is "not permitted",
never "nothing there": a panel must not show an empty list because the caller lacked a permission.
"""

from __future__ import annotations

from typing import Literal

ErrorKind = Literal["not_permitted", "not_found", "conflict", "throttled", "unreachable", "auth", "invalid", "server"]

# botocore error codes by kind. Codes are matched exactly, then by the prefixes below.
_AWS_CODES: dict[str, ErrorKind] = {
    "AccessDenied": "not_permitted",
    "AccessDeniedException": "not_permitted",
    "UnauthorizedOperation": "not_permitted",
    "UnauthorizedException": "not_permitted",
    "Forbidden": "not_permitted",
    "ResourceNotFoundException": "not_found",
    "NoSuchEntity": "not_found",
    "NotFoundException": "not_found",
    "LoadBalancerNotFound": "not_found",
    "TargetGroupNotFound": "not_found",
    "ResourceInUseException": "conflict",
    "ResourceLimitExceededException": "conflict",
    "EntityAlreadyExists": "conflict",
    "DuplicateTargetGroupName": "conflict",
    "DuplicateLoadBalancerName": "conflict",
    "InvalidParameterException": "invalid",
    "InvalidRequestException": "invalid",
    "ValidationError": "invalid",
    "ValidationException": "invalid",
    "ClientException": "invalid",
    "MalformedPolicyDocument": "invalid",
    "UnsupportedAvailabilityZoneException": "invalid",
    "Throttling": "throttled",
    "ThrottlingException": "throttled",
    "TooManyRequestsException": "throttled",
    "RequestLimitExceeded": "throttled",
    "SlowDown": "throttled",
    "ExpiredToken": "auth",
    "ExpiredTokenException": "auth",
    "InvalidClientTokenId": "auth",
    "SignatureDoesNotMatch": "auth",
    "UnrecognizedClientException": "auth",
    "AuthFailure": "auth",
    "ServerException": "server",
    "ServiceUnavailable": "server",
    "ServiceUnavailableException": "server",
    "InternalFailure": "server",
    "InternalError": "server",
}
_AWS_PREFIXES: tuple[tuple[str, ErrorKind], ...] = (
    ("AccessDenied", "not_permitted"),
    ("Unauthorized", "not_permitted"),
    ("InvalidParameter", "invalid"),
    ("Invalid", "invalid"),
    ("Throttl", "throttled"),
    ("NotFound", "not_found"),
)

_ADVICE: dict[ErrorKind, str] = {
    "not_permitted": "Ask for the missing permission, or use a role/profile that has it.",
    "not_found": "Check the name and region, or create it first.",
    "conflict": "Wait for the other change to finish, then retry.",
    "throttled": "The service is rate limiting; the request is retried with back-off.",
    "unreachable": "Check the endpoint, network/VPN and that the cluster is running.",
    "auth": "Refresh your credentials (aws sso login, or renew the session) and retry.",
    "invalid": "Fix the request parameters shown above.",
    "server": "The service failed on its side; retry shortly.",
}


class ServiceError(Exception):
    """A failed AWS or Kubernetes call, described for a person.

    ``code`` is the AWS error code or the Kubernetes Status reason; ``status`` the HTTP status
    when there was one.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        code: str = "",
        status: int | None = None,
        action: str = "",
        target: str = "",
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.code = code
        self.status = status
        self.action = action
        self.target = target

    @property
    def retryable(self) -> bool:
        return self.kind in ("throttled", "unreachable", "server")

    def __repr__(self) -> str:
        return f"ServiceError(kind={self.kind!r}, code={self.code!r}, message={self.message!r})"


def _sentence(kind: ErrorKind, action: str, target: str, why: str) -> str:
    what = f"Could not {action}" if action else "Request failed"
    if target:
        what += f" ({target})"
    headline = {
        "not_permitted": "not permitted",
        "not_found": "not found",
        "conflict": "conflicts with the current state",
        "throttled": "throttled",
        "unreachable": "endpoint unreachable",
        "auth": "credentials rejected or expired",
        "invalid": "invalid request",
        "server": "server error",
    }[kind]
    why = why.strip().rstrip(".")
    detail = f": {why}." if why else "."
    return f"{what}: {headline}{detail} {_ADVICE[kind]}"


def _os_reason(error: BaseException | None) -> str:
    """"connection refused", "no route to host"...: what the operating system said, in words."""
    import errno as errnos

    number = getattr(error, "errno", None)
    known = {errnos.ECONNREFUSED: "connection refused (nothing listens there)",
             errnos.ECONNRESET: "connection reset", errnos.EHOSTUNREACH: "no route to host",
             errnos.ENETUNREACH: "network unreachable", errnos.ETIMEDOUT: "timed out"}
    if number in known:
        return known[number]
    text = str(getattr(error, "strerror", "") or "").strip()
    if "name or service not known" in text.lower() or "nodename nor servname" in text.lower():
        return "the host name does not resolve (DNS)"
    if text:
        return text.lower()
    return str(error or "").strip() or "no connection"  # a bare ConnectionError("...") says it itself


def connection_reason(exc: BaseException) -> str:
    """Why a connection failed, as words for a person: where to, and what happened. The one place
    that knows aiohttp's and botocore's connection exceptions, so no panel shows their class names
    ("ClientConnectorError: Cannot connect to host ... ssl:default [...]")."""
    import asyncio

    try:
        import aiohttp
    except ImportError:  # pragma: no cover - installed with the product
        aiohttp = None  # type: ignore[assignment]
    try:
        from botocore import exceptions as bce
    except ImportError:  # pragma: no cover
        bce = None  # type: ignore[assignment]
    if aiohttp is not None:
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            return f"the TLS certificate of {exc.host}:{exc.port} was not accepted (check the cluster CA)"
        if isinstance(exc, aiohttp.ClientSSLError):
            return f"the TLS handshake with {exc.host}:{exc.port} failed (check the cluster CA)"
        if isinstance(exc, aiohttp.ClientConnectorError):
            return f"cannot connect to {exc.host}:{exc.port}: {_os_reason(exc.os_error)}"
        if isinstance(exc, aiohttp.ServerDisconnectedError):
            return "the server closed the connection before answering"
        if isinstance(exc, aiohttp.ServerTimeoutError):
            return "the server did not answer in time"
        if isinstance(exc, aiohttp.ClientOSError):
            return f"network error: {_os_reason(exc)}"
        if isinstance(exc, aiohttp.ClientConnectionError):
            return "the connection failed"
    if bce is not None and isinstance(exc, (bce.ConnectionError, bce.HTTPClientError)):
        url = str(exc.kwargs.get("endpoint_url", "") or "the endpoint")
        if isinstance(exc, bce.ConnectTimeoutError):
            return f"connecting to {url} timed out"
        if isinstance(exc, bce.ReadTimeoutError):
            return f"{url} did not answer in time"
        if isinstance(exc, bce.ConnectionClosedError):
            return f"{url} closed the connection"
        if isinstance(exc, bce.EndpointConnectionError):
            return f"cannot connect to {url}"
        return f"the connection to {url} failed"
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return "no answer in time"
    if isinstance(exc, OSError):
        return _os_reason(exc)
    return "the connection failed"


def describe(exc: BaseException, action: str = "", target: str = "") -> str:
    """Any failure as the sentence to show: ServiceErrors as they are, connection failures in words,
    anything else (a bug) with its type, so it can be reported."""
    if isinstance(exc, ServiceError):
        return exc.message
    if is_connection_error(exc):
        return _sentence("unreachable", action, target, connection_reason(exc))
    return _sentence("server", action, target, f"{type(exc).__name__}: {exc}")


def is_connection_error(exc: BaseException) -> bool:
    import asyncio

    try:
        import aiohttp
        if isinstance(exc, aiohttp.ClientConnectionError):
            return True
    except ImportError:  # pragma: no cover
        pass
    try:
        from botocore import exceptions as bce
        if isinstance(exc, (bce.ConnectionError, bce.HTTPClientError)):
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(exc, (ConnectionError, asyncio.TimeoutError, TimeoutError, OSError))


def aws_kind(code: str, http_status: int | None = None) -> ErrorKind:
    if code in _AWS_CODES:
        return _AWS_CODES[code]
    for prefix, kind in _AWS_PREFIXES:
        if code.startswith(prefix):
            return kind
    if http_status == 403:
        return "not_permitted"
    if http_status == 404:
        return "not_found"
    if http_status == 409:
        return "conflict"
    if http_status == 429:
        return "throttled"
    if http_status is not None and http_status >= 500:
        return "server"
    return "invalid" if http_status and 400 <= http_status < 500 else "server"


def kube_kind(status: int) -> ErrorKind:
    if status == 401:
        return "auth"
    if status == 403:
        return "not_permitted"
    if status == 404:
        return "not_found"
    if status in (409, 410):
        return "conflict"
    if status in (400, 415, 422):
        return "invalid"
    if status == 429:
        return "throttled"
    return "server"


def from_aws(exc: BaseException, action: str = "", target: str = "") -> ServiceError:
    """Map a botocore/aiobotocore exception. Unknown exceptions become kind "server"."""
    from botocore import exceptions as bce

    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, bce.ClientError):
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code", "") or "")
        msg = str(err.get("Message", "") or err.get("message", "") or "")
        http = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        kind = aws_kind(code, http)
        why = f"{code}: {msg}" if msg else code
        return ServiceError(kind, _sentence(kind, action, target, why), code=code, status=http, action=action, target=target)
    if isinstance(exc, (bce.ConnectionError, bce.HTTPClientError)):  # endpoint connection, connect/read timeouts, closed connections
        return ServiceError("unreachable", _sentence("unreachable", action, target, connection_reason(exc)), code=type(exc).__name__, action=action, target=target)
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError, bce.ProfileNotFound)):
        why = f"{exc}; configure AWS credentials (aws configure, AWS_PROFILE or environment variables)"
        return ServiceError("auth", _sentence("auth", action, target, why), code=type(exc).__name__, action=action, target=target)
    if isinstance(exc, bce.NoRegionError):
        return ServiceError("invalid", _sentence("invalid", action, target, "no AWS region set; pass --region or set region in iagent.yaml"), code="NoRegionError", action=action, target=target)
    return ServiceError("server", _sentence("server", action, target, f"{type(exc).__name__}: {exc}"), code=type(exc).__name__, action=action, target=target)


def _kube_status_message(body: object) -> tuple[str, str]:
    """(reason, message) out of a Kubernetes Status body, tolerating non-JSON bodies."""
    import json

    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return "", body.strip()[:300]
    if isinstance(body, dict):
        return str(body.get("reason", "") or ""), str(body.get("message", "") or "")
    return "", ""


def _api_error_types() -> tuple[type, ...]:
    """The error-status exceptions: KubeClient's KubeHttpError, and kubernetes_asyncio's
    ApiException when that package is loaded (never loaded just to check: it is heavy)."""
    import sys

    from .kube_http import KubeHttpError

    loaded = sys.modules.get("kubernetes_asyncio.client.exceptions")
    return (KubeHttpError, loaded.ApiException) if loaded is not None else (KubeHttpError,)


def from_kube(exc: BaseException, action: str = "", target: str = "") -> ServiceError:
    """Map an error status (KubeHttpError, ApiException), an aiohttp connection error or a timeout."""
    import asyncio

    import aiohttp

    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, _api_error_types()):
        status = int(exc.status or 0)
        reason, msg = _kube_status_message(exc.body)
        kind = kube_kind(status) if status else "unreachable"
        if status == 410:
            msg = msg or "resource version too old"
        why = msg or reason or str(exc.reason or "")
        return ServiceError(kind, _sentence(kind, action, target, why), code=reason or str(exc.reason or ""), status=status, action=action, target=target)
    if isinstance(exc, aiohttp.ClientResponseError):
        kind = kube_kind(exc.status)
        return ServiceError(kind, _sentence(kind, action, target, exc.message), code=str(exc.status), status=exc.status, action=action, target=target)
    if isinstance(exc, (aiohttp.ClientConnectionError, ConnectionError, asyncio.TimeoutError, OSError)):
        return ServiceError("unreachable", _sentence("unreachable", action, target, connection_reason(exc)), code=type(exc).__name__, action=action, target=target)
    return ServiceError("server", _sentence("server", action, target, f"{type(exc).__name__}: {exc}"), code=type(exc).__name__, action=action, target=target)
