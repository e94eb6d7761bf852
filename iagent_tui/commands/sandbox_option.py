"""`--sandbox` on any command: start the local twin in-process (on its own thread and loop) and
hand its connection to the command through the click context, so the command connects exactly as
it would to a real cluster — with a kubeconfig context and explicit AWS keys and endpoint — while
the process environment stays as it was (an embedding program or a test keeps its own)."""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from .sandbox import SCENARIOS, load_runtime

SANDBOX_KEY = "iagent.sandbox"
LINK_KEY = "iagent.sandbox.link"


@dataclass(frozen=True)
class SandboxLink:
    """What a command needs to reach the in-process sandbox."""

    cluster: str
    region: str
    kubeconfig: str
    context: str
    aws_endpoint: str
    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    helm: str  # the sandbox's helm shim, which installs through its Kubernetes API
    alb_proxy: str  # the sandbox's ALB front, a forward proxy for the smoke test's requests
    speed: float = 1.0  # the sandbox runs this much faster than real time

    def settings_overrides(self) -> dict[str, Any]:
        # Deadlines are real durations; the sandbox's run `speed` times faster (iagent_tui/deadlines.py).
        return {"cluster": self.cluster, "region": self.region, "kubeconfig": self.kubeconfig,
                "kube_context": self.context, "helm": self.helm, "alb_proxy": self.alb_proxy,
                "waits": {"scale": 1 / self.speed}}


IN_PROCESS_HEADROOM = 12 * 3600.0


def sandbox_link(ctx: click.Context) -> SandboxLink | None:
    return ctx.find_root().meta.get(LINK_KEY)


def start_sandbox(ctx: click.Context, scenario: str = "pre-migration", speed: float = 10.0,
                  seed: int = 0) -> Any:
    """Start a sandbox for this command, link it into the context, stop it when ctx closes."""
    root = ctx.find_root()
    if root.meta.get(SANDBOX_KEY) is not None:  # `--sandbox` given twice (group and command)
        return root.meta[SANDBOX_KEY]
    runtime = load_runtime()
    from .sandbox import _write_helm_shim

    click.echo(f"Starting the sandbox ({scenario}, speed {speed:g}x)…", err=True)
    # The sandbox's clock runs at `speed` only while it is behind the wall clock (`headroom` wall
    # seconds), then at real time. This command scales its wait deadlines by 1/speed for the
    # whole session, so the headroom must outlast any session: 12 h (the env-file sandbox keeps the
    # sandbox's shorter default, since its users read `kubectl describe` ages on the wall clock).
    sandbox = runtime.SandboxThread(speed=speed, seed=seed, scenario=scenario,
                                    headroom=IN_PROCESS_HEADROOM)
    try:
        info = sandbox.start()
    except runtime.SandboxError as exc:
        sandbox.stop()
        raise click.ClickException(f"the sandbox could not start: {exc}") from None
    tmp = Path(tempfile.mkdtemp(prefix="iagent-sandbox-"))
    kubeconfig, env_file = tmp / "kubeconfig", tmp / "env"
    bin_dir = tmp / "bin"
    _write_helm_shim(bin_dir)
    runtime.write_connection_files(info, kubeconfig, env_file, bin_dir=bin_dir)
    root.meta[SANDBOX_KEY] = sandbox
    root.meta[LINK_KEY] = SandboxLink(
        cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig),
        context=runtime.CONTEXT_NAME, aws_endpoint=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key, helm=str(bin_dir / "helm"), alb_proxy=info.alb_url, speed=speed)

    def _cleanup() -> None:
        sandbox.stop()
        for path in (kubeconfig, env_file, bin_dir / "helm"):
            path.unlink(missing_ok=True)
        for d in (bin_dir, tmp):
            try:
                d.rmdir()
            except OSError:
                pass
    root.call_on_close(_cleanup)
    return sandbox


def _sandbox_callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        scenario = os.environ.get("IAGENT_SANDBOX_SCENARIO", "pre-migration")
        if scenario not in SCENARIOS:
            raise click.BadParameter(f"IAGENT_SANDBOX_SCENARIO must be one of {', '.join(SCENARIOS)}",
                                     param_hint="--sandbox")
        raw_speed = os.environ.get("IAGENT_SANDBOX_SPEED", "10")
        try:
            speed = float(raw_speed)
        except ValueError:
            speed = 0.0
        if not (math.isfinite(speed) and speed > 0):  # inf: every simulated wait would end at once
            raise click.BadParameter(f"IAGENT_SANDBOX_SPEED must be a number greater than 0, got {raw_speed!r}",
                                     param_hint="--sandbox")
        start_sandbox(ctx, scenario=scenario, speed=speed)


def sandbox_option() -> click.Option:
    return click.Option(["--sandbox"], is_flag=True, expose_value=False, is_eager=False,
                        callback=_sandbox_callback,
                        help="Start a local sandbox cluster in-process and run against it "
                             "(scenario from IAGENT_SANDBOX_SCENARIO, speed from IAGENT_SANDBOX_SPEED).")


def with_sandbox_option(command: click.Command) -> click.Command:
    command.params.insert(0, sandbox_option())
    return command
