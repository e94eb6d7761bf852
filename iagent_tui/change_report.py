"""The change-ticket report (`iagent-tui report`): inventory, blockers, the cost comparison and
start times per namespace, as one JSON document and its Markdown rendering (HTML: report_html.py).

Every figure comes from ``insights.assess`` (through the `status` document for inventory and
cost); this module only selects and shapes. ``--since`` compares with an earlier JSON report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from .config import Settings
from .insights.assessment import assess
from .insights.start_compare import start_comparison
from .insights.startup import ready_stats_by_namespace
from .model import Snapshot
from .report import build_status

REPORT_VERSION = 1
COST_KEYS = ("ec2_monthly_usd", "fargate_monthly_usd", "fargate_projected_monthly_usd", "ec2_remaining_monthly_usd",
             "before_monthly_usd", "after_monthly_usd", "savings_percent")
# The comparison "as requested" against "as right-sized" (None while right-sizing is not evaluated)
RIGHTSIZED_KEYS = ("fargate_rightsized_monthly_usd", "after_rightsized_monthly_usd", "savings_rightsized_percent")


class ReportInputError(ValueError):
    """A --since file that is not a report this command wrote."""


def build_report(snap: Snapshot, settings: Settings) -> dict[str, Any]:
    assessment = assess(snap, settings)
    status = build_status(snap, settings, assessment)
    pods = status["pods"]
    by_namespace: dict[str, Counter] = {}
    for pod in pods:
        by_namespace.setdefault(pod["namespace"], Counter())[pod["compute_type"] or "unscheduled"] += 1
    cost = {k: v for k, v in status["cost"].items() if k != "business_case"}
    stats = ready_stats_by_namespace({k: s.ready for k, s in assessment.start.items()}, assessment.start_target)
    return {
        "report_version": REPORT_VERSION,
        "taken_at": status["taken_at"],
        "cluster": status["cluster"],
        "inventory": {
            "nodegroups": status["nodegroups"],
            "nodes": {"ec2": sum(n["compute_type"] == "ec2" for n in status["nodes"]),
                      "fargate": sum(n["compute_type"] == "fargate" for n in status["nodes"])},
            "fargate_profiles": [{"name": p["name"], "status": p["status"]} for p in status["fargate_profiles"]],
            "pods_by_namespace": {ns: dict(sorted(c.items())) for ns, c in sorted(by_namespace.items())},
        },
        "blockers": [f for f in status["findings"] if f["category"] == "blocker"],
        "cost": cost,
        "business_case": status["cost"]["business_case"],
        "start_times": [{"namespace": s.namespace, "ready": s.count, "not_ready": s.not_ready, "p50_seconds": s.p50,
                         "p95_seconds": s.p95, "max_seconds": s.max, "target_seconds": s.target,
                         "over_target": s.over_target, "meets_target": s.meets_target} for s in stats],
        "start_times_by_compute": [
            {"namespace": r.namespace, "compute": r.compute, "ready": r.ready, "p50_seconds": r.p50,
             "p95_seconds": r.p95, "max_seconds": r.max, "target_seconds": r.target, "meets_target": r.meets_target,
             "slowest_phase": r.slowest_phase, "slowest_phase_p50_seconds": r.slowest_phase_p50}
            for r in start_comparison(snap.pods, assessment.start, assessment.start_target)],
        "notes": status["notes"],
    }


def compare(doc: Mapping[str, Any], previous: Any) -> dict[str, Any]:
    """What changed since an earlier report: cost deltas (total and per namespace), blockers gone
    and new. ReportInputError when ``previous`` is not a report of this kind."""
    if not isinstance(previous, dict) or previous.get("report_version") != REPORT_VERSION or not isinstance(previous.get("cost"), dict):
        raise ReportInputError(f"not an iagent-tui report (version {REPORT_VERSION}): expected the JSON a previous "
                               "`iagent-tui report` wrote")

    def delta(now: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for key in (*COST_KEYS, *RIGHTSIZED_KEYS):
            a, b = now.get(key), before.get(key) if isinstance(before, Mapping) else None
            out[key] = None if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) else round(a - b, 2)
        return out

    old_ns = previous["cost"].get("by_namespace") or {}
    new_ns = doc["cost"].get("by_namespace") or {}
    old_blockers = {(b.get("code"), b.get("object")) for b in previous.get("blockers") or [] if isinstance(b, dict)}
    new_blockers = {(b["code"], b["object"]) for b in doc["blockers"]}
    return {
        "previous_taken_at": previous.get("taken_at"),
        "cost": delta(doc["cost"], previous["cost"]),
        "by_namespace": {ns: delta(new_ns.get(ns, {}), old_ns.get(ns, {})) for ns in sorted({*old_ns, *new_ns})},
        "blockers_resolved": [f"{c} {o}" for c, o in sorted(old_blockers - new_blockers, key=str)],
        "blockers_new": [f"{c} {o}" for c, o in sorted(new_blockers - old_blockers, key=str)],
    }


def money(value: Any) -> str:
    return "-" if not isinstance(value, (int, float)) else f"${value:,.2f}"


def seconds(value: Any) -> str:
    return "-" if value is None else f"{value:.0f} s"


def percent(value: Any) -> str:
    return "-" if value is None else f"{value:.1f} %"


def cost_rows(doc: Mapping[str, Any]) -> list[list[str]]:
    """Header and one row per namespace, then the total: the comparison table every format shows,
    "as requested" and, when right-sizing was evaluated, "as right-sized"."""
    sized = doc["cost"].get("fargate_rightsized_monthly_usd") is not None
    rows = [["namespace", "EC2 now", "Fargate now", "Fargate after", "EC2 kept", "before", "after", "savings"]
            + (["Fargate right-sized", "after right-sized", "savings right-sized"] if sized else [])]

    def row(name: str, c: Mapping[str, Any]) -> list[str]:
        cells = [name, *(money(c.get(k)) for k in COST_KEYS[:-1]), percent(c.get("savings_percent"))]
        if sized:
            cells += [money(c.get("fargate_rightsized_monthly_usd")), money(c.get("after_rightsized_monthly_usd")),
                      percent(c.get("savings_rightsized_percent"))]
        return cells

    rows += [row(ns, c) for ns, c in doc["cost"]["by_namespace"].items()]
    rows.append(row("total", doc["cost"]))
    return rows


def rightsizing_rows(doc: Mapping[str, Any]) -> list[list[str]]:
    """Per workload: sizes, p95 usage, the recommended request and the monthly saving."""
    sized = (doc.get("business_case") or {}).get("rightsizing") or {}
    rows = [["workload", "pods", "size now", "right-sized", "p95 usage", "recommended request", "saving / month"]]
    for w in sized.get("workloads", []):
        usage = "; ".join(f"{c['name']} {c['p95_cpu_millicores']:g}m {c['p95_memory_bytes'] / 2**20:.0f}Mi"
                          for c in w["containers"] if c["p95_cpu_millicores"] is not None) or "no samples"
        recommended = "; ".join(f"{c['name']} {c['recommended']}" for c in w["containers"] if c["recommended"]) or "-"
        rows.append([w["workload"], str(w["pods"]), w["current_size"] or "-", f"{w['rightsized_size'] or '-'} ({w['verdict']})",
                     usage, recommended, money(w["monthly_saving_usd"])])
    return rows


def rightsizing_lines(doc: Mapping[str, Any]) -> list[str]:
    """The sentence that heads the right-sizing section (or says why there is none)."""
    sized = (doc.get("business_case") or {}).get("rightsizing") or {}
    if not sized.get("evaluated"):
        return [f"Right-sizing {sized.get('reason') or 'not evaluated'}."]
    return [f"p95 of metrics-server usage over {seconds(sized['window_seconds'])} ({sized['scrapes']} scrapes, "
            f"{sized['first_sample']} to {sized['last_sample']}; {sized['source'] or 'sampled by the dashboard'}) "
            f"+ {sized['headroom_percent']:g} % headroom, to the Fargate size that holds it: "
            f"saves {money(sized['monthly_saving_usd'])} per month."]


def start_rows(doc: Mapping[str, Any]) -> list[list[str]]:
    rows = [["namespace", "compute", "ready", "p50", "p95", "max", "target", "meets target", "slowest phase (p50)"]]
    for s in doc.get("start_times_by_compute", []):
        rows.append([s["namespace"], s["compute"], str(s["ready"]), seconds(s["p50_seconds"]), seconds(s["p95_seconds"]),
                     seconds(s["max_seconds"]), seconds(s["target_seconds"]),
                     {True: "yes", False: "no", None: "-"}[s["meets_target"]],
                     f"{s['slowest_phase']} ({seconds(s['slowest_phase_p50_seconds'])})" if s["slowest_phase"] else "-"])
    return rows


def _md_table(rows: list[list[str]]) -> list[str]:
    esc = [[cell.replace("|", "\\|") for cell in row] for row in rows]
    return ["| " + " | ".join(esc[0]) + " |", "|" + "---|" * len(esc[0])] + ["| " + " | ".join(r) + " |" for r in esc[1:]]


def render_markdown(doc: Mapping[str, Any]) -> str:
    c = doc["cluster"]
    case = doc["business_case"] or {}
    inv = doc["inventory"]
    lines = [f"# Fargate migration report: {c['name']} ({c['region']})", "", f"Snapshot taken {doc['taken_at'] or '?'}.", "",
             "## Inventory", "",
             f"Nodes: {inv['nodes']['ec2']} EC2, {inv['nodes']['fargate']} Fargate. Node groups: "
             + (", ".join(f"{g['name']} ({g['desired']} x {'/'.join(g['instance_types'])})" for g in inv["nodegroups"]) or "none")
             + ". Fargate profiles: " + (", ".join(f"{p['name']} ({p['status']})" for p in inv["fargate_profiles"]) or "none") + ".", ""]
    lines += _md_table([["namespace", "pods by compute type"]]
                       + [[ns, ", ".join(f"{n} {k}" for k, n in counts.items())] for ns, counts in inv["pods_by_namespace"].items()])
    lines += ["", "## Blockers", ""]
    lines += _md_table([["severity", "code", "object", "what"]]
                       + [[b["severity"], b["code"], b["object"], b["title"]] for b in doc["blockers"]]) if doc["blockers"] else ["None."]
    lines += ["", f"## Cost, monthly ({case.get('hours_per_month', 730):g} h)", ""]
    lines += _md_table(cost_rows(doc))
    fit = case.get("remaining_node_group")
    if fit:
        lines += ["", f"Kept on EC2: {', '.join(case['stays_on_ec2']) or 'nothing'}; DaemonSets {', '.join(case['daemonsets']) or 'none'}; "
                  + (f"smallest node group {fit['count']} x {fit['instance_type']} at ${fit['hourly_usd_each']}/h."
                     if fit["count"] else "no node group needed.")]
    lines += ["", f"Fargate rounding waste after migration: {money(case.get('fargate_rounding_waste_monthly_usd'))} per month.",
              "", "Assumptions:", ""] + [f"- {a}" for a in case.get("assumptions", [])]
    lines += [f"- Note: {n}" for n in [*case.get("notes", []), *doc["notes"]]]
    lines += ["", "## Right-sizing", ""] + rightsizing_lines(doc)
    if len(rightsizing_rows(doc)) > 1:
        lines += [""] + _md_table(rightsizing_rows(doc))
    lines += ["", "## Start times (creation to Ready)", ""]
    lines += _md_table([["namespace", "ready", "p50", "p95", "max", "target", "meets target"]]
                       + [[s["namespace"], str(s["ready"]), seconds(s["p50_seconds"]), seconds(s["p95_seconds"]),
                           seconds(s["max_seconds"]), seconds(s["target_seconds"]),
                           {True: "yes", False: "no", None: "-"}[s["meets_target"]]] for s in doc["start_times"]])
    lines += ["", "Before (EC2) and after (Fargate), with the slowest phase:", ""] + _md_table(start_rows(doc))
    since = doc.get("since")
    if since:
        lines += ["", f"## Changes since {since['previous_taken_at'] or 'the previous report'}", ""]
        lines += _md_table([["", *COST_KEYS]] + [["total", *(str(since["cost"][k]) for k in COST_KEYS)]]
                           + [[ns, *(str(d[k]) for k in COST_KEYS)] for ns, d in since["by_namespace"].items()])
        lines += ["", f"Blockers resolved: {', '.join(since['blockers_resolved']) or 'none'}. "
                      f"New blockers: {', '.join(since['blockers_new']) or 'none'}."]
    return "\n".join(lines) + "\n"


__all__ = ["ReportInputError", "build_report", "compare", "cost_rows", "render_markdown", "rightsizing_lines",
           "rightsizing_rows", "start_rows"]
