"""Where the services connect: the AWS account/region and the Kubernetes API server.

A Connection is what a real cluster produces (from a kubeconfig context, or straight from AWS with
describe-cluster and an EKS token); the services never know whether it points at AWS or at the
sandbox. Secrets never appear in repr() or logs: tokens live in TokenSource objects whose repr
hides them, and explicit AWS keys are kept out of the dataclass repr.
"""

from __future__ import annotations

import base64
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..model import ConnectionState
from .auth import EksToken, KubeconfigToken, StaticToken, TokenSource
from .errors import ServiceError
from .errors import from_aws as aws_error


@dataclass(frozen=True)
class AwsTarget:
    region: str
    profile: str | None = None  # named profile from ~/.aws/config, None = default chain
    endpoint_url: str | None = None  # None = AWS itself (or AWS_ENDPOINT_URL, which botocore honours)
    # Explicit keys (rarely needed: the default credential chain is preferred). Hidden from repr.
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    def session(self) -> Any:
        """A new aiobotocore session for this account; the caller owns the clients it creates."""
        from aiobotocore.session import AioSession

        from ..regions import botocore_data

        session = AioSession(profile=self.profile)
        session.register_component("data_loader", botocore_data())
        if self.access_key_id and self.secret_access_key:
            session.set_credentials(self.access_key_id, self.secret_access_key, self.session_token)
        return session

    @property
    def credentials_source(self) -> str:
        if self.access_key_id:
            return "explicit keys"
        return f"profile {self.profile}" if self.profile else "default credential chain"


@dataclass(frozen=True)
class KubeTarget:
    server: str
    token: TokenSource
    ca_data: bytes | None = field(default=None, repr=False)  # PEM; None = system trust store
    verify_ssl: bool = True
    tls_server_name: str | None = None
    context: str = ""


@dataclass(frozen=True)
class Connection:
    cluster_name: str
    aws: AwsTarget
    kube: KubeTarget
    read_only: bool = False

    def state(self) -> ConnectionState:
        return ConnectionState(
            context=self.kube.context,
            server=self.kube.server,
            auth_kind=self.kube.token.kind,
            token_expires_at=self.kube.token.expires_at,
            read_only=self.read_only,
        )

    def ca_file(self) -> str | None:
        """The CA as a file path (what the kubernetes client's ssl context wants), written once."""
        if self.kube.ca_data is None:
            return None
        return _ca_file(self.kube.ca_data)


_CA_FILES: dict[bytes, str] = {}


def _ca_file(pem: bytes) -> str:
    if pem not in _CA_FILES:
        fd, path = tempfile.mkstemp(prefix="iagent-ca-", suffix=".crt")
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        _CA_FILES[pem] = path
    return _CA_FILES[pem]


def aws_target(settings: Settings, endpoint_url: str | None = None) -> AwsTarget:
    return AwsTarget(region=settings.region, profile=settings.aws_profile, endpoint_url=endpoint_url)


def kubeconfig_path(settings: Settings) -> str:
    if settings.kubeconfig:
        return os.path.expanduser(settings.kubeconfig)
    return os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")


async def from_kubeconfig(settings: Settings, aws: AwsTarget | None = None) -> Connection:
    """A connection from a kubeconfig context (settings.kube_context or the current one)."""
    from .kubeconfig import ExecPluginError, KubeconfigError, load_context

    path = kubeconfig_path(settings)
    first = path.split(os.pathsep)[0]
    if not any(Path(p).exists() for p in path.split(os.pathsep) if p):
        raise ServiceError("invalid", f"Kubeconfig {first} does not exist. Pass --kubeconfig, set KUBECONFIG, or run `aws eks update-kubeconfig --name {settings.cluster}`.")
    ctx = settings.kube_context or "(current context)"
    try:
        context = load_context(path, settings.kube_context)
        credential = await context.user.credential()  # an exec plugin that fails says so now, not on the first read
    except (KubeconfigError, OSError, ValueError, TypeError, AttributeError) as exc:
        raise ServiceError("invalid", f"Cannot use kubeconfig {first} context {ctx}: {exc or type(exc).__name__}. Check the context name with `kubectl config get-contexts`.") from None
    except Exception as exc:  # exec plugin failures (e.g. aws eks get-token without credentials)
        reason = str(exc) if isinstance(exc, ExecPluginError) else f"{type(exc).__name__}: {exc}"
        raise ServiceError("auth", f"Cannot get credentials from kubeconfig {first}: {reason}. Check that the exec command in the user entry works on its own.") from None
    kube = KubeTarget(
        server=context.server,
        token=KubeconfigToken(context.user, credential) if credential[0] else StaticToken(""),
        ca_data=context.ca_data,
        verify_ssl=context.verify_ssl,
        tls_server_name=context.tls_server_name,
        context=context.name,
    )
    return Connection(settings.cluster, aws or aws_target(settings), kube, settings.read_only)


async def from_aws(settings: Settings, aws: AwsTarget | None = None) -> Connection:
    """A connection built straight from AWS: describe-cluster for endpoint and CA, EKS token auth."""
    aws = aws or aws_target(settings)
    session = aws.session()
    try:
        async with session.create_client("eks", region_name=aws.region, endpoint_url=aws.endpoint_url) as eks:
            cluster = (await eks.describe_cluster(name=settings.cluster))["cluster"]
    except ServiceError:
        raise
    except Exception as exc:
        raise aws_error(exc, "describe the EKS cluster", f"{settings.cluster} in {aws.region}") from None
    endpoint = cluster.get("endpoint") or ""
    if not endpoint:
        raise ServiceError("not_found", f"Cluster {settings.cluster} has no API endpoint yet (status {cluster.get('status')}). Wait until it is ACTIVE.")
    ca_b64 = (cluster.get("certificateAuthority") or {}).get("data")
    ca = base64.b64decode(ca_b64) if ca_b64 else None
    token = EksToken(session, settings.cluster, aws.region, aws.endpoint_url)
    kube = KubeTarget(server=endpoint, token=token, ca_data=ca, context=f"eks:{settings.cluster}")
    return Connection(settings.cluster, aws, kube, settings.read_only)


async def build_connection(settings: Settings, aws: AwsTarget | None = None) -> Connection:
    """A kubeconfig context when one is configured or present, otherwise straight from AWS."""
    if settings.kubeconfig or settings.kube_context or Path(kubeconfig_path(settings).split(os.pathsep)[0]).exists():
        return await from_kubeconfig(settings, aws)
    return await from_aws(settings, aws)
