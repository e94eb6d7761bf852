"""What every cluster-facing command shares: the connection options, and Settings built from them
together with the group's own options (`iagent-tui --config F --read-only COMMAND`), so a
read-only flag given before the command is honoured exactly like one given after it."""

from __future__ import annotations

from typing import Any

import click

from ..config import Settings, load_settings
from ..services.connection import AwsTarget
from .sandbox_option import sandbox_link

CONNECTION_OPTIONS = (
    click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                 help="Settings file (default ./iagent.yaml or $IAGENT_CONFIG)."),
    click.option("--cluster", default=None, help="EKS cluster name."),
    click.option("--region", default=None, help="AWS region of the cluster."),
    click.option("--kubeconfig", default=None, help="kubeconfig file (default $KUBECONFIG or ~/.kube/config)."),
    click.option("--context", "kube_context", default=None, help="kubeconfig context to use."),
    click.option("--profile", "aws_profile", default=None, help="AWS named profile."),
)


def connection_options(fn):
    for option in reversed(CONNECTION_OPTIONS):
        fn = option(fn)
    return fn


def command_settings(ctx: click.Context, opts: dict[str, Any], **extra: Any) -> Settings:
    """Settings for a command: its own flags first, then the group's (--config, --read-only), then
    IAGENT_* and the file. A caller that put ready Settings in ctx.obj (tests, the dashboard) gets
    those, with read-only still only ever switched on, never off."""
    root = ctx.find_root().params
    read_only = bool(opts.get("read_only") or root.get("read_only")) or None
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    flags = {k: v for k, v in extra.items() if v is not None}
    if obj.get("settings") is not None and not any(opts.get(k) for k in ("config_path", "cluster", "region")):
        updates = {**flags, **({"read_only": True} if read_only else {})}
        return obj["settings"].model_copy(update=updates) if updates else obj["settings"]
    overrides = {
        "cluster": opts.get("cluster"), "region": opts.get("region"), "kubeconfig": opts.get("kubeconfig"),
        "kube_context": opts.get("kube_context"), "aws_profile": opts.get("aws_profile"),
        "read_only": read_only, **flags,
    }
    return load_settings(opts.get("config_path") or root.get("config_path"), with_sandbox(ctx, overrides))


def with_sandbox(ctx: click.Context, overrides: dict[str, Any]) -> dict[str, Any]:
    """Flags completed with the in-process sandbox's connection (`--sandbox`): a flag given on the
    command line still wins, but neither the file nor IAGENT_* can point the command elsewhere."""
    link = sandbox_link(ctx)
    if link is None:
        return overrides
    return {**overrides, **{k: v for k, v in link.settings_overrides().items() if overrides.get(k) is None}}


def command_aws(ctx: click.Context, settings: Settings) -> AwsTarget | None:
    """The AWS target when it is not the default credential chain: the sandbox's endpoint and keys
    under `--sandbox`; None otherwise (build_connection then uses the settings' profile)."""
    link = sandbox_link(ctx)
    if link is None:
        return None
    return AwsTarget(region=settings.region, endpoint_url=link.aws_endpoint, access_key_id=link.access_key_id,
                     secret_access_key=link.secret_access_key)
