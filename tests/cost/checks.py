"""`status --json`'s cost figures against the oracle, for whichever scenario the module runs."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from iagent_tui.commands.status import status_command

from . import oracle


def status_doc(env: dict) -> dict:
    result = CliRunner().invoke(status_command, ["--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def monthly(hourly: float) -> float:
    return round(hourly * oracle.HOURS, 2)


def check(env: dict, cluster: str) -> dict:
    doc = status_doc(env)
    expected = oracle.business_case(env, cluster)
    cost, case = doc["cost"], doc["cost"]["business_case"]
    assert case["hours_per_month"] == oracle.HOURS and case["discount_percent"] == 0
    assert sorted(case["stays_on_ec2"]) == expected["staying"]
    assert sorted(d.split("/", 1)[1] for d in case["daemonsets"]) == expected["daemonsets"]
    fit = case["remaining_node_group"]
    assert fit["instance_type"] == expected["remaining_type"] and fit["count"] == 1

    totals = {"ec2": 0.0, "fargate_now": 0.0, "fargate_after": 0.0, "remaining": 0.0}
    assert set(cost["by_namespace"]) == set(expected["namespaces"])
    for namespace, want in expected["namespaces"].items():
        got = cost["by_namespace"][namespace]
        for key, field in (("ec2", "ec2_monthly_usd"), ("fargate_now", "fargate_monthly_usd"),
                           ("fargate_after", "fargate_projected_monthly_usd"), ("remaining", "ec2_remaining_monthly_usd")):
            assert got[field] == pytest.approx(monthly(want.get(key, 0.0)), abs=0.011), (namespace, field)
            totals[key] += want.get(key, 0.0)
        before = want.get("ec2", 0) + want.get("fargate_now", 0)
        after = want.get("fargate_after", 0) + want.get("remaining", 0)
        if before:
            assert got["savings_percent"] == pytest.approx((before - after) / before * 100, abs=0.06)
    assert cost["ec2_monthly_usd"] == pytest.approx(monthly(totals["ec2"]), abs=0.011)
    assert cost["fargate_monthly_usd"] == pytest.approx(monthly(totals["fargate_now"]), abs=0.011)
    assert cost["fargate_projected_monthly_usd"] == pytest.approx(monthly(totals["fargate_after"]), abs=0.011)
    assert cost["ec2_remaining_monthly_usd"] == pytest.approx(monthly(totals["remaining"]), abs=0.011)
    assert cost["fargate_rightsized_monthly_usd"] is None
    assert any("right-sizing" in n for n in case["notes"])
    before = totals["ec2"] + totals["fargate_now"]
    after = totals["fargate_after"] + totals["remaining"]
    assert cost["savings_percent"] == pytest.approx((before - after) / before * 100, abs=0.06)
    assert any("730 hours" in a for a in case["assumptions"])
    return doc
