"""Right-sizing of the migrated sandbox (sizes from CapacityProvisioned) against the test's own
kubectl samples."""

from __future__ import annotations

import pytest

from .rightsizing_check import check_rightsizing, slow_sandbox  # noqa: F401 - the module's sandbox

pytestmark = pytest.mark.scenario("migrated")


@pytest.fixture(scope="module")
def sandbox(slow_sandbox):  # noqa: F811
    return slow_sandbox


def test_rightsizing_never_below_observed_p95_plus_headroom(sandbox_env, tmp_path):
    doc = check_rightsizing(sandbox_env, tmp_path)
    assert doc["cost"]["fargate_monthly_usd"] > 0  # billed from CapacityProvisioned now
