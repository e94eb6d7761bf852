"""A budget of AWS calls per minute: one token bucket that every call of the monitor goes through.

AWS throttles per account and region, and the budget is shared with whoever else reads the same
APIs: the AWS Load Balancer Controller (DescribeTargetHealth), other engineers running this tool,
CI. So the dashboard spends at most ``per_minute`` calls a minute in the long run, with bursts of
up to one minute's worth (a round of reads goes out together). A call that finds the bucket empty
waits for the next token, never longer than the bucket takes to refill one call (FIFO, so a
user's poll_now() queues behind at most the calls already waiting).

``borrowing`` lets calls through without waiting, the level going below zero: only for the first
round of reads, so that a large cluster's dashboard fills at once; the debt is repaid before any
later call goes out.

Rounds count their own calls (``count_calls``) through a context variable: asyncio copies the
context into each task a round gathers, so concurrent reads all land in the round's counter and
not in the sentinel's that may run at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

_ROUND: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("iagent_aws_round", default=None)


class CallBudget:
    def __init__(self, per_minute: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        if per_minute <= 0:
            raise ValueError(f"an AWS call budget must be more than 0 calls a minute, got {per_minute!r}")
        self.per_minute = float(per_minute)
        self.rate = self.per_minute / 60.0  # calls a second
        self.capacity = max(1.0, self.per_minute)
        self.borrowing = False
        self.spent = 0
        self._level = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock = asyncio.Lock()

    def level(self) -> float:
        """Calls that could go out now without waiting (negative: debt being repaid)."""
        now = self._clock()
        self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
        self._stamp = now
        return self._level

    async def acquire(self) -> None:
        async with self._lock:
            if not self.borrowing and self.level() < 1:
                await self._sleep((1 - self.level()) / self.rate)
            self.level()
            self._level -= 1
            self.spent += 1
        counter = _ROUND.get()
        if counter is not None:
            counter[0] += 1

    async def before_call(self, **_: Any) -> None:
        """botocore's before-call hook (one per API request, each page of a paginated list too)."""
        await self.acquire()


@contextlib.contextmanager
def count_calls() -> Iterator[list[int]]:
    """``with count_calls() as n:`` … ``n[0]``: the budgeted calls made inside the block (and in
    the tasks it starts)."""
    counter = [0]
    token = _ROUND.set(counter)
    try:
        yield counter
    finally:
        _ROUND.reset(token)
