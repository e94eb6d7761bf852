"""`iagent-tui status [--json]`: one snapshot of the cluster, as a summary or as JSON.

Fast by construction: every Kubernetes list and AWS read runs concurrently, no watches.
Exit codes: 0 everything read; 1 read with gaps (some sources failed: see "sources");
2 the cluster could not be reached at all, or the settings are wrong. No tracebacks.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from botocore.config import Config

from .options import command_aws, command_settings, connection_options
from ..config import ConfigError, Settings, parse_window
from ..insights.durations import duration
from ..insights.usage import UsageRecord, UsageSummary
from ..model import Snapshot
from ..services import convert
from ..report import build_status, render_status
from ..services.connection import AwsTarget, Connection, build_connection
from ..services.aws import AwsServices
from ..services.errors import ServiceError
from ..services.kube import PODS, KubeClient
from ..services.usage_sampler import UsageSampler, load_usage_record
from ..services.monitor import ClusterMonitor

EXIT_OK, EXIT_PARTIAL, EXIT_UNREACHABLE = 0, 1, 2
# A one-shot report should fail fast on a dead endpoint instead of retrying for half a minute.
STATUS_AWS_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 3}, connect_timeout=3, read_timeout=15)
STATUS_TIMEOUT_SECONDS = 60
# Nothing waits on a one-shot read's event loop, and every page is a round trip to a server that may
# be busy: 5,000 pods in one page instead of eleven (measured against the large sandbox scenario:
# the three big lists took 4.0 s instead of 7.2 s, median of four, on a loaded machine).
ONE_SHOT_PAGE_SIZE = 5000
KUBE_SOURCES = ("nodes", "pods", "events", "services", "deployments", "daemonsets", "statefulsets", "ingresses")


class StatusFailed(Exception):
    """The cluster could not be read at all; the message is for the person at the terminal."""


async def sample_usage(settings: Settings, connection: Connection, window: float,
                       progress: Callable[[str], None] | None = None) -> UsageSummary:
    """metrics-server usage read for ``window`` seconds (see services/usage_sampler.py), saying
    how far it got on one line that rewrites itself."""
    record = UsageRecord(window)
    record.source = f"sampled for {duration(window)} by this command"
    interval = settings.rightsizing.sample_seconds * settings.waits.get("scale", 1.0)

    def said(summary: UsageSummary, wanted: float) -> None:
        if progress is not None:
            pods = len({(s.workload, s.container) for s in summary.stats.values()})
            progress(f"sampling usage: {duration(summary.span_seconds)} of {duration(wanted)}, "
                     f"{summary.scrapes} scrapes, {pods} workload containers")

    async with KubeClient(connection) as kube:
        async def pods() -> list:
            items, _ = await kube.list(PODS)
            return [convert.pod_from_raw(item) for item in items]

        try:
            return await UsageSampler(kube, record, settings.namespaces).sample_window(window, interval, pods, said)
        except ServiceError as err:  # the pod list failed: no workload to pool samples by
            record.fail(f"pods could not be listed to group usage by workload: {err.message}")
            return record.summary()


async def read_snapshot(settings: Settings, connection: Connection | None = None,
                        aws: AwsTarget | None = None, usage_window: float | None = None,
                        progress: Callable[[str], None] | None = None, usage: UsageSummary | None = None,
                        warnings_only: bool = False) -> Snapshot:
    """One snapshot for a one-shot command (status, doctor). Raises StatusFailed when neither the
    Kubernetes API nor the cluster can be read; a partial read is returned with its failed sources.
    ``usage_window``: first sample metrics-server usage for that many seconds (right-sizing).
    ``warnings_only``: read only Warning events (see ClusterMonitor.one_shot)."""
    try:
        connection = connection or await build_connection(settings, aws)
    except ServiceError as err:
        raise StatusFailed(err.message) from None
    if usage_window:
        usage = await sample_usage(settings, connection, usage_window, progress)
    with collector_paused():
        snap = await _read_once(settings, connection, warnings_only)
    return replace(snap, usage=usage) if usage is not None else snap


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a one-shot command reads and derives its snapshot.
    At 5,000 pods the lists parse into millions of small acyclic dicts and every full collection
    walks them all: a quarter of `status --json`'s CPU time (measured, issue 10). Reference
    counting still frees them; only cycles wait until the collector is back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def _read_once(settings: Settings, connection: Connection, warnings_only: bool = False) -> Snapshot:
    monitor = ClusterMonitor(connection, settings, aws_config=STATUS_AWS_CONFIG)
    try:
        async with KubeClient(connection, page_size=ONE_SHOT_PAGE_SIZE) as kube, \
                AwsServices(connection.aws, config=STATUS_AWS_CONFIG) as aws:
            monitor.kube, monitor.aws = kube, aws
            snap = await asyncio.wait_for(monitor.one_shot(warnings_only=warnings_only), STATUS_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        raise StatusFailed(f"Reading cluster {settings.cluster} took longer than {STATUS_TIMEOUT_SECONDS} s; "
                           f"check the network path to {connection.kube.server} and to AWS.") from None
    kube = [snap.sources[n] for n in KUBE_SOURCES if n in snap.sources]
    if kube and all(not s.ok for s in kube):
        raise StatusFailed(f"Cannot read the Kubernetes API of cluster {settings.cluster} at {connection.kube.server}: "
                           f"{kube[0].error}")
    cluster_error = monitor.aws_errors.get("cluster")
    if snap.cluster is None and cluster_error is not None and cluster_error.kind in ("unreachable", "auth"):
        raise StatusFailed(cluster_error.message)
    return snap


class UsageWindow(click.ParamType):
    """--usage-window: 90s, 10m, 1h (config.parse_window), refused with the reason otherwise."""
    name = "duration"

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_window(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def usage_window_option(fn: Callable) -> Callable:
    """--usage-window (sample now) and --usage-from (what the dashboard saved): right-sizing's input."""
    fn = click.option("--usage-from", "usage_from", type=click.Path(dir_okay=False), default=None,
                      help="Right-size from the usage the dashboard saved (rightsizing.record_file).")(fn)
    return click.option("--usage-window", "usage_window", type=UsageWindow(), default=None,
                        help="Sample metrics-server usage for this long first (e.g. 10m) and right-size "
                             "from its p95.")(fn)


def saved_usage(usage_window: float | None, usage_from: str | None, settings: Settings) -> UsageSummary | None:
    """The record --usage-from names, over rightsizing.window. ValueError with what to do."""
    if usage_from is None:
        return None
    if usage_window:
        raise ValueError("give --usage-window (sample now) or --usage-from (the dashboard's record), not both")
    return load_usage_record(Path(usage_from), settings.rightsizing.window)


def progress_line() -> Callable[[str], None]:
    """Progress on stderr: one line rewritten in place on a terminal, a line a minute otherwise."""
    tty = sys.stderr.isatty()
    last = [0.0]

    def say(text: str) -> None:
        now = time.monotonic()
        if tty:
            click.echo(f"\r{text}\033[K", err=True, nl=False)
        elif now - last[0] >= 60:
            click.echo(text, err=True)
            last[0] = now
    return say


def end_progress() -> None:
    if sys.stderr.isatty():
        click.echo("", err=True)


async def collect_status(settings: Settings, connection: Connection | None = None,
                         aws: AwsTarget | None = None, usage_window: float | None = None,
                         progress: Callable[[str], None] | None = None,
                         usage: UsageSummary | None = None) -> tuple[dict[str, Any], int]:
    """(status document, exit code). Raises StatusFailed when the cluster cannot be reached."""
    # status reports findings, which cite Warning events; routine Normal events (tens of
    # thousands at 5,000 pods, most of the read) are not read.
    snap = await read_snapshot(settings, connection, aws, usage_window, progress, usage, warnings_only=True)
    with collector_paused():
        doc = build_status(snap, settings)
    code = EXIT_PARTIAL if any(not s.ok for s in snap.sources.values()) else EXIT_OK
    return doc, code


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (stable keys, for scripts and CI).")
@usage_window_option
@connection_options
@click.pass_context
def status_command(ctx: click.Context, as_json: bool, usage_window: float | None, usage_from: str | None,
                   config_path: str | None,
                   cluster: str | None, region: str | None, kubeconfig: str | None, kube_context: str | None,
                   aws_profile: str | None) -> None:
    """Show the cluster's Fargate migration state: profiles, nodes, CoreDNS, targets, pods, cost, findings."""
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    try:
        settings = command_settings(ctx, {"config_path": config_path, "cluster": cluster, "region": region,
                                          "kubeconfig": kubeconfig, "kube_context": kube_context,
                                          "aws_profile": aws_profile})
        usage = saved_usage(usage_window, usage_from, settings)
    except (ConfigError, ValueError) as err:
        click.echo(f"iagent-tui status: {err}", err=True)
        ctx.exit(EXIT_UNREACHABLE)
    try:
        doc, code = asyncio.run(collect_status(settings, obj.get("connection"), command_aws(ctx, settings),
                                               usage_window, progress_line() if usage_window else None, usage))
    except StatusFailed as err:
        if as_json:
            click.echo(json.dumps({"error": str(err), "cluster": {"name": settings.cluster, "region": settings.region}}, indent=2))
        click.echo(f"iagent-tui status: {err}", err=True)
        ctx.exit(EXIT_UNREACHABLE)
    if usage_window:
        end_progress()
    click.echo(json.dumps(doc, indent=2) if as_json else render_status(doc))
    ctx.exit(code)
