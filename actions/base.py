"""What every action is made of: a plan shown before anything changes, and a run that yields
progress events. Actions never touch widgets; the runner renders events, journals them and enforces
read-only mode in one place (actions/runner.py)."""

from __future__ import annotations

import contextlib

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

Verb = Literal["create", "change", "delete", "wait", "check", "apply", "restart", "request"]
EventKind = Literal["step_started", "step_finished", "step_skipped", "waiting", "info", "warning",
                    "error", "done"]


@dataclass(frozen=True)
class PlanStep:
    id: str                      # stable within an action ("profile:fp-prod"), used by the journal to resume
    title: str                   # "Create Fargate profile fp-prod"
    verb: Verb
    target: str                  # what is touched: "EKS Fargate profile iagent-cluster/fp-prod"
    detail: str = ""             # selectors, subnets, policy... one or two lines
    mutating: bool = True        # False for waits and checks: allowed in read-only mode
    reschedules: tuple[str, ...] = ()  # "namespace/pod" that this step will move
    done: bool = False           # already in the desired state: the run skips it


@dataclass(frozen=True)
class Plan:
    action: str                  # "deploy" | "smoke" | "add-namespace" | "rollback"
    cluster: str
    steps: tuple[PlanStep, ...]
    destructive: bool = False    # deletes or is cluster-wide: ask for the cluster name to be typed
    warnings: tuple[str, ...] = ()

    @property
    def pending(self) -> tuple[PlanStep, ...]:
        return tuple(s for s in self.steps if not s.done)

    @property
    def nothing_to_do(self) -> bool:
        # Only when every step's end state holds: a wait still to finish (a controller installed
        # but not ready) is work left, even though it changes nothing.
        return not self.pending

    def counts(self) -> dict[str, int]:
        """Pending steps by what they do: create, change, delete, restart, then waits and checks
        (apply counts as create or change: actions give such steps the verb of what they do)."""
        counts = {verb: 0 for verb in ("create", "change", "delete", "restart")}
        for step in self.pending:
            bucket = {"apply": "change", "wait": "wait", "check": "check", "request": "check"}.get(step.verb, step.verb)
            counts[bucket] = counts.get(bucket, 0) + 1
        return counts

    def summary(self) -> str:
        """"1 to create, 2 to change, 0 to delete, 1 to restart; 2 waits; 3 pod(s) rescheduled" — the
        headless plan and the confirmation dialog say the same."""
        counts = self.counts()
        text = ", ".join(f"{counts.pop(verb)} to {verb}" for verb in ("create", "change", "delete", "restart"))
        waits, checks = counts.pop("wait", 0), counts.pop("check", 0)
        text += "".join(f", {n} to {verb}" for verb, n in counts.items())
        if waits:
            text += f"; {waits} wait(s)"
        if checks:
            text += f"; {checks} check(s)"
        moved = {pod for step in self.pending for pod in step.reschedules}
        return text + f"; {len(moved)} pod(s) rescheduled"


@dataclass(frozen=True)
class ProgressEvent:
    kind: EventKind
    message: str
    step_id: str = ""
    elapsed: float | None = None  # seconds since the step (or wait) started
    waiting_for: str = ""         # for kind == "waiting": what is awaited
    ok: bool | None = None        # for step_finished / done
    data: dict = field(default_factory=dict)  # structured results (e.g. smoke: status codes, start times)


class Action(Protocol):
    name: str
    title: str

    async def plan(self) -> Plan: ...

    def run(self, plan: Plan) -> AsyncIterator[ProgressEvent]: ...


class ReadOnlyRefused(Exception):
    """Raised by the runner for a mutating step in read-only mode."""


class StepFailed(Exception):
    """A step could not complete; the message says what failed and what to do (shown as is)."""


class InvalidInput(ValueError):
    """Input refused before any call (bad name, unknown namespace, invalid config): exit code 2."""


class StepAction:
    """Shared shape of the actions: ``plan()`` reads the cluster, ``execute(step)`` performs one
    pending step and yields its progress. ``run(plan)`` is the bare loop without journal or
    read-only guard; use actions.runner.ActionRunner for both."""

    name = ""
    title = ""

    async def plan(self) -> Plan:  # pragma: no cover - every action defines it
        raise NotImplementedError

    def execute(self, step: PlanStep) -> AsyncIterator[ProgressEvent]:  # pragma: no cover
        raise NotImplementedError

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """What lives exactly as long as the run's steps (rollback's readiness watch); the runner
        enters it around them, so it is closed on success, failure and cancellation alike."""
        yield

    async def run(self, plan: Plan) -> AsyncIterator[ProgressEvent]:
        async with self.running():
            for step in plan.steps:
                if step.done:
                    yield ProgressEvent("step_skipped", f"{step.title}: already done", step.id)
                    continue
                yield ProgressEvent("step_started", step.title, step.id)
                async for event in self.execute(step):
                    yield event
                yield ProgressEvent("step_finished", step.title, step.id, ok=True)
