"""The business case of the pre-migration sandbox, checked against kubectl and the aws CLI (oracle.py)."""

from __future__ import annotations

import pytest

from . import oracle
from .checks import check

pytestmark = pytest.mark.scenario("pre-migration")


@pytest.fixture(autouse=True)
def _no_stray_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an iagent.yaml in the caller's directory must not steer the test


def test_status_cost_matches_an_independent_reading(sandbox, sandbox_env):
    doc = check(sandbox_env, sandbox.info.cluster_name)
    cost = doc["cost"]
    # Everything runs on the two t3.large nodes now; nothing is billed on Fargate yet.
    assert cost["ec2_monthly_usd"] == round(2 * oracle.EC2["t3.large"][0] * 730, 2) and cost["fargate_monthly_usd"] == 0
    assert sorted(cost["business_case"]["stays_on_ec2"]) == ["prod/iagent-vectordb-0", "prod/netdebug"]
    assert cost["by_namespace"]["(unallocated)"]["ec2_monthly_usd"] > 0
