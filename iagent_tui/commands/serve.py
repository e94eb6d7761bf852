"""`iagent-tui serve`: the dashboard in a browser through textual-serve, for a team walking through
the migration on one screen. Each browser tab gets its own dashboard process (textual-serve runs
`iagent-tui` per connection); with `--sandbox` they all read the one sandbox this command starts.

Loopback by default: whoever reaches the page drives a dashboard holding this machine's cluster
credentials (and, unless --read-only, its actions), and textual-serve has no login. Another host
needs --public, and a warning is printed."""

from __future__ import annotations

import ipaddress
import json
import os
import shlex
import sys

import click

from .sandbox_option import _sandbox_callback as start_sandbox_from_env
from .sandbox_option import sandbox_link

INSTALL_HINT = ("`iagent-tui serve` needs textual-serve, which is not installed: "
                "reinstall iagent-tui (`make install`), or pip install textual-serve==1.1.3.")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dashboard_command(root: click.Context, badge: str) -> str:
    """The command textual-serve runs per browser connection: this Python, this package, the
    group's own options (settings file, read-only) passed on."""
    params = root.params
    args = [sys.executable, "-m", "iagent_tui"]
    if params.get("config_path"):
        args += ["--config", os.path.abspath(params["config_path"])]
    if params.get("read_only"):
        args.append("--read-only")
    if badge:
        args += ["--badge", badge]
    return shlex.join(args)


def sandbox_environment(ctx: click.Context) -> dict[str, str]:
    """IAGENT_* and AWS_* pointing the dashboards at this command's sandbox (none without one)."""
    link = sandbox_link(ctx)
    if link is None:
        return {}
    env = {f"IAGENT_{key.upper()}": str(value) for key, value in link.settings_overrides().items()
           if not isinstance(value, dict)}
    env["IAGENT_WAITS"] = json.dumps(link.settings_overrides()["waits"])
    env.update(AWS_ENDPOINT_URL=link.aws_endpoint, AWS_ACCESS_KEY_ID=link.access_key_id,
               AWS_SECRET_ACCESS_KEY=link.secret_access_key, AWS_REGION=link.region, AWS_DEFAULT_REGION=link.region)
    return env


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Only loopback unless --public is given.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--public", is_flag=True,
              help="Allow a --host other than loopback: anyone who reaches it drives the dashboard (no login).")
@click.option("--public-url", default=None, help="The URL browsers use, when it is not http://HOST:PORT (a proxy).")
@click.option("--sandbox", "with_sandbox", is_flag=True,
              help="Start a local sandbox cluster in-process; every browser tab's dashboard reads it.")
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, public: bool, public_url: str | None,
                  with_sandbox: bool) -> None:
    """The dashboard in a browser (textual-serve), one dashboard per browser tab."""
    if not is_loopback(host) and not public:
        raise click.BadParameter(
            f"{host} is not a loopback address: anyone who reaches it would drive the dashboard with this "
            "machine's cluster credentials, and there is no login. Add --public to do it anyway, or keep the "
            "default 127.0.0.1 and reach it through an SSH tunnel (ssh -L 8000:127.0.0.1:8000 HOST).",
            param_hint="--host")
    try:
        from textual_serve.server import Server
    except ImportError:
        raise click.ClickException(INSTALL_HINT) from None
    if with_sandbox:  # after the checks: a refused --host starts nothing
        start_sandbox_from_env(ctx, None, True)  # IAGENT_SANDBOX_SCENARIO and _SPEED, checked as --sandbox does
    if not is_loopback(host):
        click.echo(f"WARNING: serving the dashboard on {host}:{port} with no login: anyone who reaches it "
                   f"uses this machine's cluster credentials{'' if ctx.find_root().params.get('read_only') else ' and can run its actions (add --read-only to refuse them)'}.",
                   err=True)
    os.environ.update(sandbox_environment(ctx))  # textual-serve hands its environment to each dashboard
    badge = "SANDBOX" if sandbox_link(ctx) is not None else ""
    server = Server(dashboard_command(ctx.find_root(), badge), host=host, port=port, title="iagent-tui",
                    public_url=public_url)
    try:
        server.serve()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}. "
                                   "Choose another --port (or stop what uses it).") from None
