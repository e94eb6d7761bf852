"""`iagent-tui doctor [--json] [--namespace NS]`: what is wrong with the cluster's Fargate setup
right now, worst first, with the evidence read and the next step (insights.doctor's rules over one
snapshot, read the way `status` reads it).

Exit codes: 0 nothing wrong (info at most); 1 only warnings (a source that could not be read is a
warning: its checks were not evaluated); 2 errors, or the cluster could not be reached, or the
settings are wrong. No tracebacks; credentials are never printed (only the server URL).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import click

from .options import command_aws, command_settings, connection_options
from ..config import ConfigError, Settings
from ..insights.doctor import EXIT_ERRORS, DoctorReport, diagnose
from ..model import Snapshot
from .status import StatusFailed, read_snapshot

_LABEL = {"error": "ERROR", "warning": "WARNING", "info": "INFO"}
_COMMANDS = ("kubectl ", "aws ", "helm ", "iagent-tui ", "eksctl ")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")  # a DNS-1123 label, as Kubernetes requires


# A doctor that cannot read the cluster fails exactly as status does.
DoctorFailed = StatusFailed


def report_document(snap: Snapshot, report: DoctorReport, settings: Settings, namespace: str | None) -> dict[str, Any]:
    """The `doctor --json` document: stable keys for scripts (add keys, never rename them)."""
    return {
        "taken_at": snap.taken_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cluster": {"name": snap.cluster.name if snap.cluster else settings.cluster,
                    "region": snap.cluster.region if snap.cluster else settings.region},
        "namespace": namespace,
        "summary": report.count(),
        "exit_code": report.exit_code,
        "diagnoses": [d.to_dict() for d in report.diagnoses],
        "not_evaluated": [{"check": n.rule, "codes": list(n.codes), "failed_sources": list(n.sources)}
                          for n in report.not_evaluated],
        "notes": [f"no pods in namespace {namespace}: only cluster-wide checks apply"]
        if namespace and not any(p.namespace == namespace for p in snap.pods) else [],
    }


def render_report(doc: dict[str, Any]) -> str:
    counts = doc["summary"]
    scope = f", namespace {doc['namespace']}" if doc["namespace"] else ""
    head = (f"Doctor: cluster {doc['cluster']['name']} ({doc['cluster']['region']}{scope}) at {doc['taken_at']}: "
            f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info")
    lines = [head, *(f"Note: {note}" for note in doc["notes"])]
    if not doc["diagnoses"]:
        lines.append("Nothing wrong found in what could be read.")
    for d in doc["diagnoses"]:
        lines += ["", f"{_LABEL[d['severity']]:<8}{d['code']}  {d['title']}", f"        {d['object']}"]
        # Controller errors span lines (AWS SDK "caused by:"): keep them inside the block.
        lines += ["        evidence: " + e.replace("\n", "\n                  ") for e in d["evidence"]]
        lines.append(f"        why: {d['explanation']}")
        lines.append("        next:")
        lines += [f"          {'$ ' if step.startswith(_COMMANDS) else '- '}{step}" for step in d["next_steps"]]
    if doc["not_evaluated"]:
        lines += ["", "Not evaluated (a source could not be read):"]
        lines += [f"  - {n['check']} ({', '.join(n['codes'])}): {', '.join(n['failed_sources'])} failed" for n in doc["not_evaluated"]]
    return "\n".join(lines)


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the diagnoses as JSON (stable keys, for scripts and CI).")
@click.option("--namespace", "-n", default=None, help="Only this namespace's diagnoses (cluster-wide ones are kept).")
@connection_options
@click.pass_context
def doctor_command(ctx: click.Context, as_json: bool, namespace: str | None, config_path: str | None, cluster: str | None,
                   region: str | None, kubeconfig: str | None, kube_context: str | None, aws_profile: str | None) -> None:
    """Troubleshoot the Fargate setup now: what is wrong, worst first, the evidence and the next step."""
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    if namespace is not None and not _NAMESPACE.fullmatch(namespace):
        click.echo(f"iagent-tui doctor: --namespace {namespace!r} is not a namespace name (lowercase letters, "
                   "digits and '-', at most 63 characters)", err=True)
        ctx.exit(EXIT_ERRORS)
    try:
        settings = command_settings(ctx, {"config_path": config_path, "cluster": cluster, "region": region,
                                          "kubeconfig": kubeconfig, "kube_context": kube_context,
                                          "aws_profile": aws_profile})
    except ConfigError as err:
        click.echo(f"iagent-tui doctor: {err}", err=True)
        ctx.exit(EXIT_ERRORS)
    try:
        snap = asyncio.run(read_snapshot(settings, obj.get("connection"), command_aws(ctx, settings)))
    except DoctorFailed as err:
        if as_json:
            click.echo(json.dumps({"error": str(err), "cluster": {"name": settings.cluster, "region": settings.region},
                                   "exit_code": EXIT_ERRORS}, indent=2))
        click.echo(f"iagent-tui doctor: {err}", err=True)
        ctx.exit(EXIT_ERRORS)
    report = diagnose(snap, namespace=namespace, start_target_seconds=settings.startup_target_seconds)
    doc = report_document(snap, report, settings, namespace)
    click.echo(json.dumps(doc, indent=2) if as_json else render_report(doc))
    ctx.exit(report.exit_code)
