"""Right-sizing of the pre-migration sandbox against the test's own kubectl samples."""

from __future__ import annotations

import pytest

from .rightsizing_check import check_rightsizing, slow_sandbox  # noqa: F401 - the module's sandbox

pytestmark = pytest.mark.scenario("pre-migration")


@pytest.fixture(scope="module")
def sandbox(slow_sandbox):  # noqa: F811 - this module's sandbox runs slowly (see rightsizing_check)
    return slow_sandbox


def test_rightsizing_never_below_observed_p95_plus_headroom(sandbox_env, tmp_path):
    doc = check_rightsizing(sandbox_env, tmp_path)
    # Before the move everything is projected from requests; the indexer's 4 GiB is mostly idle.
    indexer = next(w for w in doc["business_case"]["rightsizing"]["workloads"]
                   if w["workload"] == "Deployment/prod/iagent-indexer")
    assert indexer["current_size"] == "1vCPU 5GB" and indexer["verdict"] == "smaller"
