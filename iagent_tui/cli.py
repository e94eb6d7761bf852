"""Command line entry point: `iagent-tui [--sandbox] [COMMAND]`.

With no command it opens the dashboard on the configured cluster (or on an in-process sandbox with
`--sandbox`). Every command connects the same way: settings from iagent.yaml, IAGENT_* and flags;
the cluster from the kubeconfig context or straight from AWS."""

from __future__ import annotations

import asyncio
import sys

import click

from . import __version__
from .commands.actions import add_namespace_command, deploy_command, rollback_command, smoke_command
from .commands.doctor import doctor_command
from .commands.report import report_command
from .commands.sandbox import sandbox_command
from .commands.sandbox_option import sandbox_option, with_sandbox_option
from .commands.serve import serve_command
from .commands.status import status_command


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="iagent-tui")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Settings file (default ./iagent.yaml or $IAGENT_CONFIG).")
@click.option("--read-only", is_flag=True, default=None, help="Refuse every change (plans are still shown).")
# `serve` runs one dashboard per browser tab against the sandbox it started: they say SANDBOX too.
@click.option("--badge", default="", hidden=True)
@click.pass_context
def main(ctx: click.Context, config_path: str | None, read_only: bool | None, badge: str) -> None:
    """iagent-tui: the cockpit for moving an EKS cluster's workloads onto AWS Fargate.

    With no command, opens the live dashboard."""
    if ctx.invoked_subcommand is None:
        sys.exit(_open_dashboard(ctx, config_path, read_only, badge))


main.params.insert(0, sandbox_option())


def _open_dashboard(ctx: click.Context, config_path: str | None, read_only: bool | None, badge: str = "") -> int:
    from .app import run_dashboard
    from .commands.options import command_aws, with_sandbox
    from .config import ConfigError, load_settings
    from .services.connection import build_connection
    from .services.errors import ServiceError

    try:
        settings = load_settings(config_path, with_sandbox(ctx, {"read_only": read_only}))
    except ConfigError as err:
        # Exit 2 like every command's bad input (click's own usage errors use 2 as well).
        click.echo(f"iagent-tui: {err}", err=True)
        return 2
    try:
        connection = asyncio.run(build_connection(settings, command_aws(ctx, settings)))
    except ServiceError as err:
        raise click.ClickException(err.message) from None
    sandbox = ctx.find_root().meta.get("iagent.sandbox")
    # The dashboard offers the standard actions (deploy, smoke, rollback) through the same runner
    # as the headless commands: one journal, one read-only gate.
    return run_dashboard(settings, connection, sandbox_info=sandbox.info if sandbox else None, badge=badge)


for _command in (status_command, report_command, doctor_command, deploy_command, smoke_command, add_namespace_command, rollback_command):
    main.add_command(with_sandbox_option(_command))
main.add_command(sandbox_command)
main.add_command(serve_command)  # its own --sandbox, started once the bind address is accepted


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
