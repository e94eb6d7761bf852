"""Headless actions: `iagent-tui deploy | smoke | add-namespace NAME | rollback [--yes] [--dry-run]`.

Each prints the plan; --dry-run stops there; without --yes it asks (rollback asks for the cluster
name to be typed); then the progress prints line by line as events arrive. One action at a time
per cluster: a run that finds another one holding the cluster's lock is refused before any change;
a lock left by a run that died is taken over only with --take-over-lock (or a yes at the prompt;
--yes alone never takes it). Exit codes: 0 done or nothing to do, 1 failed or refused (read-only,
or the cluster busy), 2 bad input (nothing was called), 130 interrupted (the journal says where;
run again to continue).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import click

from actions.base import InvalidInput, Plan, ProgressEvent, StepAction, StepFailed
from actions.context import ActionContext, PollPolicy, open_context
from actions.lock import Holder
from actions.runner import ActionRunner

from .options import CONNECTION_OPTIONS, command_aws, command_settings
from .sandbox_option import sandbox_link
from ..config import ConfigError, Settings
from ..services.connection import AwsTarget, Connection, build_connection
from ..services.errors import ServiceError

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

ActionFactory = Callable[[ActionContext], StepAction]


def _common(fn):
    options = [
        click.option("--yes", "-y", is_flag=True, help="Do it without asking (for scripts and CI)."),
        click.option("--dry-run", is_flag=True, help="Only print the plan; change nothing."),
        click.option("--read-only", is_flag=True, default=None, help="Refuse every change (still shows the plan)."),
        click.option("--take-over-lock", is_flag=True,
                     help="Take over the cluster's action lock when the run holding it stopped renewing it "
                          "(it died); never needed otherwise, and --yes does not imply it."),
        *CONNECTION_OPTIONS,
        click.option("--journal-dir", default=None, type=click.Path(file_okay=False),
                     help="Where the run's journal goes (default ~/.local/state/iagent-tui/journal)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _settings(ctx: click.Context, opts: dict[str, Any]) -> Settings:
    return command_settings(ctx, opts, journal_dir=opts.get("journal_dir"))


def render_plan(plan: Plan) -> str:
    lines = [f"Plan: {plan.action} on cluster {plan.cluster}"]
    for number, step in enumerate(plan.steps, 1):
        mark = "done" if step.done else ("todo" if step.mutating else "wait")
        lines.append(f"  {number:>2}. [{mark}] {step.title}")
        lines.append(f"        {step.verb}: {step.target}")
        if step.detail:
            lines.append(f"        {step.detail}")
        if step.reschedules and not step.done:
            lines.append(f"        reschedules: {', '.join(step.reschedules)}")
    for warning in plan.warnings:
        lines.append(f"  warning: {warning}")
    if plan.nothing_to_do:
        lines.append("Nothing to do: the cluster is already in the planned state.")
    else:
        changes = sum(1 for s in plan.pending if s.mutating)
        lines.append(f"{changes} change(s) to make ({plan.summary()})" + (" — destructive" if plan.destructive else "") + ".")
    return "\n".join(lines)


def render_event(event: ProgressEvent) -> str:
    prefix = {"step_started": "==>", "step_finished": " ok", "step_skipped": " --", "waiting": "...",
              "info": "   ", "warning": " !!", "error": "ERR", "done": "***"}.get(event.kind, "   ")
    return f"{prefix} {event.message}"


def _confirm(plan: Plan) -> bool:
    if plan.destructive:
        typed = click.prompt(f"This changes the whole cluster. Type the cluster name ({plan.cluster}) to go on",
                             default="", show_default=False)
        return typed.strip() == plan.cluster
    return click.confirm("Apply this plan?", default=False)


def _take_over(yes: bool, take_over_lock: bool) -> Callable[[Holder], bool] | None:
    """Consent to take over a dead run's lock: the explicit flag, else a question when a person is
    there to answer (without --yes); a script's --yes alone refuses."""
    if take_over_lock:
        return lambda holder: True
    if yes:
        return None

    def ask(holder: Holder) -> bool:
        click.echo(f"The cluster's action lock was left by {holder.action or 'a run'} of {holder.describe()}, "
                   f"which stopped renewing it: that run is probably gone.")
        return click.confirm(f"Take over the lock held by {holder.describe()} since {holder.since()}?", default=False)
    return ask


async def _run_action(settings: Settings, connection: Connection | None, factory: ActionFactory, *, yes: bool,
                      dry_run: bool, poll: PollPolicy, before_confirm: Callable[[StepAction, Plan], Any] | None = None,
                      aws: AwsTarget | None = None, sandbox: bool = False, take_over_lock: bool = False) -> int:
    connection = connection or await build_connection(settings, aws)
    async with open_context(settings, connection, poll) as actx:
        action = factory(actx)
        plan = await action.plan()
        click.echo(render_plan(plan))
        if dry_run:
            return EXIT_OK
        # Explicit keys (the sandbox's) are secrets too, not only the ones in the environment.
        keys = tuple(k for k in (connection.aws.secret_access_key, connection.aws.session_token) if k)
        runner = ActionRunner.for_context(actx, sandbox=sandbox, extra_secrets=keys,
                                          take_over=_take_over(yes, take_over_lock))
        # Another run holds the cluster: no questions, the runner refuses (and journals it) at once.
        asking = not yes and not plan.nothing_to_do and not await runner.busy()
        if asking and before_confirm is not None:
            plan = await before_confirm(action, plan) or plan
        if asking and not actx.read_only and not _confirm(plan):
            click.echo("Not confirmed: nothing was changed.")
            return EXIT_FAILED
        async for event in runner.run(action, plan):
            click.echo(render_event(event))
        if runner.last.journal_path:
            click.echo(f"Journal: {runner.last.journal_path}")
        return EXIT_OK if runner.last.ok else EXIT_FAILED


def run_headless(ctx: click.Context, opts: dict[str, Any], name: str, factory: ActionFactory,
                 validate: Callable[[Settings], None] | None = None,
                 before_confirm: Callable[[StepAction, Plan], Any] | None = None) -> None:
    """Settings and input checks (exit 2 before any call: names, the journal directory), then the
    plan, whose preflight (actions/preflight.py) refuses the wrong cluster or bad subnets with
    InvalidInput (exit 2) before anything changes, then confirm, run."""
    try:
        settings = _settings(ctx, opts)
        poll = PollPolicy.from_env()
        if validate is not None:
            validate(settings)
        if not opts["dry_run"]:  # a dry run writes no journal
            from actions.preflight import journal_dir_problem

            problem = journal_dir_problem(settings.journal_dir)
            if problem:
                raise InvalidInput(problem)
    except (ConfigError, InvalidInput, ValueError) as err:
        click.echo(f"iagent-tui {name}: {err}", err=True)
        sys.exit(EXIT_INPUT)
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    try:
        code = asyncio.run(_run_action(settings, obj.get("connection"), factory, yes=opts["yes"],
                                       dry_run=opts["dry_run"], poll=poll, before_confirm=before_confirm,
                                       aws=command_aws(ctx, settings), sandbox=sandbox_link(ctx) is not None,
                                       take_over_lock=opts["take_over_lock"]))
    except InvalidInput as err:
        click.echo(f"iagent-tui {name}: {err}", err=True)
        sys.exit(EXIT_INPUT)
    except (ServiceError, StepFailed) as err:
        click.echo(f"iagent-tui {name}: {getattr(err, 'message', err)}", err=True)
        sys.exit(EXIT_FAILED)
    except KeyboardInterrupt:
        click.echo(f"\niagent-tui {name}: interrupted. The cluster is left between steps; the journal says where. "
                   f"Run `iagent-tui {name}` again to continue.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(code)


# -- the commands -------------------------------------------------------------------------------

@click.command("deploy")
@_common
@click.pass_context
def deploy_command(ctx: click.Context, **opts: Any) -> None:
    """Move the cluster onto Fargate: pod execution role, Fargate profiles (one at a time), CoreDNS,
    and the AWS Load Balancer Controller with IRSA."""
    from actions.deploy import DeployAction

    def validate(settings: Settings) -> None:
        DeployAction.check_names(settings)

    run_headless(ctx, opts, "deploy", DeployAction, validate)


@click.command("smoke")
@_common
@click.option("--cleanup", is_flag=True, help="Remove the sample app afterwards.")
@click.option("--requests", "request_count", type=click.IntRange(1, 100), default=5, show_default=True,
              help="HTTP requests to send to the ALB.")
@click.pass_context
def smoke_command(ctx: click.Context, cleanup: bool, request_count: int, **opts: Any) -> None:
    """Deploy the sample app, wait for its pods on Fargate, its ALB and healthy targets, then send
    HTTP requests through the ALB; pass or fail."""
    from actions.smoke import SmokeAction

    run_headless(ctx, opts, "smoke", lambda actx: SmokeAction(actx, cleanup=cleanup, requests=request_count))


@click.command("add-namespace")
@click.argument("name")
@_common
@click.option("--restart/--no-restart", default=None,
              help="Restart the namespace's deployments so their pods move to Fargate (asked when not given).")
@click.pass_context
def add_namespace_command(ctx: click.Context, name: str, restart: bool | None, **opts: Any) -> None:
    """Put namespace NAME on Fargate: create it if absent, create its profile, optionally restart its
    deployments so their pods move."""
    from actions.namespace import AddNamespaceAction
    from actions.validate import namespace_name

    def validate(settings: Settings) -> None:
        namespace_name(name)
        AddNamespaceAction.check_names(settings, name)

    async def ask_restart(action: StepAction, plan: Plan) -> Plan | None:
        if restart is not None or not getattr(action, "movable", None):
            return None
        click.echo("Deployments in namespace " + name + ": " + ", ".join(action.movable))
        if click.confirm("Restart them so their pods move to Fargate?", default=False):
            action.restart = True
            replanned = await action.plan()
            click.echo(render_plan(replanned))
            return replanned
        return None

    run_headless(ctx, opts, "add-namespace", lambda actx: AddNamespaceAction(actx, name, restart=bool(restart)),
                 validate, before_confirm=ask_restart)


@click.command("rollback")
@_common
@click.pass_context
def rollback_command(ctx: click.Context, **opts: Any) -> None:
    """Move everything back to EC2 without avoidable downtime: scale the node group up, CoreDNS back
    to EC2, then delete the Fargate profiles one at a time and restart the affected workloads."""
    from actions.rollback import RollbackAction

    run_headless(ctx, opts, "rollback", RollbackAction)


ACTION_COMMANDS = (deploy_command, smoke_command, add_namespace_command, rollback_command)


@click.group("actions")
def actions_group() -> None:
    """The actions on their own (`python -m iagent_tui.commands.actions deploy ...`)."""


for _command in ACTION_COMMANDS:
    actions_group.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    actions_group()
