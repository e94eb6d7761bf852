"""Bearer tokens for the Kubernetes API: static, from a kubeconfig, or minted for EKS.

The EKS token is made exactly the way ``aws eks get-token`` makes it: a presigned STS
GetCallerIdentity URL whose signature covers the header ``x-k8s-aws-id: <cluster>``, valid 60 s
for the presign (STS honours such URLs for 15 minutes), prefixed ``k8s-aws-v1.`` and base64url
encoded without padding. Like the CLI we treat it as usable for 14 minutes, refresh it a minute
before that, and refresh at once when the API server answers 401 (``invalidate()``), so a
long-running dashboard never dies on an expired token (a known k9s failure).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from ..model import AuthKind

TOKEN_PREFIX = "k8s-aws-v1."
K8S_AWS_ID_HEADER = "x-k8s-aws-id"
PRESIGN_EXPIRES_SECONDS = 60
TOKEN_LIFETIME = timedelta(minutes=14)  # what `aws eks get-token` reports as expirationTimestamp
REFRESH_MARGIN = timedelta(seconds=60)
EXEC_TOKEN_REUSE = timedelta(minutes=5)
EXEC_EXPIRY_MARGIN = timedelta(minutes=5)  # kubernetes_asyncio's allowance for clock skew, kept

Now = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class TokenSource(Protocol):
    """Something that hands out a currently valid bearer token."""

    kind: AuthKind

    async def token(self) -> str: ...

    def invalidate(self) -> None:
        """Forget the cached token (the server said 401); the next token() makes a new one."""

    @property
    def expires_at(self) -> datetime | None: ...


class StaticToken:
    """A fixed token (a service-account token in a kubeconfig). It cannot be refreshed."""

    kind: AuthKind = "token"

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token

    def invalidate(self) -> None:
        pass

    @property
    def expires_at(self) -> datetime | None:
        return None

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"


def encode_token(presigned_url: str) -> str:
    return TOKEN_PREFIX + base64.urlsafe_b64encode(presigned_url.encode()).decode().rstrip("=")


def decode_token(token: str) -> str:
    """The presigned URL inside an EKS token; ValueError when it is not one."""
    if not token.startswith(TOKEN_PREFIX):
        raise ValueError(f"not an EKS token: it does not start with {TOKEN_PREFIX!r}")
    body = token[len(TOKEN_PREFIX) :]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not an EKS token: the payload is not base64url text") from exc


def _register_cluster_header(sts_client: Any) -> None:
    """Make the STS client sign ``x-k8s-aws-id`` (the same two hooks the aws CLI registers):
    the cluster name travels from the call's params into the request context, then into a
    header just before signing, so it is covered by the signature but not sent as a parameter."""

    def retrieve(params: dict, context: dict, **_: Any) -> None:
        if K8S_AWS_ID_HEADER in params:
            context[K8S_AWS_ID_HEADER] = params.pop(K8S_AWS_ID_HEADER)

    def inject(request: Any, **_: Any) -> None:
        if K8S_AWS_ID_HEADER in request.context:
            request.headers[K8S_AWS_ID_HEADER] = request.context[K8S_AWS_ID_HEADER]

    sts_client.meta.events.register("provide-client-params.sts.GetCallerIdentity", retrieve)
    sts_client.meta.events.register("before-sign.sts.GetCallerIdentity", inject)


async def make_eks_token(session: Any, cluster_name: str, region: str, endpoint_url: str | None = None) -> str:
    """Mint one EKS token with an aiobotocore session (no network call: presigning is local)."""
    async with session.create_client("sts", region_name=region, endpoint_url=endpoint_url) as sts:
        _register_cluster_header(sts)
        url = await sts.generate_presigned_url(
            "get_caller_identity",
            Params={K8S_AWS_ID_HEADER: cluster_name},
            ExpiresIn=PRESIGN_EXPIRES_SECONDS,
            HttpMethod="GET",
        )
    return encode_token(url)


class EksToken:
    """EKS tokens minted on demand, cached until a minute before their 14-minute lifetime ends."""

    kind: AuthKind = "eks"

    def __init__(
        self,
        session: Any,
        cluster_name: str,
        region: str,
        endpoint_url: str | None = None,
        *,
        lifetime: timedelta = TOKEN_LIFETIME,
        now: Now = _utcnow,
    ) -> None:
        self._session = session
        self.cluster_name = cluster_name
        self._region = region
        self._endpoint_url = endpoint_url
        self._lifetime = lifetime
        self._now = now
        self._token: str | None = None
        self._expires_at: datetime | None = None
        self._lock = asyncio.Lock()
        self.minted = 0  # how many tokens were made: lets tests and `doctor` see refreshes

    @property
    def expires_at(self) -> datetime | None:
        return self._expires_at

    def _fresh(self) -> bool:
        return (
            self._token is not None
            and self._expires_at is not None
            and self._now() < self._expires_at - min(REFRESH_MARGIN, self._lifetime / 4)
        )

    async def token(self) -> str:
        if self._fresh():
            return self._token  # type: ignore[return-value]
        async with self._lock:  # one refresh even when many requests notice expiry together
            if not self._fresh():
                issued = self._now()
                self._token = await make_eks_token(self._session, self.cluster_name, self._region, self._endpoint_url)
                self._expires_at = issued + self._lifetime
                self.minted += 1
            return self._token  # type: ignore[return-value]

    def invalidate(self) -> None:
        self._token = None
        self._expires_at = None

    def __repr__(self) -> str:
        return f"EksToken(cluster={self.cluster_name!r}, region={self._region!r}, expires_at={self._expires_at})"


class KubeconfigToken:
    """The token of a kubeconfig user (kubeconfig.KubeconfigUser): a static ``token``/``tokenFile``
    or an ``exec`` plugin such as ``aws eks get-token``. Exec tokens are re-run when they are
    about to expire or after a 401; ``first`` is the credential the connection already fetched."""

    kind: AuthKind = "token"

    def __init__(self, user: Any, first: tuple[str, datetime | None] | None = None) -> None:
        self._user = user
        self._lock = asyncio.Lock()
        self._cached: tuple[str, datetime] | None = None
        self._expires_at: datetime | None = None
        self._is_exec = bool(user.is_exec)
        if self._is_exec:
            self.kind = "eks" if "eks" in " ".join(user.exec_args) else "token"
            if first is not None and first[0]:
                self._keep(*first)

    def _keep(self, token: str, expires_at: datetime | None) -> None:
        # Like kubectl, an exec credential is run again a few minutes before its expiry; a plugin
        # that gives none would run on every request, so such tokens are kept for EXEC_TOKEN_REUSE
        # (and dropped at once on a 401).
        self._expires_at = expires_at
        self._cached = (token, expires_at - EXEC_EXPIRY_MARGIN if expires_at else _utcnow() + EXEC_TOKEN_REUSE)

    @property
    def expires_at(self) -> datetime | None:
        return self._expires_at

    async def token(self) -> str:
        async with self._lock:
            if self._cached is not None and _utcnow() < self._cached[1]:
                return self._cached[0]
            token, expires_at = await self._user.credential()
            if not token:
                raise ValueError("the kubeconfig user has no bearer token (client certificates are not supported here)")
            if self._is_exec:
                self._keep(token, expires_at)
            return token

    def invalidate(self) -> None:
        self._cached = None
        self._expires_at = None

    def __repr__(self) -> str:
        return f"KubeconfigToken(exec={self._is_exec})"
