"""The one place where actions are run: read-only mode is enforced here (every mutating step is
refused, the plan is still shown), one action at a time per cluster (the Lease of actions/lock.py,
taken before the first change and released at the end whatever the outcome), every event is
journaled, failures and cancellation (Ctrl-C) are recorded with the step they stopped at.

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
from typing import TYPE_CHECKING

from iagent_tui.services.errors import ServiceError

from .base import Plan, ProgressEvent, StepAction, StepFailed
from .journal import Journal, RunTarget
from .lock import ClusterLock, LockRefused, TakeOver

if TYPE_CHECKING:
    from .context import ActionContext

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
    """``async for event in runner.run(action, plan)``; ``runner.last`` holds the outcome.

    Build it with ``ActionRunner.for_context(ctx, sandbox=...)``: that gives it the cluster lock and
    the target the journal records. Without a lock (unit tests of the loop) runs are not serialised.
    ``take_over`` is asked before a lock left by a dead run is taken over; None refuses."""

    def __init__(self, journal_dir: Path | None, read_only: bool, cluster: str,
                 extra_secrets: tuple[str, ...] = (), *, lock: ClusterLock | None = None,
                 take_over: TakeOver | None = None, target: RunTarget | None = None) -> None:
        self.journal_dir = journal_dir
        self.read_only = read_only
        self.cluster = cluster
        self.secrets = tuple(os.environ.get(name, "") for name in _SECRET_ENV) + extra_secrets
        self.lock = lock
        self.take_over = take_over
        self.target = target
        self.last = RunResult()

    @classmethod
    def for_context(cls, ctx: ActionContext, *, sandbox: bool, extra_secrets: tuple[str, ...] = (),
                    take_over: TakeOver | None = None) -> ActionRunner:
        kube = ctx.connection.kube
        return cls(ctx.settings.journal_dir, ctx.read_only, ctx.cluster_name, extra_secrets,
                   lock=ClusterLock(ctx.kube, ctx.cluster_name), take_over=take_over,
                   target=RunTarget(context=kube.context, server=kube.server, sandbox=sandbox))

    async def busy(self) -> str:
        """Why a run would be refused right now (a live holder of the cluster lock), else "".
        Lets a face skip asking for a confirmation that could not be acted on."""
        if self.lock is None or self.read_only:
            return ""
        holder = await self.lock.busy()
        return holder.running(self.lock.now()) if holder else ""

    async def run(self, action: StepAction, plan: Plan) -> AsyncIterator[ProgressEvent]:
        journal = Journal(self.journal_dir, plan.action, self.cluster, self.secrets) if self.journal_dir else None
        self.last = RunResult(journal_path=journal.path if journal else None)
        current = ""
        lock = self.lock

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
                journal.start(plan, self.read_only, self.target)
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
            if lock is not None:
                current = "lock"  # a failure to take the lock (not permitted, unreachable) stops here
                try:
                    outcome = await lock.acquire(plan.action, self.take_over)
                except LockRefused as refused:
                    if journal:
                        journal.lock("refused", refused.message, holder=refused.holder.identity)
                    error = emit(ProgressEvent("error", refused.message, ok=False))
                    done = emit(ProgressEvent("done", f"{plan.action} refused: nothing was changed.", ok=False))
                    finish("refused", refused.message)
                    yield error
                    yield done
                    return
                if journal:
                    journal.lock(outcome, holder=lock.identity,
                                 previous=lock.previous.identity if lock.previous else "")
                if lock.previous:
                    yield emit(ProgressEvent("warning", f"Took over the cluster lock from {lock.previous.describe()}"))
                current = ""
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
                        if lock is not None and lock.lost:
                            if journal:
                                journal.lock("lost", lock.lost)
                            raise StepFailed(lock.lost)
                    yield emit(ProgressEvent("step_finished", step.title, step.id, ok=True))
            current = ""
            await self._release(journal)
            yield conclude("ok", f"{plan.action} finished.", True)
        except (StepFailed, ServiceError) as exc:
            message = str(exc.message if isinstance(exc, ServiceError) else exc)
            await self._release(journal)
            error = emit(ProgressEvent("error", f"Step {current} failed: {message}", current, ok=False))
            done = conclude("failed", f"{plan.action} failed at step {current}: {message}", False)
            yield error
            yield done
        except (asyncio.CancelledError, KeyboardInterrupt, GeneratorExit) as exc:
            # The step in progress either completed its call or did not start it; the next run
            # re-reads the cluster and continues from here.
            await self._release(journal)
            if self.last.result == "running":
                finish("cancelled", f"Cancelled during step {current or '(between steps)'}; run the action again to continue.")
            if not isinstance(exc, GeneratorExit):
                raise
        finally:
            await self._release(journal)
            if journal:
                journal.close()

    async def _release(self, journal: Journal | None) -> None:
        """Give the cluster back (before the result line, so the result stays the last record).
        A release that fails leaves a Lease that expires on its own: say so, never raise."""
        if self.lock is None or not self.lock.held:
            return
        try:
            deleted = await self.lock.release()
        except (ServiceError, asyncio.TimeoutError, OSError) as exc:
            if journal:
                journal.lock("release-failed", f"{getattr(exc, 'message', exc)}; the Lease expires after "
                                               f"{self.lock.duration} s")
            return
        if journal:
            journal.lock("released" if deleted else "already-gone", holder=self.lock.identity)
