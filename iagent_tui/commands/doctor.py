"""`iagent-tui doctor [--json | --format junit] [--namespace NS]`: what is wrong with the cluster's
Fargate setup right now, worst first, with the evidence read and the next step; then, in their own
sections, what would fail on Fargate (migration blockers) and advice. The findings are the
Assessment's (``insights.assess``): the same that ``status`` and the dashboard show.

Exit codes follow the worst severity shown: 0 nothing worse than info; 1 warnings (a source that
could not be read is a warning: its checks were not evaluated); 2 errors, or the cluster could not
be reached, or the settings are wrong. No tracebacks; credentials are never printed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from xml.etree import ElementTree

import click

from .options import command_aws, command_settings, connection_options
from ..config import ConfigError, Settings
from ..insights.assessment import Assessment, assess
from ..insights.codes import CODES
from ..insights.doctor import EXIT_ERRORS
from ..insights.finding import CATEGORY_TITLES
from ..model import Snapshot
from ..names import is_dns1123_label
from ..report import finding_document
from .status import StatusFailed, read_snapshot

_LABEL = {"error": "ERROR", "warning": "WARNING", "info": "INFO"}
_COMMANDS = ("kubectl ", "aws ", "helm ", "iagent-tui ", "eksctl ")
_CATEGORIES = ("broken", "blocker", "advice")  # the order doctor shows them in

# A doctor that cannot read the cluster fails exactly as status does.
DoctorFailed = StatusFailed


def report_document(snap: Snapshot, assessment: Assessment, settings: Settings, namespace: str | None) -> dict[str, Any]:
    """The `doctor --json` document: stable keys for scripts (add keys, never rename them)."""
    findings = finding_document(assessment)
    return {
        "taken_at": snap.taken_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cluster": {"name": snap.cluster.name if snap.cluster else settings.cluster,
                    "region": snap.cluster.region if snap.cluster else settings.region},
        "namespace": namespace,
        "summary": assessment.count(),
        "exit_code": assessment.exit_code,
        "findings": findings,
        "sections": {c: [f["code"] + "|" + f["object"] for f in findings if f["category"] == c] for c in _CATEGORIES},
        # What the first release called diagnoses: the running-state findings.
        "diagnoses": [f for f in findings if f["category"] == "broken"],
        "not_evaluated": [{"check": n.rule, "codes": list(n.codes), "failed_sources": list(n.sources)}
                          for n in assessment.not_evaluated],
        "notes": [f"no pods in namespace {namespace}: only cluster-wide checks apply"]
        if namespace and not any(p.namespace == namespace for p in snap.pods) else [],
    }


def _finding_lines(f: dict[str, Any]) -> list[str]:
    lines = ["", f"{_LABEL[f['severity']]:<8}{f['code']}  {f['title']}", f"        {f['object']}"]
    # Controller errors span lines (AWS SDK "caused by:"): keep them inside the block.
    lines += ["        evidence: " + e.replace("\n", "\n                  ") for e in f["evidence"]]
    if f["message"]:
        lines.append(f"        why: {f['message']}")
    lines.append("        next:")
    lines += [f"          {'$ ' if step.startswith(_COMMANDS) else '- '}{step}" for step in f["next_steps"]]
    if f["action"]:
        target = f" {f['namespace']}" if f["action"] == "add-namespace" and f["namespace"] else ""
        lines.append(f"          $ iagent-tui {f['action']}{target}   # does this for you, after showing its plan")
    return lines


def render_report(doc: dict[str, Any]) -> str:
    counts = doc["summary"]
    scope = f", namespace {doc['namespace']}" if doc["namespace"] else ""
    head = (f"Doctor: cluster {doc['cluster']['name']} ({doc['cluster']['region']}{scope}) at {doc['taken_at']}: "
            f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info")
    lines = [head, *(f"Note: {note}" for note in doc["notes"])]
    for category in _CATEGORIES:
        mine = [f for f in doc["findings"] if f["category"] == category]
        lines += ["", f"== {CATEGORY_TITLES[category]} ({len(mine)}) =="]
        if not mine:
            lines.append({"broken": "Nothing broken found in what could be read.",
                          "blocker": "Nothing found that would fail on Fargate.",
                          "advice": "No advice."}[category])
        for f in mine:
            lines += _finding_lines(f)
    if doc["not_evaluated"]:
        lines += ["", "Not evaluated (a source could not be read):"]
        lines += [f"  - {n['check']} ({', '.join(n['codes'])}): {', '.join(n['failed_sources'])} failed" for n in doc["not_evaluated"]]
    return "\n".join(lines)


def render_junit(doc: dict[str, Any]) -> str:
    """JUnit XML for CI: a testsuite per category, a testcase per check (code) with a failure per
    finding; a code with no finding passes, a check that could not read its data is skipped."""
    skipped_codes = {code for n in doc["not_evaluated"] for code in n["codes"]}
    root = ElementTree.Element("testsuites", name=f"iagent-tui doctor {doc['cluster']['name']}")
    for category in _CATEGORIES:
        suite = ElementTree.SubElement(root, "testsuite", name=CATEGORY_TITLES[category], timestamp=doc["taken_at"])
        tests = failures = skipped = 0
        for code, info in CODES.items():
            if info.category != category:
                continue
            # Every finding of the code fails its testcase, in the suite of the code's category
            # (FG019 failing now stays under the blockers' suite: one testcase per check).
            found = [f for f in doc["findings"] if f["code"] == code]
            case = ElementTree.SubElement(suite, "testcase", classname=f"iagent-tui.doctor.{category}",
                                          name=f"{code} {info.summary}")
            tests += 1
            for f in found:
                failures += 1
                failure = ElementTree.SubElement(case, "failure", type=f["severity"],
                                                 message=f"{f['object']}: {f['title']}")
                failure.text = "\n".join([*f["evidence"], *(f"next: {step}" for step in f["next_steps"])])
            if not found and code in skipped_codes:
                skipped += 1
                ElementTree.SubElement(case, "skipped", message="not evaluated: a source it reads could not be read")
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("skipped", str(skipped))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode")


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON (stable keys, for scripts and CI).")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "junit"]), default=None,
              help="Output format: text (default), json (as --json), junit (JUnit XML for CI pipelines).")
@click.option("--namespace", "-n", default=None, help="Only this namespace's findings (cluster-wide ones are kept).")
@connection_options
@click.pass_context
def doctor_command(ctx: click.Context, as_json: bool, output_format: str | None, namespace: str | None, config_path: str | None, cluster: str | None,
                   region: str | None, kubeconfig: str | None, kube_context: str | None, aws_profile: str | None) -> None:
    """Troubleshoot the Fargate setup now: what is broken, worst first, the evidence and the next step;
    then what would fail on Fargate (migration blockers), and advice."""
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    if as_json and output_format not in (None, "json"):
        click.echo(f"iagent-tui doctor: --json and --format {output_format} ask for two formats; give one", err=True)
        ctx.exit(EXIT_ERRORS)
    output_format = "json" if as_json else output_format or "text"
    as_json = output_format == "json"
    if namespace is not None and not is_dns1123_label(namespace):
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
    assessment = assess(snap, settings).for_namespace(namespace)
    doc = report_document(snap, assessment, settings, namespace)
    render = {"json": lambda d: json.dumps(d, indent=2), "junit": render_junit, "text": render_report}[output_format]
    click.echo(render(doc))
    ctx.exit(assessment.exit_code)
