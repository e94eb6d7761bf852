"""`iagent-tui sandbox`: run the local EKS twin until SIGINT/SIGTERM.

The sandbox is an optional package (the `sandbox` extra): it is imported only when a command asks
for it, so the product installs, starts and shows its help without it."""

from __future__ import annotations

import asyncio
import signal
import stat
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from .sandbox_checks import check_output_paths, check_rates, check_read_only_paths

# The sandbox's scenarios, spelled here so that building the command line needs no sandbox import
# (a test checks them against iagent_sandbox.runtime.SCENARIOS).
SCENARIOS = ("pre-migration", "migrated", "broken", "large")
INSTALL_HINT = "the sandbox is not installed: pip install 'iagent-tui[sandbox]' (or make install in a checkout)"


def load_runtime() -> ModuleType:
    """iagent_sandbox.runtime, or a one-line ClickException saying how to install it."""
    try:
        import iagent_sandbox
    except ImportError:
        raise click.ClickException(INSTALL_HINT) from None
    if iagent_sandbox.missing_modules():
        raise click.ClickException(INSTALL_HINT)
    from iagent_sandbox import runtime
    return runtime


HELM_SHIM = """#!/bin/sh
# helm for the iagent-tui sandbox: performs the installs the product asks helm for through the
# sandbox's Kubernetes API (see iagent_sandbox/helm_shim.py).
exec {python} -m iagent_sandbox.helm_shim "$@"
"""


# The banner says `iagent-tui status` after `source .sandbox/env`: with the tool installed in a
# virtualenv that is not activated (`make sandbox`), only this puts that command on PATH.
TOOL_SHIM = """#!/bin/sh
# iagent-tui from the installation that started the sandbox.
exec {python} -m iagent_tui "$@"
"""
SHIMS = {"helm": HELM_SHIM, "iagent-tui": TOOL_SHIM}


def _write_helm_shim(bin_dir: Path) -> None:
    """The sandbox's helm and this installation's iagent-tui, for the env file's PATH."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, text in SHIMS.items():
        shim = bin_dir / name
        shim.write_text(text.format(python=sys.executable))
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@click.command("sandbox")
@click.option("--speed", type=float, default=10.0, show_default=True,
              help="Divide every real duration by this (10: a profile that takes 3 min on AWS takes 18 s).")
@click.option("--seed", type=int, default=0, show_default=True, help="Makes every random draw repeatable.")
@click.option("--scenario", type=click.Choice(SCENARIOS), default="pre-migration", show_default=True)
@click.option("--kubeconfig", "kubeconfig_path", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="Where to write the kubeconfig (context iagent-sandbox).")
@click.option("--env-file", "env_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write `export` lines for the aws CLI, boto3 and kubectl.")
@click.option("--read-only-kubeconfig", "ro_kubeconfig_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a kubeconfig for the read-only user iagent-readonly (ClusterRole view; "
                   "context iagent-sandbox-readonly). Needs --read-only-env-file.")
@click.option("--read-only-env-file", "ro_env_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write `export` lines for the restricted IAM user iagent-readonly (describe/list "
                   "only) with KUBECONFIG set to the read-only kubeconfig.")
@click.option("--aws-throttle-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Fault: fraction of AWS calls answered with the service's throttling error.")
@click.option("--aws-error-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Fault: fraction of AWS calls answered with a 5xx.")
@click.option("--aws-latency", type=click.FloatRange(0), default=0.0, help="Fault: seconds added to each AWS call.")
@click.option("--pods", type=int, default=None,
              help="Scenario large: how many tenant pods on Fargate (default 5000, at least 100).")
@click.option("--churn", type=int, default=None,
              help="Scenario large: rolling updates kept going at once (default 3, 0: none).")
def sandbox_command(speed, seed, scenario, kubeconfig_path, env_path, ro_kubeconfig_path, ro_env_path,
                    aws_throttle_rate, aws_error_rate, aws_latency, pods, churn):
    """Start a local twin of an EKS cluster mid-migration, served over the real AWS and
    Kubernetes APIs, and keep it running until Ctrl-C."""
    check_rates(speed, aws_throttle_rate, aws_error_rate, aws_latency)
    check_output_paths(kubeconfig_path, env_path)
    check_read_only_paths(kubeconfig_path, env_path, ro_kubeconfig_path, ro_env_path)
    sandbox = load_runtime()
    read_only = (ro_kubeconfig_path, ro_env_path) if ro_kubeconfig_path and ro_env_path else None
    try:
        runtime = sandbox.SandboxRuntime(speed=speed, seed=seed, scenario=scenario, pods=pods, churn=churn)
        asyncio.run(_serve(runtime,
                           kubeconfig_path, env_path, sandbox.write_connection_files,
                           faults=dict(throttle_rate=aws_throttle_rate, error_rate=aws_error_rate,
                                       latency_seconds=aws_latency), read_only=read_only))
    except sandbox.SandboxError as exc:
        raise click.ClickException(str(exc)) from None


async def _serve(runtime: Any, kubeconfig_path: Path, env_path: Path, write_connection_files,
                 faults: dict, read_only: tuple[Path, Path] | None = None) -> None:
    started = time.monotonic()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    bin_dir = env_path.resolve().parent / "bin"
    try:
        info = await runtime.start()
        for name, value in faults.items():
            setattr(runtime.world.aws.faults, name, value)
        _write_helm_shim(bin_dir)
        write_connection_files(info, kubeconfig_path, env_path, bin_dir=bin_dir)
        if read_only:
            write_connection_files(info, read_only[0], read_only[1], bin_dir=bin_dir, read_only=True)
        click.echo(_ready_message(info, kubeconfig_path, env_path, runtime, time.monotonic() - started,
                                  read_only))
        await stop.wait()
        click.echo("\nStopping the sandbox…")
    finally:
        for path in (kubeconfig_path, env_path, *(bin_dir / name for name in SHIMS),
                     *(read_only or ())):
            path.unlink(missing_ok=True)
        try:
            bin_dir.rmdir()
        except OSError:  # not empty: something of the user's is in it
            pass
        await runtime.stop()


def _ready_message(info, kubeconfig_path: Path, env_path: Path, runtime: Any, took: float,
                   read_only: tuple[Path, Path] | None = None) -> str:
    extra = "" if not read_only else f"""  Read-only       kubeconfig {read_only[0]} (user iagent-readonly, ClusterRole view), env {read_only[1]}
                  (IAM user iagent-readonly: describe/list only) — source it to act as a viewer
"""
    return f"""iagent-tui sandbox ready in {took:.1f}s — cluster {info.cluster_name} ({info.region}), scenario {runtime.scenario}, speed {runtime.speed:g}x, seed {runtime.seed}
  Kubernetes API  {info.kube_url}   (kubeconfig {kubeconfig_path}, context iagent-sandbox)
  AWS endpoint    {info.aws_endpoint}   (SigV4 with the env file's per-run keys)
{extra}  ALB front       {info.alb_url}   (curl -x {info.alb_url} http://<ingress hostname>/)

In another shell:
  source {env_path}
  kubectl get nodes
  kubectl get pods -A -o wide
  aws eks describe-cluster --name {info.cluster_name}
  aws eks list-fargate-profiles --cluster-name {info.cluster_name}
  iagent-tui status

Ctrl-C stops the sandbox and removes these files."""
