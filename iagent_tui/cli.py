"""Command line entry point: `iagent-tui [COMMAND]`."""

from __future__ import annotations

import sys

import click

from . import __version__
from .commands.sandbox import sandbox_command


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="iagent-tui")
@click.pass_context
def main(ctx: click.Context) -> None:
    """iagent-tui: the cockpit for moving an EKS cluster's workloads onto AWS Fargate."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


main.add_command(sandbox_command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
