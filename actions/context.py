"""What an action works with: the settings, the open AWS and Kubernetes clients (reads and
changes), and how often to poll while waiting."""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, AsyncIterator

from iagent_tui.config import Settings
from iagent_tui.deadlines import deadline_seconds
from iagent_tui.services.aws import AwsServices
from iagent_tui.services.aws_changes import AwsChanges, account_of
from iagent_tui.services.connection import Connection
from iagent_tui.services.kube import KubeClient
from iagent_tui.services.kube_changes import KubeChanges

if TYPE_CHECKING:
    from iagent_tui.insights.assessment import Assessment

POLL_ENV = "IAGENT_ACTION_POLL_SECONDS"


@dataclass(frozen=True)
class PollPolicy:
    """Waits poll every ``first`` seconds, growing to ``longest`` (the EKS waiters poll every
    10-30 s; a shorter start shows progress sooner). How long each may wait is its kind's deadline
    (iagent_tui/deadlines.py, ``waits:`` in the settings); ``timeout``, when given, caps them all."""

    first: float = 2.0
    longest: float = 10.0
    timeout: float | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "PollPolicy":
        """A faster cadence for a sped-up sandbox (IAGENT_ACTION_POLL_SECONDS=0.1)."""
        raw = (env if env is not None else os.environ).get(POLL_ENV, "").strip()
        if not raw:
            return cls()
        try:
            seconds = float(raw)
        except ValueError:
            raise ValueError(f"{POLL_ENV} must be a number of seconds, got {raw!r}") from None
        if seconds <= 0:
            raise ValueError(f"{POLL_ENV} must be greater than 0, got {raw!r}")
        return cls(first=seconds, longest=seconds * 5)


@dataclass
class ActionContext:
    settings: Settings
    connection: Connection
    aws: AwsServices
    kube: KubeClient
    poll: PollPolicy = field(default_factory=PollPolicy)
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    _cluster: dict | None = None

    @property
    def cluster_name(self) -> str:
        return self.settings.cluster

    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def aws_changes(self) -> AwsChanges:
        return AwsChanges(self.aws)

    @property
    def kube_changes(self) -> KubeChanges:
        return KubeChanges(self.kube)

    async def cluster(self) -> dict:
        """DescribeCluster, read once per action (ARN, VPC, OIDC issuer do not change)."""
        if self._cluster is None:
            self._cluster = await self.aws.describe_cluster_raw(self.cluster_name)
        return self._cluster

    async def account(self) -> str:
        return account_of((await self.cluster())["arn"])

    async def vpc_id(self) -> str:
        return ((await self.cluster()).get("resourcesVpcConfig") or {}).get("vpcId", "")

    def deadline(self, kind: str, base: float | None = None) -> float:
        """Seconds a wait of ``kind`` may take (iagent_tui/deadlines.py; ``base``: a rollout's
        progressDeadlineSeconds)."""
        seconds = deadline_seconds(kind, self.settings.waits, base)
        return min(seconds, self.poll.timeout) if self.poll.timeout else seconds

    @property
    def read_only(self) -> bool:
        return self.settings.read_only or self.connection.read_only

    async def assessment(self) -> Assessment:
        """The one assessment of the cluster as it is now (the one-shot read `status` makes), for
        plans: never cached, a plan is about now. Raises AssessmentUnavailable with the reason when
        the cluster cannot be read in time; plans say so instead of pretending all is well."""
        from iagent_tui.insights.assessment import assess
        from iagent_tui.services.monitor import ClusterMonitor

        try:
            snap = await asyncio.wait_for(ClusterMonitor(self.connection, self.settings).one_shot(),
                                          ASSESSMENT_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            raise AssessmentUnavailable(f"reading the cluster took longer than {ASSESSMENT_TIMEOUT_SECONDS} s") from None
        return assess(snap, self.settings)


class AssessmentUnavailable(Exception):
    """The cluster could not be assessed for a plan; the message says why."""


ASSESSMENT_TIMEOUT_SECONDS = 60


@asynccontextmanager
async def open_context(settings: Settings, connection: Connection, poll: PollPolicy | None = None,
                       env: dict[str, str] | None = None) -> AsyncIterator[ActionContext]:
    aws = AwsServices(connection.aws)
    kube = KubeClient(connection)
    try:
        yield ActionContext(settings, connection, aws, kube, poll or PollPolicy.from_env(env),
                            dict(env if env is not None else os.environ))
    finally:
        await kube.close()
        await aws.close()
