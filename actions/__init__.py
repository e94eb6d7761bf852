"""The operator's actions: deploy, smoke, add-namespace, rollback.

Each is a StepAction: ``await action.plan()`` reads the cluster and lists the steps (done ones
marked), ``ActionRunner(...).run(action, plan)`` performs the pending steps and yields
ProgressEvents — the runner is the one place that enforces read-only mode, journals and records
cancellation. Headless commands: iagent_tui/commands/actions.py; the dashboard gets the same
objects from ``dashboard_actions(ctx)`` and ``ActionRunner.run`` as its ``run_action``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imports stay lazy: the package is imported by screens for its types only
    from .base import StepAction
    from .context import ActionContext


def dashboard_actions(ctx: "ActionContext") -> list["StepAction"]:
    """The actions the dashboard offers without further input (add-namespace needs a name:
    build ``AddNamespaceAction(ctx, name, restart=...)`` once the user typed it)."""
    from .deploy import DeployAction
    from .rollback import RollbackAction
    from .smoke import SmokeAction

    return [DeployAction(ctx), SmokeAction(ctx), RollbackAction(ctx)]
