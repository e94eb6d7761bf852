"""Usage sampling where metrics.k8s.io is not served: right-sizing says "not evaluated" and why,
and its figures stay null, never zero (headless and in the dashboard's monitor)."""

from __future__ import annotations

from dataclasses import replace

from iagent_tui.commands.status import sample_usage
from iagent_tui.config import Settings
from iagent_tui.insights.assessment import assess
from iagent_tui.report import build_status
from iagent_tui.services.monitor import ClusterMonitor

from .conftest import CLUSTER, REGION, make_connection, seed_aws, seed_kube


async def test_no_metrics_api_means_not_evaluated_and_null(moto, kube_server):
    seed_aws(moto)
    seed_kube(kube_server.store)
    conn = make_connection(kube_server.url, kube_server.ca_pem, moto)
    settings = Settings(cluster=CLUSTER, region=REGION)
    usage = await sample_usage(settings, conn, 60)
    assert "metrics.k8s.io is not served" in usage.not_evaluated and not usage.stats
    snap = replace(await ClusterMonitor(conn, settings).one_shot(), usage=usage)
    cost = build_status(snap, settings, assess(snap, settings))["cost"]
    assert cost["fargate_projected_monthly_usd"] > 0
    assert cost["fargate_rightsized_monthly_usd"] is None and cost["savings_rightsized_percent"] is None
    assert all(n["fargate_rightsized_monthly_usd"] is None for n in cost["by_namespace"].values())
    sized = cost["business_case"]["rightsizing"]
    assert sized == {"evaluated": False, "reason": "not evaluated: " + usage.not_evaluated}


async def test_dashboard_monitor_says_why_it_has_no_usage(moto, kube_server):
    seed_aws(moto)
    seed_kube(kube_server.store)
    conn = make_connection(kube_server.url, kube_server.ca_pem, moto)
    async with ClusterMonitor(conn, Settings(cluster=CLUSTER, region=REGION), slow_interval=30.0) as monitor:
        snap = await monitor.wait_for(lambda s: s.cluster is not None and s.usage is not None and s.usage.not_evaluated,
                                         timeout=30)
    case = assess(snap).business_case
    assert case.fargate_rightsized_hourly is None and "metrics.k8s.io is not served" in case.rightsizing_note
