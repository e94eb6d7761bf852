"""The dashboard's usage record (rightsizing.record_file) and `report --usage-from`: what the
monitor sampled is saved when it stops and right-sizes a later report; a file that is not such
a record, or both usage options at once, is one line and exit 2, before the cluster is read."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner

from iagent_tui.commands.report import report_command
from iagent_tui.config import Settings
from iagent_tui.services.connection import AwsTarget, from_kubeconfig
from iagent_tui.services.monitor import ClusterMonitor

pytestmark = pytest.mark.scenario("pre-migration")


@pytest.fixture(autouse=True)
def _no_stray_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


async def sample_with_the_monitor(sandbox, kubeconfig, record) -> None:
    info = sandbox.info
    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig),
                        rightsizing={"record_file": str(record), "sample_seconds": 0.02})
    connection = await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))
    async with ClusterMonitor(connection, settings) as monitor:
        await monitor.wait_for(lambda s: s.usage is not None and s.usage.scrapes >= 5, timeout=30)


def test_report_right_sizes_from_what_the_dashboard_saved(sandbox, sandbox_files, sandbox_env, tmp_path):
    record = tmp_path / "state" / "usage.json"
    asyncio.run(sample_with_the_monitor(sandbox, sandbox_files[0], record))
    saved = json.loads(record.read_text())
    assert saved["kind"] == "iagent-tui/usage-record/v1" and saved["samples"]

    result = CliRunner().invoke(report_command, ["--out", str(tmp_path / "r"), "--usage-from", str(record)],
                                env=sandbox_env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "r" / "iagent-report.json").read_text())
    sized = doc["business_case"]["rightsizing"]
    assert sized["evaluated"] and sized["source"] == f"saved by the dashboard in {record}"
    assert sized["scrapes"] >= 5 and doc["cost"]["fargate_rightsized_monthly_usd"] is not None
    recorded = {(w, c) for w, c, *_ in saved["samples"]}
    assert {(w["workload"], c["name"]) for w in sized["workloads"] for c in w["containers"] if c["samples"]} <= recorded


@pytest.mark.parametrize("content, says", [("not json", "is not JSON"), ('{"kind": "other"}', "not a usage record"),
                                           ('{"kind": "iagent-tui/usage-record/v1", "samples": [[1]]}', "malformed")])
def test_a_bad_usage_record_is_one_line_and_exit_2(sandbox_env, tmp_path, content, says):
    bad = tmp_path / "usage.json"
    bad.write_text(content)
    result = CliRunner().invoke(report_command, ["--out", str(tmp_path / "r"), "--usage-from", str(bad)],
                                env=sandbox_env)
    assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "r").exists()


def test_both_usage_options_are_refused(sandbox_env, tmp_path):
    record = tmp_path / "usage.json"
    record.write_text('{"kind": "iagent-tui/usage-record/v1", "samples": []}')
    result = CliRunner().invoke(report_command, ["--usage-window", "1m", "--usage-from", str(record)], env=sandbox_env)
    assert result.exit_code == 2 and "not both" in result.output
