"""One assessment, three views: for each sandbox scenario, `status --json`, `doctor --json` and the
dashboard's findings panel show the same findings — same codes, objects and severities.

Each view reads the cluster on its own (two headless commands, one dashboard over a ClusterMonitor),
so the comparison is taken once the sandbox holds still: two rounds in a row that agree."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from click.testing import CliRunner

from iagent_tui.app import IagentApp, build_app
from iagent_tui.commands.doctor import doctor_command
from iagent_tui.commands.status import status_command
from iagent_tui.config import Settings
from iagent_tui.services.connection import AwsTarget, from_kubeconfig
from iagent_tui.services.monitor import ClusterMonitor
from screens.keyed_table import KeyedTable

from .conftest import TEST_SPEED
from .ui.helpers import until

SCENARIOS = ("pre-migration", "migrated", "broken")
Seen = frozenset[tuple[str, str, str]]


@pytest.fixture(scope="module", params=SCENARIOS)
def scenario_sandbox(request, tmp_path_factory):
    from iagent_sandbox.runtime import SandboxThread, write_connection_files
    sandbox = SandboxThread(speed=TEST_SPEED, seed=1, scenario=request.param)
    info = sandbox.start()
    try:
        d = tmp_path_factory.mktemp(request.param)
        write_connection_files(info, d / "kubeconfig", d / "env")
        yield sandbox, d / "kubeconfig"
    finally:
        sandbox.stop()


def _headless(command, kubeconfig, info) -> Seen:
    env = {**info.env(kubeconfig), "IAGENT_CONFIG": ""}
    result = CliRunner().invoke(command, ["--json"], env=env, catch_exceptions=False)
    assert "Traceback" not in result.output
    doc = json.loads(result.stdout)
    return frozenset((f["code"], f["object"], f["severity"]) for f in doc["findings"])


def _panel(app: IagentApp) -> Seen:
    table = app.dashboard.query_one("#table-findings", KeyedTable)
    seen = set()
    for key in table.row_keys:
        code, _, obj = key.partition("|")
        seen.add((code, obj, str(table.get_cell(key, "severity"))))
    return frozenset(seen)


async def test_status_doctor_and_dashboard_show_the_same_findings(scenario_sandbox):
    sandbox, kubeconfig = scenario_sandbox
    info = sandbox.info
    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig))
    connection = await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))
    # a full AWS round every second, after the headless commands' reads: more than the default
    # call budget pays for
    polled = settings.model_copy(update={"aws_calls_per_minute": 6000})
    monitor = ClusterMonitor(connection, polled, fast_interval=0.2, slow_interval=1.0)
    app = build_app(settings, connection, source=monitor)
    async with app.run_test(size=(200, 60)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.snapshot.cluster is not None
                    and app.assessment.findings, timeout=30, what="findings on the dashboard")
        deadline = time.monotonic() + 90
        rounds = []
        while time.monotonic() < deadline:
            version = app.snapshot.version
            status = await asyncio.to_thread(_headless, status_command, kubeconfig, info)
            doctor = await asyncio.to_thread(_headless, doctor_command, kubeconfig, info)
            # a snapshot read after the headless commands' own reads, rendered
            await until(pilot, lambda: app.snapshot.version > version + 1, timeout=20, what="a newer snapshot")
            await pilot.pause()
            panel = _panel(app)
            rounds.append((status, doctor, panel))
            if len(rounds) >= 2 and rounds[-1] == rounds[-2] and status == doctor == panel:
                break
        status, doctor, panel = rounds[-1]
        assert status == doctor, f"status only: {sorted(status - doctor)}; doctor only: {sorted(doctor - status)}"
        assert panel == status, f"panel only: {sorted(panel - status)}; status only: {sorted(status - panel)}"
        assert status, "every scenario has findings (blockers planted in each)"
