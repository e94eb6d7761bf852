"""Right-sizing checked against usage the test samples itself with kubectl (oracle.rightsizing).

The product (`iagent-tui report --usage-window`, a separate process, as an operator runs it) and
this test read metrics.k8s.io over the same minutes; the test keeps every scrape it saw and
recomputes, by its own rules, the p95 per workload container over the product's window, the
recommendation, the Fargate size and the saving. The sandbox runs slowly here (a 15 s scrape lasts
3 s of wall time) so both readers see every scrape even on a loaded machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import oracle

SPEED = 5.0
WINDOW = "2m"


@pytest.fixture(scope="module")
def slow_sandbox(request):
    from tests.conftest import _start_sandbox
    marker = request.node.get_closest_marker("scenario")
    sb = _start_sandbox(marker.args[0] if marker else "pre-migration", speed=SPEED)
    try:
        yield sb
    finally:
        sb.stop()


def sample_while(env: dict, process: subprocess.Popen) -> dict:
    """Every PodMetrics scrape kubectl reads until the product's process exits."""
    samples: dict = {}
    while process.poll() is None:
        doc = oracle.kubectl_raw(env, "/apis/metrics.k8s.io/v1beta1/pods")
        for item in doc["items"]:
            meta = item["metadata"]
            for c in item["containers"]:
                samples[(meta["namespace"], meta["name"], c["name"], item["timestamp"])] = (
                    oracle.cpu(c["usage"]["cpu"]), oracle.mem(c["usage"]["memory"]))
        time.sleep(0.2)
    return samples


def run_report_sampling(env: dict, out: Path) -> tuple[dict, dict]:
    # As an operator would with the env-file sandbox: read about three times per scrape.
    env = {**env, "IAGENT_RIGHTSIZING__SAMPLE_SECONDS": str(15 / SPEED / 3)}
    process = subprocess.Popen([sys.executable, "-m", "iagent_tui", "report", "--out", str(out),
                                "--usage-window", WINDOW], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=out.parent)
    try:
        samples = sample_while(env, process)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "sampling usage" in stderr and "Traceback" not in stderr
    return json.loads((out / "iagent-report.json").read_text()), samples


def check_rightsizing(env: dict, tmp_path: Path) -> dict:
    out = tmp_path / "report"
    out.mkdir()
    doc, samples = run_report_sampling(env, out)
    sized = doc["business_case"]["rightsizing"]
    assert sized["evaluated"] is True and sized["headroom_percent"] == 20
    assert sized["window_seconds"] == 120 and sized["scrapes"] >= 8
    expected = oracle.rightsizing(env, samples, sized["first_sample"], sized["last_sample"])
    got = {w["workload"]: w for w in sized["workloads"]}
    assert set(got) == set(expected)
    total_saving = 0.0
    for workload, want in expected.items():
        w = got[workload]
        assert w["pods"] == want["pods"], workload
        assert w["current_size"] == "%gvCPU %gGB" % want["current"], workload
        assert w["rightsized_size"] == "%gvCPU %gGB" % want["rightsized"], workload
        for c in w["containers"]:
            mine = want["containers"].get(c["name"])
            assert mine is not None, (workload, c["name"], "the test saw no samples")
            # The same scrapes: kubectl saw every one the product counted.
            assert c["samples"] == mine["samples"], (workload, c["name"])
            # Never below observed p95 + headroom, in the request and in the Fargate size it lands on.
            assert c["recommended_cpu_millicores"] >= mine["p95_cpu_m"] * (1 + oracle.HEADROOM) - 1e-6
            assert c["recommended_memory_bytes"] >= mine["p95_mem_mib"] * 2**20 * (1 + oracle.HEADROOM) - 1
            assert (c["recommended_cpu_millicores"], c["recommended_memory_bytes"]) == (
                mine["cpu_m"], mine["mem_mib"] * 2**20), (workload, c["name"])
        vcpu, gb = want["rightsized"]
        need_cpu = sum(m["cpu_m"] for m in want["containers"].values())
        need_mem = sum(m["mem_mib"] for m in want["containers"].values()) + 256
        assert vcpu * 1000 >= need_cpu and gb * 1024 >= need_mem, workload
        assert w["monthly_saving_usd"] == pytest.approx(want["saving"], abs=0.011), workload
        total_saving += want["saving"]
    cost = doc["cost"]
    assert sized["monthly_saving_usd"] == pytest.approx(total_saving, abs=0.02)
    assert cost["fargate_rightsized_monthly_usd"] == pytest.approx(
        cost["fargate_projected_monthly_usd"] - total_saving, abs=0.02)
    assert cost["after_rightsized_monthly_usd"] == pytest.approx(
        cost["fargate_rightsized_monthly_usd"] + cost["ec2_remaining_monthly_usd"], abs=0.011)
    for ns, figures in cost["by_namespace"].items():
        ns_saving = sum(v["saving"] for k, v in expected.items() if k.split("/")[1] == ns)
        assert figures["fargate_rightsized_monthly_usd"] == pytest.approx(
            figures["fargate_projected_monthly_usd"] - ns_saving, abs=0.02), ns
    assert any(w["verdict"] == "smaller" for w in got.values())  # the sandbox's usage leaves room to save
    return doc
