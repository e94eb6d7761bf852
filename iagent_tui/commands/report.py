"""`iagent-tui report [--out DIR] [--since FILE]`: the change-ticket report in Markdown, JSON and a
self-contained HTML page, from one snapshot.

Exit codes as `status`: 0 everything read, 1 read with gaps, 2 unreachable cluster or bad input
(settings, an unreadable or foreign --since file, an output directory that cannot be written).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from .options import command_aws, command_settings, connection_options
from .status import (EXIT_OK, EXIT_PARTIAL, EXIT_UNREACHABLE, StatusFailed, end_progress, progress_line, read_snapshot,
                     saved_usage, usage_window_option)
from ..change_report import ReportInputError, build_report, compare, render_markdown
from ..config import ConfigError
from ..report_html import render_html

BASENAME = "iagent-report"


def _previous(path: str) -> object:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportInputError(f"cannot read --since file {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"--since file {path} is not JSON: {exc}") from None


@click.command("report")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=".", show_default=True,
              help=f"Directory for {BASENAME}.md, .json and .html.")
@click.option("--since", "since_path", type=click.Path(dir_okay=False), default=None,
              help="A previous report's JSON: show what changed since.")
@usage_window_option
@connection_options
@click.pass_context
def report_command(ctx: click.Context, out_dir: str, since_path: str | None, usage_window: float | None,
                   usage_from: str | None, config_path: str | None, cluster: str | None, region: str | None, kubeconfig: str | None,
                   kube_context: str | None, aws_profile: str | None) -> None:
    """Write the change-ticket report: inventory, blockers, cost before/after, start times."""
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    try:
        settings = command_settings(ctx, {"config_path": config_path, "cluster": cluster, "region": region,
                                          "kubeconfig": kubeconfig, "kube_context": kube_context,
                                          "aws_profile": aws_profile})
        previous = _previous(since_path) if since_path else None
        if previous is not None:
            compare({"cost": {}, "blockers": []}, previous)  # refuse a foreign file before reading the cluster
        usage = saved_usage(usage_window, usage_from, settings)
    except (ConfigError, ValueError) as err:
        click.echo(f"iagent-tui report: {err}", err=True)
        ctx.exit(EXIT_UNREACHABLE)
    try:
        snap = asyncio.run(read_snapshot(settings, obj.get("connection"), command_aws(ctx, settings), usage_window,
                                         progress_line() if usage_window else None, usage))
        if usage_window:
            end_progress()
    except StatusFailed as err:
        click.echo(f"iagent-tui report: {err}", err=True)
        ctx.exit(EXIT_UNREACHABLE)
    doc = build_report(snap, settings)
    if previous is not None:
        doc["since"] = compare(doc, previous)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for suffix, text in (("json", json.dumps(doc, indent=2) + "\n"), ("md", render_markdown(doc)), ("html", render_html(doc))):
            (out / f"{BASENAME}.{suffix}").write_text(text, encoding="utf-8")
    except OSError as exc:
        click.echo(f"iagent-tui report: cannot write the report to {out}: {exc.strerror or exc}", err=True)
        ctx.exit(EXIT_UNREACHABLE)
    cost = doc["cost"]
    saving, sized = cost["savings_percent"], cost.get("savings_rightsized_percent")
    click.echo(f"Wrote {out / BASENAME}.md, .json and .html"
               + ("" if saving is None else f" (monthly {cost['before_monthly_usd']} -> "
                                            f"{cost['after_monthly_usd']} USD, savings {saving} %"
                  + ("" if sized is None else f"; right-sized {cost['after_rightsized_monthly_usd']} USD, "
                                              f"savings {sized} %") + ")"))
    ctx.exit(EXIT_PARTIAL if any(not s.ok for s in snap.sources.values()) else EXIT_OK)
