"""Waiting on the cluster with visible progress: poll a check, yield a "waiting" event each round
(with the elapsed time and what is awaited), give up with a clear message after the timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from .base import ProgressEvent, StepFailed
from .context import PollPolicy

# A check answers (done?, what the cluster shows now) — the second part goes into the event.
Check = Callable[[], Awaitable[tuple[bool, str]]]


async def wait_until(check: Check, what: str, step_id: str, poll: PollPolicy,
                     timeout: float | None = None) -> AsyncIterator[ProgressEvent]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    interval = poll.first
    limit = poll.timeout if timeout is None else timeout
    while True:
        done, status = await check()
        elapsed = loop.time() - started
        if done:
            yield ProgressEvent("info", f"{what}: {status or 'done'} after {elapsed:.0f}s", step_id, elapsed=elapsed)
            return
        if elapsed > limit:
            raise StepFailed(f"Gave up after {elapsed:.0f}s waiting for {what} (last seen: {status}). "
                             "Check the object in the AWS console or with kubectl, then run the action again: "
                             "it continues where it stopped.")
        yield ProgressEvent("waiting", f"Waiting for {what}: {status} ({elapsed:.0f}s)", step_id,
                            elapsed=elapsed, waiting_for=what)
        await asyncio.sleep(interval)
        interval = min(poll.longest, interval * 1.5)
