"""The business case of the migrated sandbox, checked against kubectl and the aws CLI (oracle.py)."""

from __future__ import annotations

import pytest

from .checks import check

pytestmark = pytest.mark.scenario("migrated")


@pytest.fixture(autouse=True)
def _no_stray_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_status_cost_matches_an_independent_reading(sandbox, sandbox_env):
    doc = check(sandbox_env, sandbox.info.cluster_name)
    cost = doc["cost"]
    # Everything that can move already runs on Fargate: its projection is what it is billed now.
    assert cost["fargate_projected_monthly_usd"] == cost["fargate_monthly_usd"] > 0
    assert sorted(cost["business_case"]["stays_on_ec2"]) == ["legacy/iagent-vectordb-0", "legacy/netdebug"]
    assert cost["savings_percent"] > 0
