"""Start and stop the whole sandbox: AWS gateway over moto, the Kubernetes API server, the ALB
front, and every simulated controller — and hand out the connection details a real EKS cluster
would (kubeconfig with CA and token, AWS endpoint and credentials).

Two ways to run it:
- ``SandboxRuntime`` on the caller's event loop (``iagent-tui sandbox``);
- ``SandboxThread`` on an event loop of its own in a background thread, so a test suite or the
  dashboard (``--sandbox``) talks to it over HTTP exactly as it would talk to AWS, and the
  sandbox's own work never stalls the caller's loop.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import os
import secrets
import shlex
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .clock import SandboxClock, behind_wall_lead
from .world import SandboxWorld

SCENARIOS = ("pre-migration", "migrated", "broken", "large")
CONTEXT_NAME = "iagent-sandbox"
READONLY_CONTEXT_NAME = "iagent-sandbox-readonly"
# Simulated seconds per wall second while a scenario is brought up at start: the node group's
# nodes join very fast (their join time is not shown anywhere that matters), then the workloads
# start at a speed low enough that event-loop jitter barely distorts their recorded start phases.
BOOTSTRAP_NODE_SPEED = 3000.0
BOOTSTRAP_WORKLOAD_SPEED = 100.0
# The clock never runs ahead of the wall clock (kubectl computes ages on its own clock), so the
# scenario's history starts this far back: room for the bootstrap's fast-forward (it takes a few
# simulated minutes) and for `headroom` wall seconds at the chosen speed; after that the sandbox
# runs at real time.
BOOTSTRAP_ALLOWANCE = 2 * 3600.0  # measured 17 min at speed 10, 39 at 200; stalls at 3000x add more
DEFAULT_HEADROOM = 3600.0
LARGE_HISTORY = 50_000  # changes kept for watch resume and continue tokens in the large scenario


class SandboxError(RuntimeError):
    """The sandbox could not start; the message says why and what to do."""


@dataclass
class SandboxInfo:
    cluster_name: str
    region: str
    kube_url: str
    ca_pem: bytes
    token: str
    aws_endpoint: str
    access_key_id: str
    secret_access_key: str
    alb_url: str
    extras: dict[str, Any] = field(default_factory=dict)
    # The read-only identities (identities.py): a Kubernetes token bound to `view`, and the keys
    # of the IAM user with the read-only policy.
    readonly_token: str = field(default="", repr=False)
    readonly_access_key_id: str = field(default="", repr=False)
    readonly_secret_access_key: str = field(default="", repr=False)

    def kubeconfig(self, read_only: bool = False) -> dict:
        """The admin's kubeconfig, or (read_only) the read-only user's (context
        iagent-sandbox-readonly, same cluster and CA)."""
        name = READONLY_CONTEXT_NAME if read_only else CONTEXT_NAME
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": CONTEXT_NAME, "cluster": {
                "server": self.kube_url,
                "certificate-authority-data": base64.b64encode(self.ca_pem).decode()}}],
            "users": [{"name": name, "user": {"token": self.readonly_token if read_only else self.token}}],
            "contexts": [{"name": name, "context": {
                "cluster": CONTEXT_NAME, "user": name, "namespace": "default"}}],
            "current-context": name,
            "preferences": {},
        }

    def env(self, kubeconfig_path: Path | None = None, read_only: bool = False) -> dict[str, str]:
        env = {
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "AWS_ACCESS_KEY_ID": self.readonly_access_key_id if read_only else self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": (self.readonly_secret_access_key if read_only
                                      else self.secret_access_key),
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "IAGENT_CLUSTER": self.cluster_name,
            "IAGENT_REGION": self.region,
            "IAGENT_ALB_PROXY": self.alb_url,
        }
        if kubeconfig_path is not None:
            env["KUBECONFIG"] = str(kubeconfig_path)
        return env


def write_connection_files(info: SandboxInfo, kubeconfig_path: Path, env_path: Path,
                           bin_dir: Path | None = None, read_only: bool = False) -> None:
    """Write the kubeconfig (0600: it holds a token) and a file of `export` lines to source
    (0600: it holds keys), for the admin or (read_only) for the read-only identities."""
    kubeconfig_path = kubeconfig_path.resolve()
    env_path = env_path.resolve()
    kubeconfig_path.parent.mkdir(parents=True, exist_ok=True)
    env_path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(kubeconfig_path, yaml.safe_dump(info.kubeconfig(read_only), sort_keys=False))
    who = "the read-only identities" if read_only else "the sandbox"
    lines = [f"# iagent-tui sandbox: `source` this file, then aws, kubectl and boto3 use {who}.",
             # A profile or session token in the caller's shell would take precedence over these keys.
             "unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN"]
    for name, value in info.env(kubeconfig_path, read_only).items():
        lines.append(f"export {name}={shlex.quote(value)}")
    if bin_dir is not None:
        lines.append(f'export PATH={shlex.quote(str(bin_dir.resolve()))}:"$PATH"')
    _write_private(env_path, "\n".join(lines) + "\n")


def _write_private(path: Path, text: str) -> None:
    """Create the file 0600 before any secret is written into it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    path.chmod(0o600)  # an existing file keeps its mode through O_CREAT


class SandboxRuntime:
    def __init__(self, *, speed: float = 10.0, seed: int = 0, scenario: str = "pre-migration",
                 cluster_name: str = "iagent-cluster", region: str = "eu-central-1",
                 bootstrap_timeout: float = 120.0, headroom: float = DEFAULT_HEADROOM,
                 pods: int | None = None, churn: int | None = None) -> None:
        if scenario not in SCENARIOS:
            raise SandboxError(f"unknown scenario {scenario!r}: choose one of {', '.join(SCENARIOS)}")
        if speed <= 0:
            raise SandboxError("--speed must be greater than 0")
        self.speed = speed
        self.seed = seed
        self.scenario = scenario
        self.cluster_name = cluster_name
        self.region = region
        self.bootstrap_timeout = bootstrap_timeout
        self.headroom = headroom
        # The large scenario's size and its number of rolling updates kept going (0: no churn).
        self.pods = pods
        self.churn = churn
        if (pods is not None or churn is not None) and scenario != "large":
            raise SandboxError("--pods and --churn apply to the large scenario only (--scenario large)")
        if pods is not None and pods < 100:
            raise SandboxError("--pods must be at least 100 (ten tenant namespaces of ten Deployments)")
        if churn is not None and churn < 0:
            raise SandboxError("--churn must be 0 (no churn) or more")
        self.world: SandboxWorld | None = None
        self.info: SandboxInfo | None = None
        self._kube_server = None
        self._alb = None
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> SandboxInfo:
        from .aws.sandbox import AwsSandbox
        from .controllers import start_controllers
        from .controllers import alb as alb_front
        from .controllers.logs import SandboxLogs
        from .controllers.metrics import SandboxMetrics
        from .controllers.pod_apps import SandboxApps
        from . import identities
        from .kube.eks_token import EksTokenVerifier
        from .kube.server import KubeApiServer
        from .kube.store import ObjectStore
        from .scenarios import seed_kube, settled

        clock = SandboxClock(speed=self.speed, seed=self.seed,
                             lead=behind_wall_lead(self.speed, BOOTSTRAP_ALLOWANCE, self.headroom))
        # A large cluster writes thousands of changes a minute; a real API server keeps about five
        # minutes of them (etcd compaction), so a list of 40,000 events in pages finishes before
        # its continue token expires. 2,000 changes was seen expiring every such list.
        store = ObjectStore(clock, history=LARGE_HISTORY if self.scenario == "large" else 2000)
        aws = AwsSandbox(clock, region=self.region)
        try:
            await aws.start()
            aws.seed(self.scenario, cluster_name=self.cluster_name)
            readonly_key, readonly_secret = identities.create_readonly_iam_user(aws)
        except Exception:
            await aws.stop()
            raise
        world = SandboxWorld(clock=clock, store=store, aws=aws, cluster_name=self.cluster_name,
                             region=self.region, scenario=self.scenario)
        self.world = world

        token = secrets.token_urlsafe(32)
        verifier = EksTokenVerifier(self.cluster_name, {aws.access_key_id: aws.secret_access_key,
                                                        readonly_key: readonly_secret})
        eks_users = identities.eks_token_users(verifier, aws.access_key_id, aws.account_id,
                                               lambda: readonly_key)
        self._kube_server = KubeApiServer(store, clock, token, metrics=SandboxMetrics(world),
                                          logs=SandboxLogs(world), authenticators=[eks_users],
                                          apps=SandboxApps())
        readonly_token = secrets.token_urlsafe(32)
        self._kube_server.add_token(readonly_token, identities.READONLY_USER)
        identities.seed_kube(store)
        kube_url = await self._kube_server.start()
        aws.set_cluster_endpoint(self.cluster_name, kube_url, self._kube_server.ca_pem)

        self._alb = await alb_front.start(world)

        # Bring the scenario up through the real controllers, fast-forwarded, so the timestamps,
        # events and statuses are the ones the controllers write: first the node group's nodes
        # (the cluster existed before its workloads), then the workloads.
        clock.set_speed(max(self.speed, BOOTSTRAP_NODE_SPEED))
        self._tasks = start_controllers(world)
        await asyncio.sleep(0)  # let controllers register their admission hooks and watches
        await self._wait_until(lambda: _nodegroup_nodes_ready(world), "the node group's nodes")
        clock.set_speed(max(self.speed, BOOTSTRAP_WORKLOAD_SPEED))
        await seed_kube(world)
        await self._wait_until(lambda: settled(world), f"scenario {self.scenario}")
        if self.scenario == "large":
            await self._grow_large(world)
            # Millions of objects now live for good: out of the collector's sight (gc.freeze),
            # or every full collection walks them all and the API server stalls for seconds.
            gc.freeze()
        clock.set_speed(self.speed)
        if self.scenario == "large":
            from .scenario_large import CHURN_ROLLOUTS, churn
            rollouts = CHURN_ROLLOUTS if self.churn is None else self.churn
            self._tasks.append(asyncio.create_task(churn(world, rollouts), name="large:churn"))

        self.info = SandboxInfo(
            cluster_name=self.cluster_name, region=self.region, kube_url=kube_url,
            ca_pem=self._kube_server.ca_pem, token=token, aws_endpoint=aws.endpoint,
            access_key_id=aws.access_key_id, secret_access_key=aws.secret_access_key,
            alb_url=self._alb.url, readonly_token=readonly_token,
            readonly_access_key_id=readonly_key, readonly_secret_access_key=readonly_secret)
        return self.info

    async def _grow_large(self, world: SandboxWorld) -> None:
        """Copy the tenants' settled pods up to the scenario's size, then let the controllers
        (replica sets, deployments, load balancer targets) catch up with the copies."""
        from .scenario_large import DEFAULT_PODS, scale_out, shape
        from .scenarios import settled

        scale_out(world, shape(self.pods or DEFAULT_PODS))
        await asyncio.sleep(0)
        await self._wait_until(lambda: settled(world), "the large scenario's copies")

    async def _wait_until(self, predicate, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.bootstrap_timeout
        while not predicate():
            if loop.time() > deadline:
                raise SandboxError(f"{what} did not come up within {self.bootstrap_timeout:.0f} s")
            # Checking a large scenario costs milliseconds: look less often while it grows.
            await asyncio.sleep(0.02 if self.scenario != "large" else 0.25)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._alb is not None:
            await self._alb.stop()
        if self._kube_server is not None:
            await self._kube_server.stop()
        if self.world is not None:
            await self.world.aws.stop()

    # -- faults (issue: switchable per test) ----------------------------------------------------
    def drop_watches(self) -> None:
        self._kube_server.drop_watches()

    def expire_token(self) -> None:
        self._kube_server.expire_token()


def _nodegroup_nodes_ready(world: SandboxWorld) -> bool:
    from .kube.resources import rt
    desired = 0
    cluster = world.aws.backend("eks").clusters.get(world.cluster_name)
    for name in list(cluster.nodegroups) if cluster is not None else ():
        group = world.aws.nodegroup(world.cluster_name, name) or {}
        desired += int((group.get("scalingConfig") or {}).get("desiredSize") or 0)
    nodes, _ = world.store.list(rt("nodes"), label_selector="eks.amazonaws.com/nodegroup")
    ready = [n for n in nodes if any(c.get("type") == "Ready" and c.get("status") == "True"
                                     for c in (n.get("status") or {}).get("conditions") or [])]
    return len(ready) >= desired


class SandboxThread:
    """A sandbox on its own event loop in a daemon thread; ``start()`` blocks until it is ready."""

    def __init__(self, **kwargs: Any) -> None:
        self.runtime = SandboxRuntime(**kwargs)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="iagent-sandbox",
                                        daemon=True)
        self.info: SandboxInfo | None = None

    def start(self, timeout: float = 180.0) -> SandboxInfo:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self.runtime.start(), self.loop)
        self.info = future.result(timeout)
        return self.info

    def call(self, fn, *args: Any) -> Any:
        """Run ``fn(*args)`` on the sandbox's loop (e.g. a fault switch) and return its result."""
        async def _run():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(_run(), self.loop).result(10)

    def run(self, coro, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if self._thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self.runtime.stop(), self.loop).result(20)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self._thread.join(10)

    def __enter__(self) -> "SandboxThread":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
