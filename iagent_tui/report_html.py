"""The change report as one self-contained HTML page: inline CSS and inline SVG bar charts, no
script, nothing fetched (a change ticket is read offline and must not call out to anything).
Every string from the cluster is escaped."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from .change_report import cost_rows, money, percent, rightsizing_lines, rightsizing_rows, seconds, start_rows

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}.bad{color:#a00}.ok{color:#060}"""


def _table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


SERIES_COLOURS = ("#888", "#3a7", "#27c")


def bar_chart(series: list[tuple[str, float, float]] | list[tuple], labels: tuple[str, ...] = ("before", "after")) -> str:
    """One horizontal bar per value and row (before, after, and after right-sized when given),
    scaled to the largest value; each bar carries its namespace and series for readers and tests."""
    values = [v for row in series for v in row[1:]]
    top = max(values + [0.01])
    bars = len(labels)
    row_h, label_w, bar_w = 8 + 13 * bars, 160, 420
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="cost-by-namespace" '
             f'width="{label_w + bar_w + 110}" height="{row_h * len(series) + 24}" '
             'role="img" aria-label="monthly cost per namespace: ' + escape(", ".join(labels)) + '">']
    for j, label in enumerate(labels):
        x = label_w + j * 150
        parts.append(f'<rect x="{x}" y="2" width="10" height="10" fill="{SERIES_COLOURS[j]}"/>'
                     f'<text x="{x + 14}" y="11" font-size="11">{escape(label)}</text>')
    for i, (name, *row) in enumerate(series):
        y = 20 + i * row_h
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{escape(name)}</text>')
        for j, value in enumerate(row):
            width = max(0.0, value) / top * bar_w
            parts.append(f'<rect class="bar" data-namespace="{escape(name)}" data-series="{escape(labels[j])}" '
                         f'x="{label_w}" y="{y + j * 13}" width="{width:.1f}" height="11" fill="{SERIES_COLOURS[j]}"/>'
                         f'<text x="{label_w + width + 4:.1f}" y="{y + j * 13 + 10}" font-size="10">{escape(money(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(doc: Mapping[str, Any]) -> str:
    c = doc["cluster"]
    case = doc["business_case"] or {}
    title = f"Fargate migration report: {c['name']} ({c['region']})"
    inv = doc["inventory"]
    sized = doc["cost"].get("fargate_rightsized_monthly_usd") is not None
    labels = ("before", "after", "after right-sized") if sized else ("before", "after")
    keys = ("before_monthly_usd", "after_monthly_usd", "after_rightsized_monthly_usd")[:len(labels)]
    series = [(ns, *((v.get(k) or 0.0) for k in keys)) for ns, v in doc["cost"]["by_namespace"].items()]
    cost = doc["cost"]
    totals = (f"Monthly total: before {money(cost['before_monthly_usd'])}, after {money(cost['after_monthly_usd'])} "
              f"(savings {percent(cost['savings_percent'])})"
              + (f"; right-sized after {money(cost['after_rightsized_monthly_usd'])} "
                 f"(savings {percent(cost['savings_rightsized_percent'])})" if sized else "") + ".")
    body = [f"<h1>{escape(title)}</h1>", f"<p>Snapshot taken {escape(str(doc['taken_at'] or '?'))}.</p>",
            "<h2>Inventory</h2>",
            f"<p>Nodes: {inv['nodes']['ec2']} EC2, {inv['nodes']['fargate']} Fargate.</p>",
            _table([["namespace", "pods by compute type"]]
                   + [[ns, ", ".join(f"{n} {k}" for k, n in counts.items())] for ns, counts in inv["pods_by_namespace"].items()]),
            "<h2>Blockers</h2>",
            _table([["severity", "code", "object", "what"]] + [[b["severity"], b["code"], b["object"], b["title"]] for b in doc["blockers"]])
            if doc["blockers"] else "<p>None.</p>",
            f"<h2>Cost, monthly ({case.get('hours_per_month', 730):g} h)</h2>",
            f"<p>Savings: <strong>{escape(percent(doc['cost']['savings_percent']))}</strong></p>",
            f'<p class="totals">{escape(totals)}</p>',
            _table(cost_rows(doc)), bar_chart(series, labels),
            "<h3>Right-sizing</h3>", *(f"<p>{escape(line)}</p>" for line in rightsizing_lines(doc)),
            _table(rightsizing_rows(doc)) if len(rightsizing_rows(doc)) > 1 else "",
            "<h3>Assumptions</h3><ul>" + "".join(f"<li>{escape(a)}</li>" for a in case.get("assumptions", []))
            + "".join(f"<li>Note: {escape(n)}</li>" for n in [*case.get("notes", []), *doc["notes"]]) + "</ul>",
            "<h2>Start times (creation to Ready)</h2>",
            _table([["namespace", "ready", "p50", "p95", "max", "target", "meets target"]]
                   + [[s["namespace"], str(s["ready"]), seconds(s["p50_seconds"]), seconds(s["p95_seconds"]),
                       seconds(s["max_seconds"]), seconds(s["target_seconds"]),
                       {True: "yes", False: "no", None: "-"}[s["meets_target"]]] for s in doc["start_times"]]),
            "<p>Before (EC2) and after (Fargate), with the slowest phase:</p>", _table(start_rows(doc))]
    since = doc.get("since")
    if since:
        body += [f"<h2>Changes since {escape(str(since['previous_taken_at'] or 'the previous report'))}</h2>",
                 _table([["", "before (monthly)", "after (monthly)", "savings"]]
                        + [[ns, str(d["before_monthly_usd"]), str(d["after_monthly_usd"]), str(d["savings_percent"])]
                           for ns, d in {"total": since["cost"], **since["by_namespace"]}.items()]),
                 f"<p>Blockers resolved: {escape(', '.join(since['blockers_resolved']) or 'none')}. "
                 f"New blockers: {escape(', '.join(since['blockers_new']) or 'none')}.</p>"]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")


__all__ = ["bar_chart", "render_html"]
