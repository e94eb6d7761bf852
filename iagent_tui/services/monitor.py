"""ClusterMonitor: streams the cluster (Kubernetes watches + adaptive AWS polls) into Snapshots.

One monitor per connection; it owns every task it starts (``start()`` / ``stop()``). Watches keep
objects current (services.kube.Reflector), each reduced as it arrives to what snapshots need
(events: a bounded window, services.event_window); snapshots are built from what changed since the
last one (services.snapshot_parts). AWS is polled in one loop that waits for each round to finish
before scheduling the next (never overlapping), within a budget of calls a minute
(settings.aws_calls_per_minute): everything every ~30 s, and every ~2 s just what is changing (a
profile CREATING, an add-on UPDATING, a target group with targets ``initial``...); both stretch
when the budget cannot pay for them, and slow down after throttling. Changes are coalesced: at
most one Snapshot per ~100 ms burst.

A failing source keeps its last data; its SourceState says since when it is stale and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..config import Settings
from ..insights.usage import UsageRecord, UsageSummary
from ..model import (
    Addon,
    ClusterInfo,
    ConnectionState,
    FargateProfile,
    LoadBalancer,
    NodeGroup,
    Snapshot,
    SourceState,
    Target,
    TargetGroup,
)
from . import convert
from .aws import AwsServices, profile_from_api
from .call_budget import CallBudget, count_calls
from .cluster_match import cluster_mismatch
from .connection import Connection
from .usage_sampler import RECORD_SAVE_SECONDS, UsageSampler, save_usage_record, workloads_by_pod
from .errors import ServiceError, describe
from .event_window import EventWindow, event_model
from .kube import (
    DAEMONSETS,
    DEPLOYMENTS,
    EVENTS,
    INGRESSES,
    PERSISTENTVOLUMECLAIMS,
    PERSISTENTVOLUMES,
    NODES,
    PODS,
    SERVICES,
    STATEFULSETS,
    TARGETGROUPBINDINGS,
    KubeClient,
    Reflector,
    Resource,
    TrackedStore,
)
from .snapshot_parts import SnapshotParts

WATCHED: tuple[Resource, ...] = (
    NODES, PODS, EVENTS, SERVICES, DEPLOYMENTS, DAEMONSETS, STATEFULSETS, INGRESSES, TARGETGROUPBINDINGS,
    PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES,  # which volumes Fargate can mount (EFS only, never EBS)
)
OPTIONAL: frozenset[str] = frozenset({"targetgroupbindings"})  # a CRD: absent until the LBC is installed
AWS_SOURCES = ("cluster", "fargate_profiles", "nodegroups", "addons", "load_balancers", "target_groups", "iam_roles")
BACK_OFF_KINDS = frozenset({"throttled", "unreachable", "server", "auth"})
# Routine polling spends at most this share of the call budget; the rest stays free in the
# budget's minute, so that a user's poll_now() after an action starts at once.
ROUTINE_SHARE = 0.85
# Of the routine share, full rounds get at most this much; changes and the sentinel keep the rest.
# With the default 60 a minute, a small cluster keeps its usual pace: a full round (~15 calls)
# every 30 s and the sentinel every 3 s.
FULL_SHARE = 0.6
DUE_EARLY = 0.05  # seconds: a timer that fires a hair early still starts the full round it was for
CLUSTER_CHANGING = frozenset({"CREATING", "UPDATING", "DELETING", "PENDING"})
DRAINING = frozenset({"draining", "unhealthy.draining"})
SOURCE_OF = {"cluster": "cluster", "profile": "fargate_profiles", "addon": "addons", "nodegroup": "nodegroups",
             "load_balancers": "load_balancers", "target_group": "target_groups"}


@dataclass(frozen=True)
class AwsPace:
    """How often the monitor reads AWS now, in seconds, within its call budget."""
    full_every: float  # every source, completely
    changes_every: float | None  # one batch of what is changing (None: nothing is)
    batch: int  # reads in such a batch
    waiting: int  # things changing, read in turn, a batch at a time
    sentinel_every: float | None  # the profile list (None: skipped, the budget has nothing left)
    stretched: bool  # the budget, not the wanted intervals, set this pace


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def server_now(estimate: datetime, *written: datetime | None) -> datetime:
    """Now on the API server's clock: the estimate (our clock + the skew measured from the last
    response's Date header), but never before a creationTimestamp the server already wrote. The
    skew is measured when a list answers, and watches stream for minutes without a Date header, so
    a server clock that runs faster than ours (a sandbox catching up with the wall clock) outruns
    it: a Fargate node created since would otherwise be "created in the future" and show age 0s
    where kubectl, which the server answers with its own ages, shows minutes."""
    newest = max((t for t in written if t is not None), default=None)
    return max(estimate, newest) if newest is not None else estimate


class _Subscription:
    """Latest-only mailbox: a slow reader skips intermediate snapshots instead of queueing them."""

    def __init__(self) -> None:
        self.latest: Snapshot | None = None
        self.event = asyncio.Event()

    def put(self, snap: Snapshot) -> None:
        self.latest = snap
        self.event.set()

    async def get(self) -> Snapshot:
        await self.event.wait()
        self.event.clear()
        assert self.latest is not None
        return self.latest


class ClusterMonitor:
    def __init__(
        self,
        connection: Connection,
        settings: Settings,
        *,
        fast_interval: float = 2.0,
        slow_interval: float = 30.0,
        max_interval: float = 120.0,
        sentinel_interval: float = 3.0,
        coalesce_seconds: float = 0.1,
        watch_timeout: int = 300,
        watch_max_backoff: float = 30.0,
        now: Callable[[], datetime] = _utcnow,
        aws_config: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.cluster_name = settings.cluster or connection.cluster_name
        self.fast_interval = fast_interval
        self.slow_interval = slow_interval
        self.max_interval = max_interval
        self.coalesce_seconds = coalesce_seconds
        self.watch_timeout = watch_timeout
        self.watch_max_backoff = watch_max_backoff
        self._local_now = now
        self.sentinel_interval = sentinel_interval
        self._aws_config = aws_config  # botocore Config; None = services.aws.RETRY_CONFIG
        self._clock = clock  # for the call budget and the AWS polling pace
        self.budget = CallBudget(settings.aws_calls_per_minute, clock=clock)
        self._full_cost = 0  # calls the last full round made
        self._last_full: float | None = None
        self._read_at: dict[tuple[str, str], float] = {}  # changing things read since the last full round
        self._pending: set[tuple[str, str]] = set()  # profiles the sentinel saw appear or vanish
        self._partial_failed: set[str] = set()  # sources whose last failure was in a round of changes
        self._full_requested = False
        self._wake = asyncio.Event()
        self._drift_cache: tuple[Any, frozenset[str]] = (None, frozenset())
        self.kube: KubeClient | None = None
        self.aws: AwsServices | None = None
        self.reflectors: list[Reflector] = []
        self._tasks: list[asyncio.Task] = []
        self._dirty = asyncio.Event()
        self._subs: list[_Subscription] = []
        self._callbacks: list[Callable[[Snapshot], Any]] = []
        self._version = 0
        self._latest: Snapshot | None = None
        # AWS data and its health, kept across failures (stale, not blank)
        self._aws_data: dict[str, Any] = {
            "cluster": None, "fargate_profiles": (), "nodegroups": (), "addons": (), "load_balancers": (), "target_groups": (),
            "iam_roles": (),
        }
        self._aws_state: dict[str, SourceState] = {}
        self._since: dict[tuple, datetime] = {}  # first time a (thing, status) was seen
        self._parts = SnapshotParts()  # the models snapshots are built from, kept current
        self._last_errors: dict[str, ServiceError] = {}
        self.aws_polls = 0
        self.current_interval = slow_interval
        # metrics-server usage over settings.rightsizing.window, for right-sizing (dashboard only)
        self.usage_record = UsageRecord(settings.rightsizing.window)
        self._usage: UsageSummary | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def _scopes(self, resource: Resource) -> list[str | None]:
        if not resource.namespaced or not self.settings.namespaces:
            return [None]
        return sorted(set(self.settings.namespaces) | {"kube-system"})

    def _open_clients(self, budgeted: bool = True) -> None:
        if self.kube is None:
            self.kube = KubeClient(self.connection)
        if self.aws is None:
            self.aws = AwsServices(self.connection.aws, config=self._aws_config,
                                   budget=self.budget if budgeted else None)

    async def _close_clients(self) -> None:
        if self.kube is not None:
            await self.kube.close()
            self.kube = None
        if self.aws is not None:
            await self.aws.close()
            self.aws = None

    def _reflector(self, res: Resource, namespace: str | None, **options: Any) -> Reflector:
        """A Reflector that keeps what snapshots need: events converted into a bounded window,
        nodes reduced to what their model reads, everything else slimmed raw (pods: the YAML view
        shows it), in a store that tells the snapshot build what changed."""
        if res is EVENTS:
            return Reflector(self.kube, res, namespace, now=self._now, transform=event_model, store=EventWindow,
                             **options)
        return Reflector(self.kube, res, namespace, now=self._now, optional=res.plural in OPTIONAL,
                         transform=convert.node_essentials if res is NODES else None, store=TrackedStore, **options)

    async def start(self) -> None:
        if self._tasks:
            return
        self._open_clients()
        assert self.kube is not None
        self.reflectors = [
            self._reflector(res, ns, on_change=self._mark_dirty, watch_timeout=self.watch_timeout,
                            max_backoff=self.watch_max_backoff)
            for res in WATCHED
            for ns in self._scopes(res)
        ]
        self._tasks = [asyncio.create_task(r.run(), name=f"iagent-watch-{r.name}") for r in self.reflectors]
        self._tasks.append(asyncio.create_task(self._poll_aws_loop(), name="iagent-aws-poll"))
        self._tasks.append(asyncio.create_task(self._profile_sentinel_loop(), name="iagent-profile-sentinel"))
        self._tasks.append(asyncio.create_task(self._publish_loop(), name="iagent-publish"))
        self._tasks.append(asyncio.create_task(self._usage_loop(), name="iagent-usage"))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._close_clients()

    async def __aenter__(self) -> ClusterMonitor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- subscribers --------------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot | None:
        return self._latest

    def add_listener(self, callback: Callable[[Snapshot], Any]) -> Callable[[], None]:
        """Call ``callback(snapshot)`` on every publish; returns a function that unsubscribes."""
        self._callbacks.append(callback)
        if self._latest is not None:
            callback(self._latest)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    async def snapshots(self) -> AsyncIterator[Snapshot]:
        """The latest snapshot now (if any), then each newer one; intermediate ones are skipped
        when the reader is slower than the monitor."""
        sub = _Subscription()
        if self._latest is not None:
            sub.put(self._latest)
        self._subs.append(sub)
        try:
            while True:
                yield await sub.get()
        finally:
            self._subs.remove(sub)

    async def wait_for(self, predicate: Callable[[Snapshot], Any], timeout: float = 30.0) -> Snapshot:
        """The first snapshot for which ``predicate`` holds (for actions and tests)."""
        async def first() -> Snapshot:
            async with contextlib.aclosing(self.snapshots()) as stream:  # unsubscribe on timeout too
                async for snap in stream:
                    if predicate(snap):
                        return snap
            raise AssertionError("unreachable")
        return await asyncio.wait_for(first(), timeout)

    @property
    def aws_sources(self) -> Mapping[str, SourceState]:
        """Each AWS source's state after its first poll (absent: not answered yet)."""
        return MappingProxyType(dict(self._aws_state))

    @property
    def aws_errors(self) -> Mapping[str, ServiceError]:
        """The last AWS poll's failures by source name (kinds, for callers that branch on them)."""
        return MappingProxyType(dict(self._last_errors))

    def _now(self) -> datetime:
        """Now on the Kubernetes API server's clock: snapshot times and ages are measured on it."""
        return self._local_now() + timedelta(seconds=self.server_skew)

    @property
    def server_skew(self) -> float:
        return self.kube.server_skew if self.kube is not None else 0.0

    def poll_now(self) -> None:
        """Ask for a full AWS round at once (after an action changed something). Its calls still
        go through the budget, which routine polling leaves room for (ROUTINE_SHARE)."""
        self._full_requested = True
        self._wake.set()

    # -- publishing ---------------------------------------------------------------------------
    def _mark_dirty(self) -> None:
        self._dirty.set()

    async def _publish_loop(self) -> None:
        while True:
            await self._dirty.wait()
            await asyncio.sleep(self.coalesce_seconds)  # let a burst of watch events land first
            self._dirty.clear()
            if not all(r.synced or r.error is not None for r in self.reflectors if r.resource is not EVENTS):
                # First snapshot once every source answered (data or error). Except events: a
                # large cluster holds tens of thousands (80 pages at 5,000 pods), and no table
                # but the events panel needs them, so they join a later snapshot.
                continue
            first = self._latest is None
            self._publish(self._build())
            if first:
                _freeze_heap()

    def _publish(self, snap: Snapshot) -> None:
        self._latest = snap
        for sub in list(self._subs):
            sub.put(snap)
        for callback in list(self._callbacks):
            try:
                callback(snap)
            except Exception:  # a broken subscriber must not stop the monitor
                logging.getLogger(__name__).exception("snapshot listener failed")

    def _seen_since(self, key: tuple, now: datetime) -> datetime:
        return self._since.setdefault(key, now)

    def _kube_sources(self) -> dict[str, SourceState]:
        states: dict[str, SourceState] = {}
        for res in WATCHED:
            group = [r for r in self.reflectors if r.resource is res]
            errors = [r for r in group if r.error is not None]
            last = [r.last_success for r in group if r.last_success]
            stale = [r.stale_since for r in errors if r.stale_since]
            states[res.plural] = SourceState(
                name=res.plural,
                ok=not errors,
                last_success=min(last) if last and len(last) == len(group) else (max(last) if last else None),
                error="; ".join(r.error.message for r in errors if r.error),
                stale_since=min(stale) if stale else None,
            )
        return states

    def _build(self) -> Snapshot:
        parts = self._parts
        parts.refresh(self.reflectors)
        now = server_now(self._now(), parts.newest_written)
        pods = parts.pods.models
        aws_data = {**self._aws_data, "target_groups": parts.target_groups(self._aws_data.get("target_groups") or ())}
        sources = {**self._kube_sources(), **self._aws_state}
        self._version += 1
        snap = assemble(
            taken_at=now, connection=self.connection, aws_data=aws_data, nodes=parts.nodes.models, pods=pods,
            workloads=parts.workload_models(), events=parts.events(), ingresses=parts.ingresses.models,
            tgbs=parts.tgbs.models, sources=sources, version=self._version, services=parts.services.models,
            volume_claims=parts.volume_claims.models, volumes=parts.volumes.models, targets_joined=True,
        )
        if self._usage is not None:
            snap = replace(snap, usage=self._usage)
        conn = snap.connection
        missing = self._last_errors.get("cluster")
        if conn is not None and snap.cluster is None and missing is not None and missing.kind == "not_found":
            # EKS has no such cluster, so the pods listed are some other cluster's: say whose.
            conn = replace(conn, matches_cluster=False, mismatch=(
                f"EKS has no cluster {self.cluster_name} in {self.connection.aws.region}, but kubeconfig context "
                f"{conn.context or '(current)'} points at {conn.server}; these are another cluster's pods "
                f"(use --cluster and --region for that cluster, or --context for {self.cluster_name})"))
            snap = replace(snap, connection=conn)
        if conn is not None and conn.token_expires_at is not None and self.server_skew:
            # The token's expiry is on our clock; the snapshot's times are on the server's.
            snap = replace(snap, connection=replace(
                conn, token_expires_at=conn.token_expires_at + timedelta(seconds=self.server_skew)))
        return snap

    # -- usage for right-sizing ---------------------------------------------------------------
    async def _usage_loop(self) -> None:
        """Read metrics-server every rightsizing.sample_seconds (scaled like the waits, so a
        sandbox running faster than real time is read as often per scrape) into a bounded record."""
        assert self.kube is not None
        sampler = UsageSampler(self.kube, self.usage_record, self.settings.namespaces)
        interval = self.settings.rightsizing.sample_seconds * self.settings.waits.get("scale", 1.0)
        record_file = self.settings.rightsizing.record_file
        saved_at = time.monotonic()
        try:
            await self._sample_usage(sampler, interval, record_file, saved_at)
        finally:  # the dashboard closes: keep what it sampled for `report --usage-from`
            if record_file is not None and self.usage_record.to_document()["samples"]:
                save_usage_record(self.usage_record, Path(record_file).expanduser())

    async def _sample_usage(self, sampler: UsageSampler, interval: float, record_file: Any, saved_at: float) -> None:
        while True:
            latest = self._latest
            known = workloads_by_pod(latest.pods) if latest is not None else {}
            before = self.usage_record.not_evaluated
            try:
                added = await sampler.sample_once(lambda ns, name: known.get((ns, name)))
            except Exception as exc:  # noqa: BLE001 - a surprise must not end sampling for the session
                self.usage_record.fail(f"metrics.k8s.io could not be read: {exc}")
                added = 0
            if added or self.usage_record.not_evaluated != before or self._usage is None:
                self._usage = self.usage_record.summary()
                self._mark_dirty()
            if record_file is not None and added and time.monotonic() - saved_at >= RECORD_SAVE_SECONDS:
                saved_at = time.monotonic()
                save_usage_record(self.usage_record, Path(record_file).expanduser())
            await asyncio.sleep(interval)

    # -- AWS polling --------------------------------------------------------------------------
    # Every call goes through self.budget (services/call_budget.py). The loop alternates two kinds
    # of round: a full one (every source, completely) every AwsPace.full_every, and in between,
    # while something is changing, a batch of just what is changing (a CREATING profile, an
    # UPDATING add-on, a target group whose targets are initial or draining, or whose pods the
    # watches saw replaced: _drifting_groups), oldest-read first, so that a cluster with more
    # changing things than the budget can read at once is read in turn. The sentinel's cheap
    # profile list gets what the budget leaves over.
    @property
    def pace(self) -> AwsPace:
        routine = self.budget.rate * ROUTINE_SHARE
        full_every = max(self.slow_interval, self._full_cost / (routine * FULL_SHARE))
        spare = routine - self._full_cost / full_every
        waiting = len(self._wanted())
        batch = min(waiting, max(1, int(spare * self.fast_interval)))
        changes_every = max(self.fast_interval, batch / spare) if waiting else None
        left = spare - (batch / changes_every if changes_every else 0.0)
        sentinel_every = max(self.sentinel_interval, 1 / left) if left > spare * 0.01 else None
        if sentinel_every is not None and sentinel_every >= full_every:
            sentinel_every = None  # the full round lists the profiles as often
        stretched = full_every > self.slow_interval or (changes_every is not None and (
            changes_every > self.fast_interval or batch < waiting))
        return AwsPace(full_every, changes_every, batch, waiting, sentinel_every, stretched)

    def _wanted(self) -> list[tuple[str, str]]:
        """What a round of changes reads: profiles the sentinel saw appear or vanish, then
        everything in transition, target groups last and least recently read first."""
        data = self._aws_data
        cluster = data["cluster"]
        items = list(self._pending)
        if cluster is not None and cluster.status in CLUSTER_CHANGING:
            items.append(("cluster", cluster.name))
        items += [("profile", p.name) for p in data["fargate_profiles"] if p.in_transition]
        items += [("addon", a.name) for a in data["addons"] if a.in_transition]
        items += [("nodegroup", g.name) for g in data["nodegroups"] if g.in_transition]
        if any(lb.state == "provisioning" for lb in data["load_balancers"]):
            items.append(("load_balancers", ""))
        drifting = self._drifting_groups()
        groups = [("target_group", tg.arn) for tg in data["target_groups"]
                  if tg.arn in drifting or any(t.in_transition for t in tg.targets)]
        groups.sort(key=lambda key: self._read_at.get(key, self._last_full or 0.0))
        return list(dict.fromkeys(items + groups))

    def _drifting_groups(self) -> frozenset[str]:
        """Target groups whose targets, as last read, differ from the pods Kubernetes says back
        them (a TargetGroupBinding's Service, ip targets): a rollout changes a group before a read
        of it shows a target initial or draining, and the watches tell that for free, so a
        large cluster's groups need not all be read every few seconds to notice it."""
        snap, groups = self._latest, self._aws_data["target_groups"]
        if snap is None or not snap.tgbs:
            return frozenset()
        key = (snap.version, id(groups))
        if self._drift_cache[0] != key:
            services = {(s.namespace, s.name): s.selector for s in snap.services}
            live: dict[str, list[Pod]] = {}
            for pod in snap.pods:
                if pod.ip and not pod.deleting and pod.phase in ("Pending", "Running"):
                    live.setdefault(pod.namespace, []).append(pod)
            registered = {tg.arn: {t.id for t in tg.targets if t.state not in DRAINING} for tg in groups if tg.target_type == "ip"}
            drifting = set()
            for binding in snap.tgbs:
                selector = services.get((binding.namespace, binding.service_name))
                if not selector or binding.target_group_arn not in registered:
                    continue
                backing = {p.ip for p in live.get(binding.namespace, ())
                           if all(p.labels.get(k) == v for k, v in selector.items())}
                if backing != registered[binding.target_group_arn]:
                    drifting.add(binding.target_group_arn)
            self._drift_cache = (key, frozenset(drifting))
        return self._drift_cache[1]

    async def poll_aws_once(self) -> None:
        """One round of every AWS read, concurrently; each source succeeds or fails on its own."""
        self._open_clients()
        aws, cluster = self.aws, self.cluster_name
        assert aws is not None
        with count_calls() as spent:
            calls = {
                "cluster": aws.describe_cluster(cluster),
                "fargate_profiles": aws.fargate_profiles(cluster),
                "nodegroups": aws.nodegroups(cluster),
                "addons": aws.addons(cluster),
                "load_balancers": aws.load_balancers(),
                "target_groups": aws.target_groups(),
            }
            results = list(await asyncio.gather(*calls.values(), return_exceptions=True))
            names = list(calls)
            # The pod execution roles depend on the profiles just read (findings check their trust).
            role_names = sorted({p.pod_execution_role_arn.rsplit("/", 1)[-1]
                                 for p in self._aws_data["fargate_profiles"] if p.pod_execution_role_arn})
            if not isinstance(results[names.index("fargate_profiles")], BaseException):
                role_names = sorted({p.pod_execution_role_arn.rsplit("/", 1)[-1]
                                     for p in results[names.index("fargate_profiles")] if p.pod_execution_role_arn})
            names.append("iam_roles")
            results.append(await _gather_or_error(*(aws.role(n) for n in role_names)))
        now = self._now()
        for name, result in zip(names, results):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if name == "iam_roles" and not isinstance(result, BaseException):
                result = tuple(r for r in result if r is not None)
            if isinstance(result, BaseException):
                self._source_failed(name, result, now)
                continue
            self._last_errors.pop(name, None)
            self._aws_data[name] = self._stamp(name, result, now)
            self._aws_state[name] = SourceState(name, True, now)
        self._partial_failed.clear()
        self._full_cost, self._last_full = spent[0], self._clock()
        self._read_at.clear()
        self._pending.clear()  # read in full just now (what changed since, the sentinel sees again)
        self.aws_polls += 1

    async def poll_aws_changes(self, items: list[tuple[str, str]]) -> None:
        """Re-read only ``items`` (from _wanted): one call each. A source read in part keeps its
        last_success (the time of its last complete read)."""
        self._open_clients()
        results = await asyncio.gather(*(self._read_one(kind, name) for kind, name in items), return_exceptions=True)
        now, read_at = self._now(), self._clock()
        for (kind, name), result in zip(items, results):
            source = SOURCE_OF[kind]
            if isinstance(result, asyncio.CancelledError):
                raise result
            self._read_at[(kind, name)] = read_at
            if isinstance(result, ServiceError) and result.kind == "not_found" and kind != "cluster":
                result = None  # deleted since: gone from the dashboard too
            if isinstance(result, BaseException):
                self._source_failed(source, result, now)
                self._partial_failed.add(source)
                continue
            self._pending.discard((kind, name))
            self._apply(kind, name, result, now)
            if source in self._partial_failed:  # it failed in a round like this one: recovered
                self._partial_failed.discard(source)
                self._last_errors.pop(source, None)
                prev = self._aws_state.get(source)
                self._aws_state[source] = SourceState(source, True, prev.last_success if prev else None)
        await self._read_new_roles([name for kind, name in items if kind == "profile"], now)
        self.aws_polls += 1

    async def _read_one(self, kind: str, name: str) -> Any:
        aws, cluster = self.aws, self.cluster_name
        assert aws is not None
        if kind == "cluster":
            return await aws.describe_cluster(cluster)
        if kind == "profile":
            return profile_from_api(await aws.describe_fargate_profile_raw(cluster, name))
        if kind == "addon":
            return await aws.addon(cluster, name)
        if kind == "nodegroup":
            return await aws.nodegroup(cluster, name)
        if kind == "load_balancers":
            return await aws.load_balancers()
        return await aws.target_health(name)

    def _apply(self, kind: str, name: str, result: Any, now: datetime) -> None:
        data, source = self._aws_data, SOURCE_OF[kind]
        if kind in ("cluster", "load_balancers"):
            data[source] = result
        elif kind == "target_group":  # result None: the group was deleted
            data[source] = self._stamp(source, tuple(
                replace(tg, targets=result) if tg.arn == name else tg
                for tg in data[source] if tg.arn != name or result is not None), now)
        else:
            kept = [item for item in data[source] if item.name != name]
            data[source] = self._stamp(source, tuple(sorted(kept + ([result] if result else []), key=lambda i: i.name)), now)

    async def _read_new_roles(self, profile_names: list[str], now: datetime) -> None:
        """The pod execution role of a profile that just appeared, when not read yet."""
        known = {r.get("RoleName") for r in self._aws_data["iam_roles"]}
        wanted = {p.pod_execution_role_arn.rsplit("/", 1)[-1] for p in self._aws_data["fargate_profiles"]
                  if p.name in profile_names and p.pod_execution_role_arn} - known
        if not wanted or self.aws is None:
            return
        result = await _gather_or_error(*(self.aws.role(n) for n in sorted(wanted)))
        if isinstance(result, BaseException):
            self._source_failed("iam_roles", result, now)
            self._partial_failed.add("iam_roles")
            return
        self._aws_data["iam_roles"] = tuple(self._aws_data["iam_roles"]) + tuple(r for r in result if r is not None)

    def _source_failed(self, name: str, result: BaseException, now: datetime) -> None:
        err = result if isinstance(result, ServiceError) else \
            ServiceError("server", describe(result, f"read {name.replace('_', ' ')}"))
        prev = self._aws_state.get(name)
        self._aws_state[name] = SourceState(
            name, False, prev.last_success if prev else None, err.message,
            (prev.stale_since if prev and not prev.ok else None) or now,
        )
        self._last_errors[name] = err

    def _stamp(self, name: str, result: Any, now: datetime) -> Any:
        """Add the monitor's own "since when in this state" to profiles and targets (and forget
        states that are no longer current, so the memory stays as small as the data)."""
        kind = {"fargate_profiles": "profile", "target_groups": "target"}.get(name)
        if kind is not None:
            if kind == "profile":
                current = {("profile", p.name, p.status) for p in result}
            else:
                current = {("target", tg.arn, t.id, t.port, t.state) for tg in result for t in tg.targets}
            for key in [k for k in self._since if k[0] == kind and k not in current]:
                del self._since[key]
        if name == "fargate_profiles":
            return tuple(replace(p, status_since=self._seen_since(("profile", p.name, p.status), p.created_at if p.status == "CREATING" and p.created_at else now))
                         for p in result)
        if name == "target_groups":
            return tuple(
                replace(tg, targets=tuple(replace(t, since=self._seen_since(("target", tg.arn, t.id, t.port, t.state), now)) for t in tg.targets))
                for tg in result
            )
        return result

    def _next_interval(self) -> float:
        # Back off while AWS pushes back or cannot be reached: double the last interval (from at
        # least the fast one) up to the cap. A permanent answer (not permitted, not found) is
        # not a reason to slow down the sources that work.
        if any(e.kind in BACK_OFF_KINDS for e in self._last_errors.values()):
            return min(self.max_interval, max(self.fast_interval, self.current_interval) * 2)
        pace = self.pace
        self._show_pace(pace)
        until_full = pace.full_every if self._last_full is None else \
            max(0.0, self._last_full + pace.full_every - self._clock())
        return until_full if pace.changes_every is None else min(until_full, pace.changes_every)

    def _full_due(self) -> bool:
        if self._last_full is None:
            return True
        return self._clock() - self._last_full >= self.pace.full_every - DUE_EARLY

    def _show_pace(self, pace: AwsPace) -> None:
        """Each AWS source says how often it is read now, and the budget when that stretched it."""
        changing = {SOURCE_OF[kind] for kind, _ in self._wanted()}
        turn = pace.changes_every * -(-pace.waiting // pace.batch) if pace.changes_every else None
        budget = int(self.budget.per_minute) if pace.stretched else None
        for name, state in self._aws_state.items():
            every = turn if turn is not None and name in changing else pace.full_every
            self._aws_state[name] = replace(state, every=every, budget_per_minute=budget)

    async def _poll_aws_loop(self) -> None:
        self._last_errors = {}
        self.budget.borrowing = True  # the first round fills the dashboard at once (call_budget.py)
        while True:
            full = self._full_requested or self._full_due()
            self._full_requested = False
            self._wake.clear()
            self._last_errors.pop("poll", None)
            try:
                if full:
                    await self.poll_aws_once()
                else:
                    items = self._wanted()[:max(self.pace.batch, len(self._pending))]
                    if items:
                        await self.poll_aws_changes(items)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in one round must not stop polling for good
                logging.getLogger(__name__).exception("AWS poll failed")
                self._last_errors["poll"] = ServiceError("server", describe(exc, "poll AWS"))
            self.budget.borrowing = False
            self.current_interval = self._next_interval()
            self._mark_dirty()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.current_interval)

    async def _profile_sentinel_loop(self) -> None:
        """While AWS is steady the full poll is slow; a profile created or deleted by someone else
        (console, aws CLI, another operator) must not take that long to show. One
        ListFargateProfiles every AwsPace.sentinel_every notices it, and the next round reads
        just that profile. Skipped when the budget has nothing left over for it."""
        while True:
            every = self.pace.sentinel_every
            await asyncio.sleep(every if every is not None else self.sentinel_interval)
            if every is None or self.aws is None or self._last_full is None:
                continue
            if any(e.kind in BACK_OFF_KINDS for e in self._last_errors.values()):
                continue  # throttled or failing: the backed-off poll is the only caller
            try:
                names = await self.aws.fargate_profile_names(self.cluster_name)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the rounds report errors; the sentinel only nudges
                continue
            known = {p.name for p in self._aws_data.get("fargate_profiles") or ()}
            changed = set(names) ^ known
            if changed:
                self._pending.update(("profile", name) for name in changed)
                self._wake.set()

    # -- one shot -----------------------------------------------------------------------------
    async def one_shot(self, warnings_only: bool = False) -> Snapshot:
        """One snapshot from parallel list calls and AWS reads, no watches (for `status`).
        warnings_only: list only Warning events (fieldSelector type=Warning), what a report's
        findings cite; a large cluster's Normal events are tens of thousands of routine lines."""
        own_clients = self.kube is None and self.aws is None
        # One round, like the aws CLI commands it replaces: the budget is for continuous polling.
        self._open_clients(budgeted=False)
        assert self.kube is not None
        reflectors = [
            self._reflector(res, ns, field_selector="type=Warning" if warnings_only and res is EVENTS else None)
            for res in WATCHED for ns in self._scopes(res)
        ]

        async def list_one(r: Reflector) -> None:
            try:
                await r.relist_or_absent()
            except ServiceError as err:
                r._failed(err)

        try:
            self._last_errors = {}
            await asyncio.gather(self.poll_aws_once(), *(list_one(r) for r in reflectors))
            _freeze_heap()
            saved = self.reflectors, self._parts
            self.reflectors, self._parts = reflectors, SnapshotParts()
            try:
                return self._build()
            finally:
                self.reflectors, self._parts = saved
        finally:
            if own_clients:
                await self._close_clients()


def _freeze_heap() -> None:
    """Move what the first full list allocated out of the garbage collector's sight (gc.freeze):
    at 5,000 pods the raw objects are millions of dicts, and every full collection walked them
    all, which was three quarters of the time spent converting pods (measured). They are still
    freed by reference counting when the watches replace them. No gc.collect() first: that
    would be the very stall this avoids."""
    gc.freeze()


def assemble(
    *,
    taken_at: datetime,
    connection: Connection | None,
    aws_data: Mapping[str, Any],
    nodes: tuple = (),
    pods: tuple = (),
    workloads: tuple = (),
    events: tuple = (),
    ingresses: tuple = (),
    tgbs: tuple = (),
    sources: Mapping[str, SourceState] | None = None,
    version: int = 0,
    services: tuple = (),
    volume_claims: tuple = (),
    volumes: tuple = (),
    targets_joined: bool = False,
) -> Snapshot:
    """A Snapshot from the monitor's parts; target ids are joined to the pods owning the IPs
    (unless ``targets_joined``: the monitor keeps that join itself, as pods change)."""
    target_groups: tuple[TargetGroup, ...] = aws_data.get("target_groups") or ()
    pod_by_ip = {} if targets_joined else {p.ip: p.key for p in pods if p.ip}
    if pod_by_ip:
        target_groups = tuple(
            replace(tg, targets=tuple(replace(t, pod=pod_by_ip.get(t.id)) if t.pod is None and t.id in pod_by_ip else t for t in tg.targets))
            for tg in target_groups
        )
    cluster: ClusterInfo | None = aws_data.get("cluster")
    profiles: tuple[FargateProfile, ...] = aws_data.get("fargate_profiles") or ()
    nodegroups: tuple[NodeGroup, ...] = aws_data.get("nodegroups") or ()
    addons: tuple[Addon, ...] = aws_data.get("addons") or ()
    lbs: tuple[LoadBalancer, ...] = aws_data.get("load_balancers") or ()
    return Snapshot(
        taken_at=taken_at,
        cluster=cluster,
        connection=connection_state(connection, cluster),
        profiles=profiles,
        nodegroups=nodegroups,
        nodes=nodes,
        pods=pods,
        workloads=workloads,
        events=events,
        addons=addons,
        load_balancers=lbs,
        target_groups=target_groups,
        ingresses=ingresses,
        tgbs=tgbs,
        sources=MappingProxyType(dict(sources or {})),
        version=version,
        services=services,
        pod_execution_roles=tuple(aws_data.get("iam_roles") or ()),
        volume_claims=volume_claims,
        volumes=volumes,
    )


def connection_state(connection: Connection | None, cluster: ClusterInfo | None) -> ConnectionState | None:
    """The connection as the snapshot shows it, with whether its API server is the cluster's."""
    if connection is None:
        return None
    state = connection.state()
    if cluster is None or not cluster.endpoint:
        return state
    kube = connection.kube
    mismatch = cluster_mismatch(kube.context, kube.server, kube.ca_data, cluster.name, cluster.endpoint, cluster.ca_data)
    return replace(state, matches_cluster=not mismatch, mismatch=mismatch)


async def _gather_or_error(*aws_calls: Any) -> Any:
    """All results, or the first failure (so one source reports one error)."""
    try:
        return tuple(await asyncio.gather(*aws_calls))
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return exc


__all__ = ["ClusterMonitor", "assemble", "WATCHED", "AWS_SOURCES", "Target"]
