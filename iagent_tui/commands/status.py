"""`iagent-tui status [--json]`: one snapshot of the cluster, as a summary or as JSON.

Fast by construction: every Kubernetes list and AWS read runs concurrently, no watches.
Exit codes: 0 everything read; 1 read with gaps (some sources failed: see "sources");
2 the cluster could not be reached at all, or the settings are wrong. No tracebacks.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click
from botocore.config import Config

from .options import command_aws, command_settings, connection_options
from ..config import ConfigError, Settings
from ..model import Snapshot
from ..report import build_status, render_status
from ..services.connection import AwsTarget, Connection, build_connection
from ..services.errors import ServiceError
from ..services.monitor import ClusterMonitor

EXIT_OK, EXIT_PARTIAL, EXIT_UNREACHABLE = 0, 1, 2
# A one-shot report should fail fast on a dead endpoint instead of retrying for half a minute.
STATUS_AWS_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 3}, connect_timeout=3, read_timeout=15)
STATUS_TIMEOUT_SECONDS = 60
KUBE_SOURCES = ("nodes", "pods", "events", "services", "deployments", "daemonsets", "statefulsets", "ingresses")


class StatusFailed(Exception):
    """The cluster could not be read at all; the message is for the person at the terminal."""


async def read_snapshot(settings: Settings, connection: Connection | None = None,
                        aws: AwsTarget | None = None, warnings_only: bool = False) -> Snapshot:
    """One snapshot for a one-shot command (status, doctor). Raises StatusFailed when neither the
    Kubernetes API nor the cluster can be read; a partial read is returned with its failed sources.
    warnings_only: read only Warning events (see ClusterMonitor.one_shot)."""
    try:
        connection = connection or await build_connection(settings, aws)
    except ServiceError as err:
        raise StatusFailed(err.message) from None
    monitor = ClusterMonitor(connection, settings, aws_config=STATUS_AWS_CONFIG)
    try:
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


async def collect_status(settings: Settings, connection: Connection | None = None,
                         aws: AwsTarget | None = None) -> tuple[dict[str, Any], int]:
    """(status document, exit code). Raises StatusFailed when the cluster cannot be reached."""
    # status reports findings, which cite Warning events; routine Normal events (tens of
    # thousands at 5,000 pods, most of the read) are not read.
    snap = await read_snapshot(settings, connection, aws, warnings_only=True)
    doc = build_status(snap, settings)
    code = EXIT_PARTIAL if any(not s.ok for s in snap.sources.values()) else EXIT_OK
    return doc, code


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (stable keys, for scripts and CI).")
@connection_options
@click.pass_context
def status_command(ctx: click.Context, as_json: bool, config_path: str | None, cluster: str | None, region: str | None,
                   kubeconfig: str | None, kube_context: str | None, aws_profile: str | None) -> None:
    """Show the cluster's Fargate migration state: profiles, nodes, CoreDNS, targets, pods, cost, findings."""
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    try:
        settings = command_settings(ctx, {"config_path": config_path, "cluster": cluster, "region": region,
                                          "kubeconfig": kubeconfig, "kube_context": kube_context,
                                          "aws_profile": aws_profile})
    except ConfigError as err:
        click.echo(f"iagent-tui status: {err}", err=True)
        ctx.exit(EXIT_UNREACHABLE)
    try:
        doc, code = asyncio.run(collect_status(settings, obj.get("connection"), command_aws(ctx, settings)))
    except StatusFailed as err:
        if as_json:
            click.echo(json.dumps({"error": str(err), "cluster": {"name": settings.cluster, "region": settings.region}}, indent=2))
        click.echo(f"iagent-tui status: {err}", err=True)
        ctx.exit(EXIT_UNREACHABLE)
    click.echo(json.dumps(doc, indent=2) if as_json else render_status(doc))
    ctx.exit(code)
