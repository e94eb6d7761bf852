"""A budget of AWS calls per minute that every call of the monitor goes through.

AWS throttles per account and region, and the budget is shared with whoever else reads the same
APIs: the AWS Load Balancer Controller (DescribeTargetHealth), other engineers running this tool,
CI. So the dashboard makes at most ``per_minute`` calls in any 60 seconds (a sliding window, not
a token bucket: a bucket would let a burst of a minute's worth plus a minute's refill through in
one minute). A round of reads may go out together; a call that finds the window full waits until
the oldest call in it is a minute (and SEND_MARGIN) old, never longer (FIFO, so a user's
poll_now() queues behind at most the calls already waiting).

``borrowing`` lets calls through without waiting: only for the first round of reads, so that a
large cluster's dashboard fills at once. Those calls count, so the ones after wait until the
window has room again.

Rounds count their own calls (``count_calls``) through a context variable: asyncio copies the
context into each task a round gathers, so concurrent reads all land in the round's counter and
not in the sentinel's that may run at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

WINDOW_SECONDS = 60.0
# A request goes out a moment after the budget lets it (signing, a busy event loop) and AWS
# counts it when it arrives: a second's margin keeps the minute true on the wire too.
SEND_MARGIN = 1.0
_ROUND: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("iagent_aws_round", default=None)


class CallBudget:
    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        if per_minute < 1:
            raise ValueError(f"an AWS call budget must be 1 or more calls a minute, got {per_minute!r}")
        self.per_minute = int(per_minute)
        self.rate = self.per_minute / WINDOW_SECONDS  # calls a second, in the long run
        self.borrowing = False
        self.spent = 0
        self._recent: deque[float] = deque(maxlen=self.per_minute)  # when the last per_minute calls went out
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            if not self.borrowing and len(self._recent) == self.per_minute:
                wait = self._recent[0] + WINDOW_SECONDS + SEND_MARGIN - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            self._recent.append(self._clock())
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
