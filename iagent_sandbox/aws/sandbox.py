"""``AwsSandbox``: the AWS half of the local EKS twin, as the runtime and the controllers see it.

moto (in-process, one thread) is the engine for EKS, IAM, EC2, ELBv2 and STS; the gateway adds what
moto lacks (add-ons, profile lifecycles and rules, node group updates, target health, faults).

Threading: the gateway runs on the event loop that called ``start()``; moto and all sandbox state
live behind ``lock`` and are touched on the engine thread (for requests) or by the accessors below
(which take the lock). A caller that changes moto objects through ``backend()`` should hold ``lock``.
Use one AwsSandbox per account per process: moto's state is process-global and ``stop()`` resets it.

Do not call boto3 (sync) on the gateway's own event loop thread: it would block the loop that has to
answer it. Use aiobotocore, or ``asyncio.to_thread`` around boto3 calls.
"""

from __future__ import annotations

import base64
from typing import Any

from ..clock import SandboxClock
from . import moto_time
from .access import AccessGuard, new_access_key
from .addons import Addons
from .dispatcher import Dispatcher
from .engine import MotoEngine
from .faults import AwsFaults, FaultInjector
from .fargate import FargateProfiles
from .gateway import AddonListener, Gateway
from .local_client import local_client
from .nodegroups import NodegroupUpdates
from .scenarios import ScenarioSeeder
from .target_health import TargetHealthOverrides
from .timings import AwsTimings



class AwsSandbox:
    def __init__(
        self,
        clock: SandboxClock,
        *,
        region: str = "eu-central-1",
        account_id: str = "123456789012",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        timings: AwsTimings | None = None,
    ) -> None:
        if not (account_id.isdigit() and len(account_id) == 12):
            raise ValueError(f"account_id must be 12 digits, got {account_id!r}")
        self.clock = clock
        self.region = region
        self.account_id = account_id
        # The account administrator's keys: generated per sandbox unless given (both or neither),
        # in AWS's formats. Every request to the endpoint must be signed with these or with an
        # IAM user's keys created in the sandbox.
        if (access_key_id is None) != (secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or neither")
        if access_key_id is None or secret_access_key is None:
            access_key_id, secret_access_key = new_access_key()
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.endpoint = ""
        self._stopped = False
        self._engine = MotoEngine(account_id, region)
        moto_time.push(clock)  # moto's own timestamps follow this sandbox's clock
        self._dispatcher = Dispatcher(self._engine, clock, timings or AwsTimings())
        self._faults = FaultInjector(clock)
        # Called as listener(cluster, addon_name, parsed configurationValues) on the gateway's loop
        # for every CreateAddon and UpdateAddon, after the change is recorded and before the
        # response is sent; a coroutine result runs as a task owned by the gateway.
        self.addon_update_listeners: list[AddonListener] = []
        self.guard = AccessGuard(self._engine, access_key_id, secret_access_key)
        self._gateway = Gateway(self._dispatcher, self._faults, lambda: self.addon_update_listeners,
                                guard=self.guard.check)

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1") -> str:
        if self._stopped:
            raise RuntimeError("this AWS sandbox was stopped (its moto state is gone); create a new one")
        if self.endpoint:
            raise RuntimeError(f"AWS sandbox already serving at {self.endpoint}")
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the AWS sandbox listens on loopback only")
        self.endpoint = await self._gateway.start(host)
        return self.endpoint

    async def stop(self) -> None:
        await self._gateway.stop()
        self.endpoint = ""
        self._stopped = True
        self._engine.reset()
        self._engine.close()
        moto_time.pop(self.clock)

    @property
    def lock(self) -> Any:
        return self._engine.lock

    def backend(self, service: str) -> Any:
        """moto's backend for this account and region: "eks", "ec2", "elbv2", "iam" or "sts"."""
        with self.lock:
            return self._engine.backend(service)

    def client(self, service: str) -> Any:
        """A boto3 client answered in-process by this sandbox (no socket, no faults, one attempt):
        safe to call on the gateway's own event loop, where a client going through the HTTP
        endpoint would block the loop that has to answer it. For the sandbox's controllers and
        seeding, never for the product (which must go through ``endpoint``)."""
        return local_client(service, self._dispatcher.handle, region=self.region,
                            access_key_id=self.access_key_id, secret_access_key=self.secret_access_key)

    def env(self) -> dict[str, str]:
        """Environment for AWS clients (CLI, boto3) pointed at this sandbox. Contains credentials:
        for child processes only, never for display."""
        if not self.endpoint:
            raise RuntimeError("start() the AWS sandbox before asking for its environment")
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    # -- scenarios ------------------------------------------------------------------------------
    def seed(self, scenario: str, cluster_name: str = "iagent-cluster") -> dict[str, Any]:
        """Create the scenario's VPC, IAM, cluster, node group, add-ons and profiles; return ids."""
        seeder = ScenarioSeeder(
            self._dispatcher, self.clock, region=self.region, account_id=self.account_id,
            access_key_id=self.access_key_id, secret_access_key=self.secret_access_key,
        )
        return seeder.seed(scenario, cluster_name)

    def set_cluster_endpoint(self, cluster_name: str, url: str, ca_pem: bytes) -> None:
        """Make describe-cluster return the sandbox Kubernetes API server and its CA."""
        with self.lock:
            cluster = self._eks_cluster(cluster_name)
            cluster.endpoint = url
            cluster.certificate_authority = {"data": base64.b64encode(ca_pem).decode()}

    def _eks_cluster(self, cluster_name: str) -> Any:
        cluster = self._engine.backend("eks").clusters.get(cluster_name)
        if cluster is None:
            raise KeyError(f"no EKS cluster named {cluster_name!r} in the AWS sandbox")
        return cluster

    # -- Fargate profiles -------------------------------------------------------------------------
    @property
    def profiles(self) -> FargateProfiles:
        return self._dispatcher.profiles

    def fargate_profiles(self, cluster_name: str) -> list[dict[str, Any]]:
        """Profiles in EKS API shape with their current status (CREATING/ACTIVE/DELETING)."""
        with self.lock:
            self._dispatcher.settle()
            return self._dispatcher.profiles.as_dicts(cluster_name)

    # -- add-ons ------------------------------------------------------------------------------
    @property
    def addons(self) -> Addons:
        return self._dispatcher.addons

    @property
    def controlled_addons(self) -> set[str]:
        """Add-on names whose updates a controller completes (``complete_addon_update``) instead of
        the automatic UPDATING -> ACTIVE after a drawn delay."""
        return self._dispatcher.addons.controlled

    def addon(self, cluster_name: str, name: str) -> dict[str, Any] | None:
        """The add-on in DescribeAddon shape (datetimes, plus ``configuration``: the parsed
        configurationValues), or None."""
        with self.lock:
            self._dispatcher.settle()
            addon = self._dispatcher.addons.get(cluster_name, name)
            return addon.to_dict() if addon else None

    def set_addon_health(self, cluster_name: str, name: str, status: str, issues: list[dict[str, Any]]) -> None:
        """Set status (AddonStatus) and health issues ({code, message, resourceIds})."""
        with self.lock:
            self._dispatcher.settle()
            self._dispatcher.addons.set_health(cluster_name, name, status, issues)

    def complete_addon_update(self, cluster_name: str, name: str, status: str = "ACTIVE",
                              issues: Any = ()) -> None:
        """End the add-on's in-progress update: ACTIVE (update Successful) or DEGRADED /
        UPDATE_FAILED (update Failed, issues become its errors)."""
        with self.lock:
            self._dispatcher.settle()
            self._dispatcher.addons.complete_update(cluster_name, name, status, list(issues))

    # -- node groups ----------------------------------------------------------------------------
    def nodegroup(self, cluster_name: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            self._dispatcher.settle()
            return self._dispatcher.nodegroups.as_dict(cluster_name, name)

    @property
    def nodegroups(self) -> NodegroupUpdates:
        return self._dispatcher.nodegroups

    # -- faults ---------------------------------------------------------------------------------
    @property
    def faults(self) -> AwsFaults:
        return self._faults.faults

    @faults.setter
    def faults(self, value: AwsFaults) -> None:
        value.validate()
        self._faults.faults = value

    # -- target health --------------------------------------------------------------------------
    @property
    def target_health(self) -> TargetHealthOverrides:
        return self._dispatcher.target_health

    def set_target_health(self, tg_arn: str, target_id: str, port: int, state: str,
                          reason: str | None = None, description: str | None = None) -> None:
        """What DescribeTargetHealth reports for this target from now on. ``description`` defaults
        to ELB's text for ``reason``."""
        with self.lock:
            self._dispatcher.target_health.set(tg_arn, target_id, port, state, reason, description)

    def clear_target(self, tg_arn: str, target_id: str, port: int) -> None:
        with self.lock:
            self._dispatcher.target_health.clear(tg_arn, target_id, port)
