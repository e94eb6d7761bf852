"""Command line entry point: `iagent-tui [--sandbox] [COMMAND]`.

With no command it opens the dashboard on the configured cluster (or on an in-process sandbox with
`--sandbox`). Every command connects the same way: settings from iagent.yaml, IAGENT_* and flags;
the cluster from the kubeconfig context or straight from AWS."""

from __future__ import annotations

import asyncio
import importlib
import sys

import click

from . import __version__
from .commands.sandbox_option import sandbox_option, with_sandbox_option

# name -> (module, attribute, takes the shared --sandbox flag). A command's module is imported only
# when that command runs (or `--help` lists them all): `status` must not pay for the actions
# framework, doctor's checks or the sandbox (issue 10: headless commands import only what they use).
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "status": ("iagent_tui.commands.status", "status_command", True),
    "report": ("iagent_tui.commands.report", "report_command", True),
    "doctor": ("iagent_tui.commands.doctor", "doctor_command", True),
    "deploy": ("iagent_tui.commands.actions", "deploy_command", True),
    "smoke": ("iagent_tui.commands.actions", "smoke_command", True),
    "add-namespace": ("iagent_tui.commands.actions", "add_namespace_command", True),
    "rollback": ("iagent_tui.commands.actions", "rollback_command", True),
    "sandbox": ("iagent_tui.commands.sandbox", "sandbox_command", False),
    "serve": ("iagent_tui.commands.serve", "serve_command", False),  # its own --sandbox, started once the bind address is accepted
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (see COMMANDS)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            module, attribute, shared_sandbox = COMMANDS[name]
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(with_sandbox_option(command) if shared_sandbox else command, name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
