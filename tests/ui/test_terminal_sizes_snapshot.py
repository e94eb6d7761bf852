"""The dashboard and the rollback confirmation in real terminal sizes (80x24, 120x40, 200x50),
fed the fixed mid-migration snapshot with a still clock. Update after an intended visual change:
    .venv/bin/python -m pytest tests/ui/test_terminal_sizes_snapshot.py --snapshot-update
and look at the SVGs in tests/ui/__snapshots__/ before committing them."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from actions.base import Plan, PlanStep
from iagent_tui.app import IagentApp, StaticSource
from screens.confirm import ConfirmDialog

from .fixtures import mid_migration
from .helpers import until
from .test_actions_ui import TinyAction

ROLLBACK = Plan("rollback", "iagent-cluster", (
    *(PlanStep(f"restart:{ns}", f"Move {ns} workloads back to EC2", "restart", f"Deployments in {ns}",
               reschedules=(f"{ns}/api-7d9f8-abcde", f"{ns}/api-7d9f8-fghij")) for ns in ("default", "prod", "staging")),
    *(PlanStep(f"profile:fp-{ns}", f"Delete Fargate profile fp-{ns}", "delete",
               f"EKS Fargate profile iagent-cluster/fp-{ns}", "one profile at a time (EKS rule)")
      for ns in ("default", "prod", "staging")),
    PlanStep("coredns", "Put CoreDNS back on EC2", "change", "EKS add-on coredns", "computeType: (default)"),
    PlanStep("lbc", "Uninstall the AWS Load Balancer Controller", "delete", "Helm release aws-load-balancer-controller"),
), destructive=True, warnings=("Pods move twice if a namespace is added again [see journal]",))


def app_with_rollback() -> IagentApp:
    return IagentApp(StaticSource(mid_migration()), actions=[TinyAction(ROLLBACK)], clock=lambda: 0.0)


async def rendered(pilot) -> None:
    await until(pilot, lambda: pilot.app.snapshots_rendered >= 1, what="first snapshot on screen")


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_at(size, snap_compare):
    assert snap_compare(IagentApp(StaticSource(mid_migration()), clock=lambda: 0.0), terminal_size=size,
                        run_before=rendered)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_rollback_confirmation_with_a_wrong_name_at(size, snap_compare):
    async def type_wrong_name(pilot):
        await rendered(pilot)
        await pilot.press("D")
        dialog = await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog) and pilot.app.screen,
                             what="dialog")
        dialog.query_one("#confirm-name", Input).focus()
        await pilot.press(*"prod", "enter")
        await until(pilot, lambda: "is not the cluster name" in dialog.name_message, what="the message")
    assert snap_compare(app_with_rollback(), terminal_size=size, run_before=type_wrong_name)
