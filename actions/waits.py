"""Waiting on the cluster with visible progress and a deadline: poll a check, yield a "waiting"
event each round (with the elapsed time and what is awaited), and stop with an explanation —
what it waited for, what it saw last (the latest Warning event of the pods it waited on), and what
to do next — when the deadline of this kind of wait passes (iagent_tui/deadlines.py), or at once
when the pods are in a state that waiting cannot fix (actions/evidence.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from iagent_tui.deadlines import ROLLOUT, describe
from iagent_tui.services.errors import ServiceError

from .base import ProgressEvent, StepFailed
from .context import ActionContext
from .evidence import PodsEvidence, Seen
from .workload_evidence import rollout_base

# A check answers (done?, what the cluster shows now) — the second part goes into the event.
Check = Callable[[], Awaitable[tuple[bool, str]]]

RESUME = "then run the action again: it continues where it stopped"


async def _look(ctx: ActionContext, evidence: PodsEvidence | None) -> Seen:
    if evidence is None:
        return Seen()
    try:
        return await evidence.look(ctx)
    except ServiceError:
        return Seen()  # the evidence is a bonus: a failed read must not end a wait that may finish


async def wait_until(check: Check, what: str, step_id: str, ctx: ActionContext, kind: str, *,
                     evidence: PodsEvidence | None = None, next_step: str = "") -> AsyncIterator[ProgressEvent]:
    """Wait for ``check``; ``kind`` picks the deadline, ``evidence`` names the pods (and workloads)
    whose events explain a long wait, ``next_step`` the command to suggest when nothing else does."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    base = None
    if kind == ROLLOUT and evidence is not None and evidence.workloads:
        base = await rollout_base(ctx, evidence.namespace, evidence.workloads)
    limit = ctx.deadline(kind, base)
    command = next_step or (evidence.describe_command() if evidence is not None else "")
    interval = ctx.poll.first
    while True:
        done, status = await check()
        elapsed = loop.time() - started
        if done:
            yield ProgressEvent("info", f"{what}: {status or 'done'} after {elapsed:.0f}s", step_id, elapsed=elapsed)
            return
        seen = await _look(ctx, evidence)
        if seen.hopeless:
            raise StepFailed(f"Stopped waiting for {what} after {elapsed:.0f}s: {seen.hopeless}. Waiting longer "
                             f"cannot fix this. Last seen: {status}. Fix the cause"
                             + (f" ({command})" if command else "") + f", {RESUME}.")
        if elapsed > limit:
            warning = f" Latest warning event: {seen.warning}." if seen.warning else ""
            raise StepFailed(f"Gave up waiting for {what} after {elapsed:.0f}s (deadline {describe(limit)}). "
                             f"Last seen: {status}.{warning} Next: "
                             + (f"look at it with `{command}`" if command else "check it in the AWS console or with kubectl")
                             + f", fix what it shows, {RESUME}; to wait longer, raise waits.{kind} in iagent.yaml.")
        yield ProgressEvent("waiting", f"Waiting for {what}: {status} ({elapsed:.0f}s of {describe(limit)})", step_id,
                            elapsed=elapsed, waiting_for=what, data={"warning": seen.warning} if seen.warning else {})
        await asyncio.sleep(interval)
        interval = min(ctx.poll.longest, interval * 1.5)
