"""moto's server application, called in-process.

Why in-process instead of ``ThreadedMotoServer`` on a second port: speed is not the reason
(measured on this shared 2-core machine, boto3 DescribeCluster x200: ~5.2 ms per call in-process
vs ~4.7 ms through a ThreadedMotoServer, i.e. equal within noise). The reasons are that there is no
second port to allocate and free, and that every call runs on one dedicated thread under one lock,
so the gateway's own state (profile deadlines, add-ons, updates) and moto's state change together,
atomically, and ``AwsSandbox``'s accessors can read both from any thread by taking the same lock.
It also lets seeding call the same dispatcher without any server running.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
from werkzeug.test import EnvironBuilder, run_wsgi_app

# Services the sandbox seeds and resets. Keys are moto backend names.
SERVICES = ("eks", "ec2", "iam", "elbv2", "sts")

# AWS managed policies the product and the scenarios attach. moto only loads the full managed
# policy catalogue (~1 000 policies) behind an env switch that would slow every IAM backend start;
# these few are installed from moto's own copy of the catalogue instead.
EKS_MANAGED_POLICIES = (
    "AmazonEKSClusterPolicy",
    "AmazonEKSServicePolicy",
    "AmazonEKSVPCResourceController",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEKSFargatePodExecutionRolePolicy",
    "AmazonSSMManagedInstanceCore",
    "CloudWatchAgentServerPolicy",
    "ElasticLoadBalancingFullAccess",
)


@dataclass
class HttpRequest:
    method: str
    path: str  # without the query string, still percent-encoded
    query_string: str
    headers: dict[str, str]
    body: bytes
    service: str | None = None  # SigV4 signing name, e.g. "eks", "elasticloadbalancing"

    @property
    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        value = json.loads(self.body)
        return value if isinstance(value, dict) else {}


@dataclass
class HttpReply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> "HttpReply":
        merged = {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}
        merged.update(headers or {})
        return cls(status, json.dumps(payload, default=str).encode(), merged)


@cache
def _moto_app() -> Any:
    # Imported lazily: moto's server module pulls in Flask and every backend index.
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


@cache
def _speed_up_moto() -> None:
    """Two moto costs that buy the sandbox nothing, measured at ~1.8 s per seed-and-reset:

    - every EC2 backend (re)creation parses ~1 300 default AMIs; nothing here launches instances;
    - moto's EKS role-ARN check builds a new boto3 Session (parsing endpoints.json, ~0.4 s) on
      every CreateCluster/CreateNodegroup just to list partitions. The replacement applies the
      same rule and message with the partitions read once.

    And one per request: moto's dispatcher lists its package directory (thousands of stat calls)
    to recognise service names; the list cannot change while the process runs.
    """
    import moto.backends as moto_backends
    import moto.settings as moto_settings

    # moto reads MOTO_EC2_LOAD_DEFAULT_AMIS=false for this; the answer is given to moto itself
    # because the sandbox may run inside another program's process (--sandbox, tests), whose
    # environment is not the sandbox's to change.
    moto_settings.ec2_load_default_amis = lambda: False

    if not getattr(moto_backends.list_of_moto_modules, "sandbox_cached", False):
        modules = tuple(moto_backends.list_of_moto_modules())

        def list_of_moto_modules() -> Any:
            return iter(modules)

        list_of_moto_modules.sandbox_cached = True  # type: ignore[attr-defined]
        moto_backends.list_of_moto_modules = list_of_moto_modules  # type: ignore[assignment]
    import moto.eks.models as eks_models
    from moto.eks.exceptions import InvalidParameterException

    if getattr(eks_models.validate_role_arn, "sandbox_cached", False):
        return
    partitions = frozenset(boto3.session.Session().get_available_partitions())
    pattern = re.compile("arn:(?P<partition>.+):iam::(?P<account_id>[0-9]{12}):role/.+")

    def validate_role_arn(arn: str) -> None:
        match = pattern.match(arn or "")
        if not (arn and match and match.group("partition") in partitions):
            raise InvalidParameterException(message="Invalid Role Arn: '" + str(arn) + "'")

    validate_role_arn.sandbox_cached = True  # type: ignore[attr-defined]
    eks_models.validate_role_arn = validate_role_arn


@cache
def _managed_policy_data() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data = json.loads(aws_managed_policies_data)
    return {name: data[name] for name in EKS_MANAGED_POLICIES if name in data}


class MotoEngine:
    """Runs moto requests on one thread; ``lock`` guards moto state and the gateway's state."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self.lock = threading.RLock()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aws-sandbox")
        _speed_up_moto()  # before any moto backend exists

    def call(self, request: HttpRequest) -> HttpReply:
        """Forward one request to moto. Caller holds ``lock`` (or accepts moto's own races)."""
        headers = dict(request.headers)
        headers.pop("Host", None)
        headers.pop("host", None)
        # moto picks the account from this header before falling back to its default account.
        headers["x-moto-account-id"] = self.account_id
        content_type = headers.pop("Content-Type", headers.pop("content-type", None))
        headers.pop("Content-Length", None)
        headers.pop("content-length", None)
        builder = EnvironBuilder(
            method=request.method,
            path=request.path,
            query_string=request.query_string,
            headers=headers,
            data=request.body,
            content_type=content_type,
        )
        environ = builder.get_environ()
        # werkzeug decodes the path; moto's routing expects the decoded form just like its server.
        with self.lock:
            app_iter, status, reply_headers = run_wsgi_app(_moto_app(), environ, buffered=True)
            try:
                body = b"".join(app_iter)
            finally:
                close = getattr(app_iter, "close", None)
                if close:
                    close()
        hop_by_hop = {"content-length", "transfer-encoding", "connection", "server", "date"}
        out = {k: v for k, v in reply_headers.items() if k.lower() not in hop_by_hop}
        return HttpReply(int(status.split()[0]), body, out)

    # -- backends ---------------------------------------------------------------------------
    def backend_dict(self, service: str) -> Any:
        from moto.backends import get_backend

        return get_backend(service)  # type: ignore[call-overload]

    def backend(self, service: str) -> Any:
        if service not in SERVICES:
            raise ValueError(f"unknown sandbox AWS service {service!r}; expected one of {SERVICES}")
        account = self.backend_dict(service)[self.account_id]
        if service in ("iam", "sts"):
            backend = account["global"]
        else:
            backend = account[self.region]
        if service == "iam":
            self._install_managed_policies(backend)
        return backend

    def _install_managed_policies(self, iam: Any) -> None:
        from moto.iam.models import AWSManagedPolicy

        for name, data in _managed_policy_data().items():
            arn = f"arn:aws:iam::aws:policy{data.get('Path', '/')}{name}"
            if arn not in iam.managed_policies:
                policy = AWSManagedPolicy.from_data(name, self.account_id, iam.region_name, data)
                iam.managed_policies[policy.arn] = policy

    def reset(self) -> None:
        """Forget everything this sandbox's account holds in moto (other accounts untouched)."""
        with self.lock:
            for service in SERVICES:
                backends = self.backend_dict(service)
                if self.account_id in backends:
                    backends[self.account_id].reset()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
