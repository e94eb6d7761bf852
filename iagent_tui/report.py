"""The `status` report: one Snapshot and its Assessment turned into JSON-ready data and a
readable summary.

Everything computed comes from ``insights.assess`` (cost, start phases, findings, the same the
dashboard and ``doctor`` show); this module only shapes the output. The JSON keys are a contract
for scripts and CI: add keys, never rename or drop them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .config import Settings
from .insights.assessment import Assessment, assess
from .insights.pricing import HOURS_PER_MONTH
from .model import Snapshot


def _iso(dt: datetime | None) -> str | None:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ") if dt else None


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def finding_document(assessment: Assessment) -> list[dict[str, Any]]:
    """The findings as status and doctor print them: one list, worst first. ``fix`` (the first
    next step) is kept for scripts written against the first release."""
    return [{**f.to_dict(), "fix": f.fix} for f in assessment.findings]


def _monthly(hourly: float | None) -> float | None:
    return None if hourly is None else round(hourly * HOURS_PER_MONTH, 2)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _iso_or_none(dt: datetime | None) -> str | None:
    return _iso(dt) if dt is not None else None


def rightsizing_document(case: Any) -> dict[str, Any]:
    """What right-sizing found (``evaluated`` false with the reason when it could not run)."""
    sized = case.rightsizing
    if sized is None:
        return {"evaluated": False, "reason": case.rightsizing_note}
    usage = sized.usage
    return {
        "evaluated": True, "headroom_percent": sized.headroom_percent, "window_seconds": usage.window_seconds,
        "first_sample": _iso_or_none(usage.first), "last_sample": _iso_or_none(usage.last), "scrapes": usage.scrapes,
        "source": usage.source or None,
        "monthly_saving_usd": round(sized.monthly_saving, 2),
        "workloads": [{
            "workload": w.workload, "namespace": w.namespace, "pods": w.pods, "verdict": w.verdict,
            "current_size": str(w.current_size) if w.current_size else None,
            "rightsized_size": str(w.rightsized_size) if w.rightsized_size else None,
            "current_monthly_usd_per_pod": _monthly(w.current_hourly),
            "rightsized_monthly_usd_per_pod": _monthly(w.rightsized_hourly),
            "monthly_saving_usd": round(w.monthly_saving, 2), "samples": w.samples,
            "containers": [{
                "name": c.container, "samples": c.samples,
                "requested_cpu_millicores": c.requested_millicores, "requested_memory_bytes": c.requested_bytes,
                "p95_cpu_millicores": None if c.p95_millicores is None else round(c.p95_millicores, 3),
                "p95_memory_bytes": c.p95_bytes,
                "recommended_cpu_millicores": c.recommended_millicores, "recommended_memory_bytes": c.recommended_bytes,
                "recommended": c.recommended if c.p95_millicores is not None else None,
            } for c in w.containers],
        } for w in sized.workloads],
    }


def business_case_document(assessment: Assessment) -> dict[str, Any]:
    """The before/after keys of `cost` (all None when the region has no rates)."""
    case = assessment.business_case
    keys = ("ec2_monthly_usd", "fargate_projected_monthly_usd", "fargate_rightsized_monthly_usd",
            "ec2_remaining_monthly_usd", "before_monthly_usd", "after_monthly_usd", "after_rightsized_monthly_usd",
            "savings_percent", "savings_rightsized_percent")
    if case is None:
        return {**dict.fromkeys(keys), "by_namespace": {}, "business_case": None}

    def figures(item: Any) -> dict[str, Any]:
        return {"ec2_monthly_usd": _monthly(item.ec2_hourly),
                "fargate_monthly_usd": _monthly(item.fargate_hourly),
                "fargate_projected_monthly_usd": _monthly(item.fargate_projected_hourly),
                "fargate_rightsized_monthly_usd": _monthly(item.fargate_rightsized_hourly),
                "ec2_remaining_monthly_usd": _monthly(item.ec2_remaining_hourly),
                "before_monthly_usd": _monthly(item.before_hourly), "after_monthly_usd": _monthly(item.after_hourly),
                "after_rightsized_monthly_usd": _monthly(item.after_rightsized_hourly),
                "savings_percent": _percent(item.savings_percent),
                "savings_rightsized_percent": _percent(item.savings_rightsized_percent)}

    total = figures(case)
    del total["fargate_monthly_usd"]  # the existing key of the same name is the cluster-wide one
    fit = case.remaining
    return {
        **total,
        "by_namespace": {n.namespace: figures(n) for n in case.namespaces},
        "business_case": {
            "hours_per_month": case.hours_per_month, "discount_percent": case.discount_percent,
            "region": case.region,
            "ec2_nodes": [{"name": n.node, "nodegroup": n.nodegroup or None, "instance_type": n.instance_type,
                           "hourly_usd": n.hourly} for n in case.nodes],
            "ec2_by_workload_monthly_usd": {k: _monthly(v) for k, v in case.workload_ec2_hourly.items()},
            "stays_on_ec2": list(case.stays_on_ec2), "daemonsets": list(case.daemonsets),
            "remaining_node_group": None if fit is None else {
                "instance_type": fit.instance_type or None, "count": fit.count, "hourly_usd_each": fit.hourly_price,
                "pods_per_node": [list(n) for n in fit.placement]},
            "fargate_rounding_waste_monthly_usd": _monthly(case.rounding_waste_hourly),
            "rightsizing": rightsizing_document(case),
            "assumptions": list(case.assumptions),
            "notes": [*case.notes, *([f"right-sizing {case.rightsizing_note}"] if case.rightsizing_note else [])],
        },
    }


def build_status(snap: Snapshot, settings: Settings, assessment: Assessment | None = None) -> dict[str, Any]:
    """The `status --json` document (``assessment``: one already made of this snapshot)."""
    region = snap.cluster.region if snap.cluster else settings.region
    assessment = assessment if assessment is not None else assess(snap, settings)
    rates = assessment.rates
    pods = []
    for pod in snap.pods:
        start = assessment.start.get(pod.key)
        billed = pod.key in assessment.pod_cost and pod.key not in assessment.pod_cost_projected
        pods.append({
            "namespace": pod.namespace, "name": pod.name, "node": pod.node or None, "compute_type": pod.compute_type or None,
            "phase": pod.phase, "status": pod.reason, "ready": pod.ready, "restarts": pod.restarts,
            "startup_seconds": _round(start.ready if start else None, 1),
            "capacity_provisioned": pod.capacity_provisioned or None,
            "fargate_profile": pod.fargate_profile or None,
            "hourly_cost_usd": _round(assessment.pod_cost[pod.key]) if billed else None,
            "projected_hourly_cost_usd": _round(assessment.pod_cost[pod.key]) if pod.key in assessment.pod_cost_projected else None,
        })
    coredns = snap.addon("coredns")
    findings = finding_document(assessment)
    hourly_total = assessment.fargate_hourly or 0.0
    priced_all = not any(note.startswith("pod ") for note in assessment.notes)
    return {
        "taken_at": _iso(snap.taken_at),
        "cluster": {
            "name": snap.cluster.name if snap.cluster else settings.cluster,
            "region": region,
            "status": snap.cluster.status if snap.cluster else None,
            "version": snap.cluster.version if snap.cluster else None,
            "endpoint": snap.cluster.endpoint if snap.cluster else None,
        },
        "connection": {
            "context": snap.connection.context, "server": snap.connection.server, "auth": snap.connection.auth_kind,
            "read_only": snap.connection.read_only,
            "matches_cluster": snap.connection.matches_cluster, "mismatch": snap.connection.mismatch or None,
        } if snap.connection else None,
        "fargate_profiles": [
            {"name": p.name, "status": p.status, "selectors": [{"namespace": s.namespace, "labels": dict(s.labels)} for s in p.selectors],
             "subnets": list(p.subnets), "pod_execution_role_arn": p.pod_execution_role_arn}
            for p in snap.profiles
        ],
        "nodegroups": [
            {"name": g.name, "status": g.status, "desired": g.desired, "min": g.min, "max": g.max, "instance_types": list(g.instance_types)}
            for g in snap.nodegroups
        ],
        "nodes": [{"name": n.name, "compute_type": n.compute_type, "ready": n.ready, "zone": n.zone or None} for n in snap.nodes],
        "coredns": {
            "addon_status": coredns.status if coredns else None,
            "addon_version": coredns.version if coredns else None,
            "compute_type": (coredns.compute_type or "EC2") if coredns else None,  # EKS default: EC2
            "pods": [{"name": p.name, "node": p.node or None, "compute_type": p.compute_type or None, "ready": p.ready} for p in snap.coredns_pods()],
        },
        "load_balancers": [{"name": lb.name, "dns_name": lb.dns_name, "state": lb.state, "scheme": lb.scheme} for lb in snap.load_balancers],
        "target_groups": [
            {"name": tg.name, "arn": tg.arn, "load_balancer": tg.lb_name or None, "target_type": tg.target_type,
             "targets": [{"id": t.id, "port": t.port, "state": t.state, "reason": t.reason or None, "pod": t.pod} for t in tg.targets]}
            for tg in snap.target_groups
        ],
        "ingresses": [{"namespace": i.namespace, "name": i.name, "hostname": i.hostname or None, "class": i.class_name or None,
                       "target_type": i.target_type} for i in snap.ingresses],
        "pods": pods,
        "cost": {
            "fargate_hourly_usd": _round(hourly_total) if rates is not None else None,
            "fargate_monthly_usd": _round(hourly_total * HOURS_PER_MONTH, 2) if rates is not None else None,
            "complete": rates is not None and priced_all,
            "rates": {"region": rates.region, "vcpu_hour": rates.vcpu_hour, "gb_hour": rates.gb_hour} if rates else None,
            **business_case_document(assessment),
        },
        "findings": findings,
        "findings_summary": assessment.count(),
        "findings_by_category": {c: sum(f.category == c for f in assessment.findings) for c in ("broken", "blocker", "advice")},
        "not_evaluated": sorted({source for n in assessment.not_evaluated for source in n.sources}),
        "sources": {
            name: {"ok": s.ok, "error": s.error or None, "stale_since": _iso(s.stale_since), "last_success": _iso(s.last_success)}
            for name, s in sorted(snap.sources.items())
        },
        "notes": list(assessment.notes),
    }


# -- text -----------------------------------------------------------------------------------------
def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def _money(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"${value:,.{digits}f}"


def render_status(doc: Mapping[str, Any]) -> str:
    """A readable summary of build_status()'s document (what `status` prints without --json)."""
    c = doc["cluster"]
    lines = [f"Cluster {c['name']} ({c['region']}): {c['status'] or 'unknown'}, Kubernetes {c['version'] or '?'}"]
    if doc.get("connection"):
        conn = doc["connection"]
        lines.append(f"  API {conn['server']} via {conn['context']} ({conn['auth']} auth{', read-only' if conn['read_only'] else ''})")
        if conn.get("mismatch"):
            lines.append(f"  WRONG CLUSTER: {conn['mismatch']}")

    def unread(source: str) -> str:
        # A source that could not be read is "not read", never an empty list (errors.py).
        state = doc.get("sources", {}).get(source) or {}
        return "" if state.get("ok", True) else "not read (see Problems reading the cluster below)"

    lines.append("")
    if unread("fargate_profiles"):
        lines.append(f"Fargate profiles: {unread('fargate_profiles')}")
    else:
        lines.append(f"Fargate profiles ({len(doc['fargate_profiles'])})")
    lines += [] if unread("fargate_profiles") else _table([["NAME", "STATUS", "SELECTORS", "SUBNETS"]] + [
        [p["name"], p["status"],
         "; ".join(s["namespace"] + ("{" + ",".join(f"{k}={v}" for k, v in s["labels"].items()) + "}" if s["labels"] else "") for s in p["selectors"]),
         ",".join(p["subnets"])]
        for p in doc["fargate_profiles"]
    ]) if doc["fargate_profiles"] else ["  none"]

    nodes = doc["nodes"]
    fargate_nodes = sum(n["compute_type"] == "fargate" for n in nodes)
    not_ready = [n["name"] for n in nodes if not n["ready"]]
    lines.append("")
    if unread("nodes"):
        lines.append(f"Nodes: {unread('nodes')}")
    else:
        lines.append(f"Nodes: {len(nodes)} ({fargate_nodes} Fargate, {len(nodes) - fargate_nodes} EC2)"
                     + (f"; not ready: {', '.join(not_ready)}" if not_ready else ""))

    dns = doc["coredns"]
    lines.append("")
    placed = ", ".join(f"{p['name']} on {p['compute_type'] or 'no node'}{'' if p['ready'] else ' (not ready)'}" for p in dns["pods"]) or "no pods"
    lines.append(f"CoreDNS: add-on {dns['addon_status'] or 'not installed'}, computeType {dns['compute_type'] or '-'}; {placed}")

    if doc["target_groups"]:
        lines.append("")
        lines.append("Target groups")
        for tg in doc["target_groups"]:
            states: dict[str, int] = {}
            for t in tg["targets"]:
                states[t["state"]] = states.get(t["state"], 0) + 1
            summary = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no targets"
            lines.append(f"  {tg['name']} ({tg['target_type']}): {summary}")

    pods = doc["pods"]
    on_fargate = [p for p in pods if p["compute_type"] == "fargate"]
    lines.append("")
    lines.append(f"Pods: {len(pods)} ({len(on_fargate)} on Fargate)")
    starts = sorted(p["startup_seconds"] for p in pods if p["startup_seconds"] is not None)
    if starts:
        lines.append(f"  start to Ready: median {starts[len(starts) // 2]:.0f} s, slowest {starts[-1]:.0f} s")
    unhealthy = [p for p in pods if not p["ready"] and p["phase"] not in ("Succeeded",)]
    if unhealthy:
        lines += _table([["NAMESPACE", "POD", "STATUS", "NODE"]] + [[p["namespace"], p["name"], p["status"], p["node"] or "-"] for p in unhealthy[:15]], "  ")
        if len(unhealthy) > 15:
            lines.append(f"  ... and {len(unhealthy) - 15} more not ready")

    cost = doc["cost"]
    lines.append("")
    lines.append(f"Fargate cost: {_money(cost['fargate_hourly_usd'])}/hour, {_money(cost['fargate_monthly_usd'], 2)}/month"
                 + ("" if cost["complete"] else " (incomplete)"))

    if cost.get("savings_percent") is not None or cost.get("ec2_monthly_usd") is not None:
        lines.append(f"Monthly (730 h): now EC2 {_money(cost['ec2_monthly_usd'], 2)} + Fargate {_money(cost['fargate_monthly_usd'], 2)}; "
                     f"after migration Fargate {_money(cost['fargate_projected_monthly_usd'], 2)} + EC2 kept "
                     f"{_money(cost['ec2_remaining_monthly_usd'], 2)}; savings "
                     + ("-" if cost["savings_percent"] is None else f"{cost['savings_percent']:.1f} %"))
        sized = (cost.get("business_case") or {}).get("rightsizing") or {}
        if sized.get("evaluated"):
            lines.append(f"Right-sized (p95 + {sized['headroom_percent']:g} % over {sized['scrapes']} scrapes): "
                         f"Fargate {_money(cost['fargate_rightsized_monthly_usd'], 2)}, after "
                         f"{_money(cost['after_rightsized_monthly_usd'], 2)}; savings "
                         + ("-" if cost["savings_rightsized_percent"] is None else f"{cost['savings_rightsized_percent']:.1f} %"))
        elif sized:
            lines.append(f"Right-sizing {sized['reason']}")

    findings = doc["findings"]
    summary = doc["findings_summary"]
    lines.append("")
    lines.append(f"Findings: {summary['error']} error, {summary['warning']} warning, {summary['info']} info")
    for f in findings[:20]:
        lines.append(f"  {f['severity'].upper():7} {f['code']}  {f['object']}: {f['title']}")
    if len(findings) > 20:
        lines.append(f"  ... {len(findings) - 20} more (use --json for all)")
    if doc["not_evaluated"]:
        lines.append(f"  not evaluated (data missing): {', '.join(doc['not_evaluated'])}")

    failing = {n: s for n, s in doc["sources"].items() if not s["ok"]}
    if failing:
        lines.append("")
        lines.append("Problems reading the cluster")
        for name, s in failing.items():
            lines.append(f"  {name}: {s['error']}")
    for note in doc["notes"]:
        lines.append(f"Note: {note}")
    return "\n".join(lines) + "\n"


__all__ = ["build_status", "finding_document", "render_status"]
