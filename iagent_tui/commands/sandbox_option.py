"""`--sandbox` on any command: start the local twin in-process (on its own thread and loop) and
point the environment at it, so the command connects exactly as it would to a real cluster whose
kubeconfig and AWS credentials are in the environment."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from iagent_sandbox.runtime import SCENARIOS, SandboxError, SandboxThread, write_connection_files


def start_sandbox(ctx: click.Context, scenario: str = "pre-migration", speed: float = 10.0,
                  seed: int = 0) -> SandboxThread:
    """Start a sandbox for this command, export its connection, and stop it when ctx closes."""
    root = ctx.find_root()
    if root.meta.get("iagent.sandbox") is not None:  # `--sandbox` given twice (group and command)
        return root.meta["iagent.sandbox"]
    click.echo(f"Starting the sandbox ({scenario}, speed {speed:g}x)…", err=True)
    sandbox = SandboxThread(speed=speed, seed=seed, scenario=scenario)
    try:
        info = sandbox.start()
    except SandboxError as exc:
        sandbox.stop()
        raise click.ClickException(f"the sandbox could not start: {exc}") from None
    tmp = Path(tempfile.mkdtemp(prefix="iagent-sandbox-"))
    kubeconfig, env_file = tmp / "kubeconfig", tmp / "env"
    bin_dir = tmp / "bin"
    from .sandbox import _write_helm_shim
    _write_helm_shim(bin_dir)
    write_connection_files(info, kubeconfig, env_file, bin_dir=bin_dir)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(info.env(kubeconfig))
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    root.meta["iagent.sandbox"] = sandbox

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
        speed = float(os.environ.get("IAGENT_SANDBOX_SPEED", "10"))
        start_sandbox(ctx, scenario=scenario, speed=speed)


def sandbox_option() -> click.Option:
    return click.Option(["--sandbox"], is_flag=True, expose_value=False, is_eager=False,
                        callback=_sandbox_callback,
                        help="Start a local sandbox cluster in-process and run against it "
                             "(scenario from IAGENT_SANDBOX_SCENARIO, speed from IAGENT_SANDBOX_SPEED).")


def with_sandbox_option(command: click.Command) -> click.Command:
    command.params.insert(0, sandbox_option())
    return command
