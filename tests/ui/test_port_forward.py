"""Port-forwards (F on a pod or an ALB target, f lists them): the kubectl command built with the
dashboard's kubeconfig and context, the background process's lifecycle (started, listed, stopped
by d, every one stopped when the dashboard quits), the dialog's checks, and the command shown
when kubectl is not on PATH.

The lifecycle tests run a small stand-in for kubectl that prints what kubectl prints and waits, so
they are fast and independent of a server; real kubectl against the sandbox is run too: a refused
forward ends with kubectl's own message, and a forward to a pod or Service carries HTTP to the
pod's server."""

from __future__ import annotations

import os
import stat

import pytest

from iagent_tui.app import IagentApp, StaticSource
from iagent_tui.port_forward import PortForward, PortForwards, check_port
from screens.port_forward import ForwardsScreen, PortForwardDialog

from .fixtures import mid_migration
from .helpers import until
from .test_oncall_keys import POD, select_pod, started

SIZE = (160, 48)

STAND_IN = """#!/bin/sh
# prints what kubectl port-forward prints once listening, then waits to be stopped
echo "$@" > "{args}"
echo "Forwarding from 127.0.0.1:${{LOCAL:-0}} -> 80"
trap 'echo stopped > "{args}.stopped"; exit 0' TERM
while :; do sleep 1; done
"""


@pytest.fixture
def stand_in(tmp_path):
    script = tmp_path / "kubectl"
    script.write_text(STAND_IN.format(args=tmp_path / "args"))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_command_uses_the_dashboards_kubeconfig_and_context_and_loopback():
    assert PortForward("/k/config", "eks:prod").command("pod", "prod", "web-1", 8080, 80) == [
        "kubectl", "--kubeconfig=/k/config", "--context=eks:prod", "port-forward", "--address", "127.0.0.1",
        "-n", "prod", "pod/web-1", "8080:80"]
    assert PortForward().command("service", "default", "api", 9000, "http")[-2:] == ["service/api", "9000:http"]
    with pytest.raises(ValueError, match="cannot forward to a node"):
        PortForward().command("node", "", "n", 1, 2)
    assert check_port(" 8080 ") == 8080
    for bad, said in (("0", "from 1 to 65535, not 0"), ("http", "must be a number"), ("70000", "not 70000")):
        with pytest.raises(ValueError, match=said):
            check_port(bad)


async def test_a_forward_runs_until_stopped_and_a_port_is_not_taken_twice(stand_in):
    forwards = PortForwards(PortForward(context="ctx"), kubectl=str(stand_in))
    forward = await forwards.start("pod", "prod", "web-1", 18080, 80)
    assert forward is not None and forward.running
    await _wait(lambda: forward.state == "forwarding 127.0.0.1:18080")
    args = (stand_in.parent / "args").read_text().split()
    assert args == ["--context=ctx", "port-forward", "--address", "127.0.0.1", "-n", "prod", "pod/web-1", "18080:80"]
    with pytest.raises(ValueError, match="18080 already forwards to pod/prod/web-1"):
        await forwards.start("pod", "prod", "web-2", 18080, 80)
    pid = forward.process.pid
    await forwards.stop_all()
    assert not alive(pid) and forwards.forwards == [] and forward.state == "stopped"
    assert (stand_in.parent / "args.stopped").exists()  # it got SIGTERM, not a kill


async def test_kubectl_refused_by_the_server_ends_the_forward_with_its_message(sandbox, sandbox_files):
    kubeconfig, _ = sandbox_files
    import shutil
    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is not on PATH: this test runs the real kubectl against the sandbox")
    forwards = PortForwards(PortForward(str(kubeconfig), "iagent-sandbox"))
    forward = await forwards.start("pod", "default", "no-such-pod", 18081, 80)
    assert forward is not None
    await _wait(lambda: not forward.running and forward.state.startswith("ended"), timeout=30)
    assert "no-such-pod" in forward.state and "exit 1" in forward.state
    await forwards.stop_all()


async def _wait(predicate, timeout: float = 10.0) -> None:
    import asyncio
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_F_asks_for_ports_f_lists_d_stops_and_quit_stops_the_rest(stand_in):
    app = IagentApp(StaticSource(mid_migration()), port_forwards=PortForwards(kubectl=str(stand_in)))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await select_pod(pilot, app)
        await pilot.press("F")
        dialog = await until(pilot, lambda: isinstance(app.screen, PortForwardDialog) and app.screen, what="dialog")
        assert dialog.target == f"pod/{POD}"
        local = dialog.query_one("#port-forward-local")
        local.value = "nope"
        await pilot.press("enter")
        await until(pilot, lambda: "must be a number" in dialog.error_message, what="the port refused")
        local.value = "18090"
        dialog.query_one("#port-forward-remote").value = "8080"
        await pilot.press("enter")
        forward = await until(pilot, lambda: app.port_forwards.forwards and app.port_forwards.forwards[0],
                              what="a forward running")
        assert forward.command[-2:] == [f"pod/{POD.split('/')[1]}", "18090:8080"]
        await until(pilot, lambda: forward.state.startswith("forwarding"), what="kubectl listening")
        await pilot.press("f")
        listing = await until(pilot, lambda: isinstance(app.screen, ForwardsScreen) and app.screen, what="list")
        table = listing.query_one("#forwards-table")
        await until(pilot, lambda: table.row_count == 1 and str(table.get_row_at(0)[2]).startswith("forwarding"),
                    what="the forward listed")
        pid = forward.process.pid
        await pilot.press("d")
        await until(pilot, lambda: table.row_count == 0 and not alive(pid), what="the forward stopped")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard, what="dashboard")
        second = await app.port_forwards.start("pod", "prod", "web", 18091, 80)
        assert second is not None
        last_pid = second.process.pid
    assert not alive(last_pid)  # quitting the dashboard stopped it


async def test_without_kubectl_F_shows_the_command(monkeypatch):
    monkeypatch.setenv("PATH", "")
    app = IagentApp(StaticSource(mid_migration()), port_forwards=PortForwards(PortForward("/tmp/kc", "c")))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await select_pod(pilot, app)
        await pilot.press("F")
        dialog = await until(pilot, lambda: isinstance(app.screen, PortForwardDialog) and app.screen, what="dialog")
        dialog.query_one("#port-forward-local").value = "18092"
        dialog.query_one("#port-forward-remote").value = "80"
        await pilot.press("enter")
        await until(pilot, lambda: any("kubectl --kubeconfig=/tmp/kc --context=c port-forward" in str(n.message)
                                       for n in app._notifications), what="the command shown")
        assert app.port_forwards.forwards == []


async def test_F_on_an_alb_target_forwards_the_service_its_binding_names(stand_in):
    from iagent_tui.model import TargetGroupBinding

    from .fixtures import evolve

    snap = mid_migration()
    arn = snap.target_groups[0].arn
    binding = TargetGroupBinding("default", "k8s-default-api", arn, "ip", "api", "http")
    app = IagentApp(StaticSource(evolve(snap, tgbs=(binding,))), port_forwards=PortForwards(kubectl=str(stand_in)))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        app.action_focus_panel("targets")
        await pilot.press("F")
        dialog = await until(pilot, lambda: isinstance(app.screen, PortForwardDialog) and app.screen, what="dialog")
        assert dialog.target == "service/default/api"
        assert dialog.query_one("#port-forward-remote").value == "http"  # a named port goes to kubectl as is
        dialog.query_one("#port-forward-local").value = "18093"
        await pilot.press("enter")
        forward = await until(pilot, lambda: app.port_forwards.forwards and app.port_forwards.forwards[0],
                              what="the forward")
        assert forward.command[-2:] == ["service/api", "18093:http"]


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_forward_through_real_kubectl_reaches_the_pods_http_server(sandbox, sandbox_files, web_pod):
    """End to end: the dashboard's forward runs real kubectl against the sandbox (which serves
    port-forward), and HTTP through the local port reaches the pod's server, for a pod and for the
    Service in front of it."""
    import asyncio
    import json
    import shutil
    import urllib.request

    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is not on PATH: this test runs the real kubectl against the sandbox")
    kubeconfig, _ = sandbox_files
    pod = web_pod
    forwards = PortForwards(PortForward(str(kubeconfig), "iagent-sandbox"))
    try:
        for kind, name, remote in (("pod", pod, 8080), ("service", "iagent-web", 80)):
            port = _free_port()
            forward = await forwards.start(kind, "default", name, port, remote)
            assert forward is not None
            await _wait(lambda: forward.state == f"forwarding 127.0.0.1:{port}", timeout=30)
            body = await asyncio.to_thread(
                lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read())
            answer = json.loads(body)
            assert answer["service"] == "iagent-web" and answer["status"] == "ok"
            if kind == "pod":
                assert answer["pod"] == pod
            await forwards.stop(forward)
            assert not forward.running
    finally:
        await forwards.stop_all()
