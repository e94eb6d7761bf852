"""The one place where actions are run: read-only mode is enforced here (every mutating step is
refused, the plan is still shown), every event is journaled, failures and cancellation (Ctrl-C)
are recorded with the step they stopped at.

Steps are the unit of consistency: each is a single change plus the wait for it, and every step
re-reads the cluster before acting, so a run stopped anywhere is finished by the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from iagent_tui.services.errors import ServiceError

from .base import Plan, ProgressEvent, StepAction, StepFailed
from .journal import Journal

# Environment values that are credentials: removed verbatim from the journal wherever they appear.
_SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECURITY_TOKEN")


@dataclass
class RunResult:
    result: str = "running"  # ok | nothing-to-do | failed | refused | cancelled
    stopped_at: str = ""      # step id where a failed/cancelled/refused run stopped
    message: str = ""
    journal_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.result in ("ok", "nothing-to-do")


class ActionRunner:
    """``async for event in runner.run(action, plan)``; ``runner.last`` holds the outcome."""

    def __init__(self, journal_dir: Path | None, read_only: bool, cluster: str,
                 extra_secrets: tuple[str, ...] = ()) -> None:
        self.journal_dir = journal_dir
        self.read_only = read_only
        self.cluster = cluster
        self.secrets = tuple(os.environ.get(name, "") for name in _SECRET_ENV) + extra_secrets
        self.last = RunResult()

    async def run(self, action: StepAction, plan: Plan) -> AsyncIterator[ProgressEvent]:
        journal = Journal(self.journal_dir, plan.action, self.cluster, self.secrets) if self.journal_dir else None
        self.last = RunResult(journal_path=journal.path if journal else None)
        current = ""

        def emit(event: ProgressEvent) -> ProgressEvent:
            if journal:
                journal.event(event)
            return event

        def finish(result: str, message: str = "") -> None:
            self.last.result, self.last.stopped_at, self.last.message = result, current, message
            if journal:
                journal.finish(result, current if result not in ("ok", "nothing-to-do") else "", message)

        def conclude(result: str, message: str, ok: bool) -> ProgressEvent:
            """The final event, journaled before the result line so the result is the last record."""
            done = emit(ProgressEvent("done", message, ok=ok))
            finish(result, message)
            return done

        try:
            if journal:
                journal.start(plan, self.read_only)
            refused = [s for s in plan.pending if s.mutating] if self.read_only else []
            if refused:
                for step in refused:
                    yield emit(ProgressEvent("error", f"Read-only mode: refused to {step.title[0].lower()}{step.title[1:]}",
                                             step.id, ok=False))
                current = refused[0].id
                yield conclude("refused", f"Read-only mode: {len(refused)} change(s) refused, nothing was changed.", False)
                return
            if plan.nothing_to_do:
                yield conclude("nothing-to-do", "Nothing to do: the cluster is already in the planned state.", True)
                return
            for warning in plan.warnings:
                yield emit(ProgressEvent("warning", warning))
            running = getattr(action, "running", None)  # test doubles may be bare Action protocols
            async with running() if running else contextlib.nullcontext():
                for step in plan.steps:
                    current = step.id
                    if step.done:
                        yield emit(ProgressEvent("step_skipped", f"{step.title}: already done", step.id))
                        continue
                    yield emit(ProgressEvent("step_started", step.title, step.id))
                    async for event in action.execute(step):
                        yield emit(event)
                    yield emit(ProgressEvent("step_finished", step.title, step.id, ok=True))
            current = ""
            yield conclude("ok", f"{plan.action} finished.", True)
        except (StepFailed, ServiceError) as exc:
            message = str(exc.message if isinstance(exc, ServiceError) else exc)
            error = emit(ProgressEvent("error", f"Step {current} failed: {message}", current, ok=False))
            done = conclude("failed", f"{plan.action} failed at step {current}: {message}", False)
            yield error
            yield done
        except (asyncio.CancelledError, KeyboardInterrupt, GeneratorExit) as exc:
            # The step in progress either completed its call or did not start it; the next run
            # re-reads the cluster and continues from here.
            if self.last.result == "running":
                finish("cancelled", f"Cancelled during step {current or '(between steps)'}; run the action again to continue.")
            if not isinstance(exc, GeneratorExit):
                raise
        finally:
            if journal:
                journal.close()
