"""The context switcher, the port-forward dialog and the list of forwards at 80x24, 120x40 and
200x50, on the fixed mid-migration snapshot. Update after an intended visual change:
    .venv/bin/python -m pytest tests/ui/test_oncall_snapshot.py --snapshot-update
and look at the SVGs in tests/ui/__snapshots__/ before committing them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml

import iagent_tui.app_oncall
from iagent_tui.app import IagentApp, StaticSource
from iagent_tui.config import Settings
from iagent_tui.port_forward import ActiveForward, PortForward, PortForwards
from iagent_tui.wiring import ContextSwitch
from screens.contexts import ContextSwitcher
from screens.port_forward import ForwardsScreen, PortForwardDialog

from .fixtures import mid_migration
from .helpers import until
from .test_context_switch import eks_kubeconfig
from .test_oncall_keys import select_pod

SIZES = [(80, 24), (120, 40), (200, 50)]


def size_id(size) -> str:
    return f"{size[0]}x{size[1]}"


async def rendered(pilot) -> None:
    await until(pilot, lambda: pilot.app.snapshots_rendered >= 1, what="first snapshot on screen")


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_context_switcher_at(size, snap_compare, tmp_path):
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(eks_kubeconfig()))
    switch = ContextSwitch(Settings(kubeconfig=str(path)), SimpleNamespace(kube=SimpleNamespace(context="staging")))
    app = IagentApp(StaticSource(mid_migration()), context_switch=switch, clock=lambda: 0.0)

    async def open_switcher(pilot):
        await rendered(pilot)
        await pilot.press("K")
        await until(pilot, lambda: isinstance(pilot.app.screen, ContextSwitcher), what="switcher")
    assert snap_compare(app, terminal_size=size, run_before=open_switcher)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_port_forward_dialog_at(size, snap_compare, monkeypatch):
    monkeypatch.setattr(iagent_tui.app_oncall, "free_local_port", lambda: 8080)  # the suggestion, fixed

    async def open_dialog(pilot):
        await rendered(pilot)
        await select_pod(pilot, pilot.app)
        await pilot.press("F")
        dialog = await until(pilot, lambda: isinstance(pilot.app.screen, PortForwardDialog) and pilot.app.screen,
                             what="dialog")
        for box in dialog.query("Input"):
            box.cursor_blink = False  # a blinking cursor is drawn or not depending on the moment
        await pilot.pause()
    assert snap_compare(IagentApp(StaticSource(mid_migration()), clock=lambda: 0.0), terminal_size=size,
                        run_before=open_dialog)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_forwards_list_at(size, snap_compare):
    forwards = PortForwards(PortForward())
    for port, (kind, ns, name, remote) in enumerate((("pod", "prod", "web-5c6b7-klmno", 8080),
                                                     ("service", "default", "iagent-api", "http")), start=18080):
        forward = ActiveForward(kind, ns, name, port, remote, forwards.builder.command(kind, ns, name, port, remote))
        forward.state = f"forwarding 127.0.0.1:{port}" if kind == "pod" else "ended (exit 1): error: lost connection"
        forwards.forwards.append(forward)

    async def open_list(pilot):
        await rendered(pilot)
        await pilot.press("f")
        await until(pilot, lambda: isinstance(pilot.app.screen, ForwardsScreen), what="list")
    assert snap_compare(IagentApp(StaticSource(mid_migration()), port_forwards=forwards, clock=lambda: 0.0),
                        terminal_size=size, run_before=open_list)


class UnreachableSource(StaticSource):
    """Progress as the monitor reports it with the API server down and EKS answering, then the
    first snapshot, in which no Kubernetes resource could be read."""

    def __init__(self) -> None:
        from datetime import datetime, timezone

        from iagent_tui.model import ConnectionState, Snapshot, SourceState
        from iagent_tui.services.errors import ServiceError

        error = ServiceError("unreachable", "Could not list pods (all namespaces): endpoint unreachable: cannot "
                                            "connect to 127.0.0.1:1: connection refused (nothing listens there).")
        self.reflectors = [SimpleNamespace(error=error, synced=False) for _ in range(11)]
        taken = datetime(2026, 12, 2, 10, 30, tzinfo=timezone.utc)
        self.aws_sources = {name: SourceState(name, True, taken) for name in ("cluster", "fargate_profiles")}
        super().__init__(Snapshot(
            taken_at=taken, cluster=None,
            connection=ConnectionState("iagent-sandbox", "https://127.0.0.1:1", "token"),
            sources={"pods": SourceState("pods", False, error=error.message, stale_since=taken),
                     "nodes": SourceState("nodes", False, error=error.message, stale_since=taken)}))
        self.connection = SimpleNamespace(kube=SimpleNamespace(context="iagent-sandbox", server="https://127.0.0.1:1"))


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_connecting_screen_unreachable_at(size, snap_compare):
    from screens.connecting import ConnectingScreen

    async def said(pilot):
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectingScreen) and pilot.app.screen.problem,
                    what="the sentence")
    assert snap_compare(IagentApp(UnreachableSource(), clock=lambda: 0.0), terminal_size=size, run_before=said)
