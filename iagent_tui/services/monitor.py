"""ClusterMonitor: streams the cluster (Kubernetes watches + adaptive AWS polls) into Snapshots.

One monitor per connection; it owns every task it starts (``start()`` / ``stop()``). Watches keep
objects current (services.kube.Reflector), each reduced as it arrives to what snapshots need
(events: a bounded window, services.event_window); snapshots are built from what changed since the
last one (services.snapshot_parts). AWS is polled in one loop that waits for each round
to finish before scheduling the next (never overlapping): every ~2 s while something is changing
(a profile CREATING, an add-on UPDATING, a target in ``initial``...), every ~30 s when steady, and
slower after throttling. Changes are coalesced: at most one Snapshot per ~100 ms burst.

A failing source keeps its last data; its SourceState says since when it is stale and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
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
from .aws import AwsServices
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
        self.kube: KubeClient | None = None
        self.aws: AwsServices | None = None
        self.reflectors: list[Reflector] = []
        self._tasks: list[asyncio.Task] = []
        self._dirty = asyncio.Event()
        self._poll_now = asyncio.Event()
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

    def _open_clients(self) -> None:
        if self.kube is None:
            self.kube = KubeClient(self.connection)
        if self.aws is None:
            self.aws = AwsServices(self.connection.aws, config=self._aws_config)

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
        """Ask for an AWS poll at once (after an action changed something)."""
        self._poll_now.set()

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
    async def poll_aws_once(self) -> None:
        """One round of every AWS read, concurrently; each source succeeds or fails on its own."""
        self._open_clients()
        aws, cluster = self.aws, self.cluster_name
        assert aws is not None
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
                err = result if isinstance(result, ServiceError) else \
                    ServiceError("server", describe(result, f"read {name.replace('_', ' ')}"))
                prev = self._aws_state.get(name)
                self._aws_state[name] = SourceState(
                    name, False, prev.last_success if prev else None, err.message,
                    (prev.stale_since if prev and not prev.ok else None) or now,
                )
                self._last_errors[name] = err
                continue
            self._last_errors.pop(name, None)
            self._aws_data[name] = self._stamp(name, result, now)
            self._aws_state[name] = SourceState(name, True, now)
        self.aws_polls += 1

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
        probe = assemble(taken_at=self._now(), connection=None, aws_data=self._aws_data)
        return self.fast_interval if probe.in_transition() else self.slow_interval

    async def _poll_aws_loop(self) -> None:
        self._last_errors = {}
        while True:
            self._poll_now.clear()
            self._last_errors.pop("poll", None)
            try:
                await self.poll_aws_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in one round must not stop polling for good
                logging.getLogger(__name__).exception("AWS poll failed")
                self._last_errors["poll"] = ServiceError("server", describe(exc, "poll AWS"))
            self._mark_dirty()
            self.current_interval = self._next_interval()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._poll_now.wait(), self.current_interval)

    async def _profile_sentinel_loop(self) -> None:
        """While AWS is steady the full poll runs only every ``slow_interval``; a profile created or
        deleted by someone else (console, aws CLI, another operator) must not take that long to
        show. One ListFargateProfiles every ``sentinel_interval`` notices it and triggers a full
        poll at once. Skipped while the full poll is already fast."""
        while True:
            await asyncio.sleep(self.sentinel_interval)
            if self.aws is None or self.current_interval <= self.sentinel_interval:
                continue
            if any(e.kind in BACK_OFF_KINDS for e in self._last_errors.values()):
                continue  # throttled or failing: the backed-off full poll is the only caller
            try:
                names = await self.aws.fargate_profile_names(self.cluster_name)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the full poll reports errors; the sentinel only nudges
                continue
            known = tuple(sorted(p.name for p in self._aws_data.get("fargate_profiles") or ()))
            if names != known:
                self.poll_now()

    # -- one shot -----------------------------------------------------------------------------
    async def one_shot(self, warnings_only: bool = False) -> Snapshot:
        """One snapshot from parallel list calls and AWS reads, no watches (for `status`).
        warnings_only: list only Warning events (fieldSelector type=Warning), what a report's
        findings cite; a large cluster's Normal events are tens of thousands of routine lines."""
        own_clients = self.kube is None and self.aws is None
        self._open_clients()
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
