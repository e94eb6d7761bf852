"""The connecting screen: at launch, progress per source instead of a blank screen; with the API
server down (a closed port) the sentence saying so with r (retry) and q (quit, exit 1, the sentence
printed); with the sandbox up, straight on to the dashboard. Through the real monitor over HTTP."""

from __future__ import annotations

import yaml

from iagent_tui.app import build_app
from iagent_tui.config import Settings
from iagent_tui.services.connection import AwsTarget, from_kubeconfig
from iagent_tui.services.monitor import ClusterMonitor
from screens.connecting import ConnectingScreen

from .helpers import until
from .test_context_switch import closed_port

SIZE = (80, 24)
FAST = dict(fast_interval=0.2, slow_interval=1.0, watch_max_backoff=1.0)


async def dashboard_for(sandbox, kubeconfig, server: str | None = None):
    info = sandbox.info
    if server is not None:
        config = yaml.safe_load(kubeconfig.read_text())
        config["clusters"][0]["cluster"]["server"] = server
        kubeconfig = kubeconfig.parent / "down-kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(config))
    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig))
    connection = await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))
    return build_app(settings, connection, source=ClusterMonitor(connection, settings, **FAST))


def progress_text(screen: ConnectingScreen) -> str:
    return str(screen.query_one("#connecting-sources").render())


async def test_a_closed_port_is_said_in_a_sentence_retried_and_quit_with_exit_1(sandbox, sandbox_files):
    kubeconfig, _ = sandbox_files
    port = closed_port()
    app = await dashboard_for(sandbox, kubeconfig, f"https://127.0.0.1:{port}")
    async with app.run_test(size=SIZE) as pilot:
        screen = await until(pilot, lambda: isinstance(app.screen, ConnectingScreen) and app.screen,
                             what="the connecting screen from the start")
        assert "Kubernetes API" in progress_text(screen) and "EKS" in progress_text(screen)
        await until(pilot, lambda: screen.problem, timeout=30, what="the sentence")
        assert f"https://127.0.0.1:{port}" in screen.problem and "r tries again" in screen.problem
        assert "Error" not in screen.problem.split(".")[0]  # a sentence, not an exception name
        assert app.dashboard.query_one("#table-pods").row_count == 0
        failed_version = app.snapshot.version

        await pilot.press("r")
        await until(pilot, lambda: screen.attempts == 2, what="the retry under way")
        await until(pilot, lambda: screen.problem and app.snapshot.version > failed_version, timeout=30,
                    what="the retry's own answer")
        await pilot.press("q")
    assert app.return_code == 1


async def test_with_the_sandbox_up_it_goes_on_to_the_dashboard(sandbox, sandbox_files):
    kubeconfig, _ = sandbox_files
    app = await dashboard_for(sandbox, kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen is app.dashboard, timeout=30, what="the dashboard")
        await until(pilot, lambda: app.dashboard.query_one("#table-pods").row_count > 0, what="pods")
