"""Pilot helpers: wait on conditions (never on fixed delays)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(pilot, predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition"):
    """Let the app process messages until predicate() is truthy, failing after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - the widget may not be mounted yet
            last_error = exc
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}"
                                 + (f" (last error: {last_error!r})" if last_error else ""))
        await pilot.pause()
        await asyncio.sleep(0.01)  # yield to workers of the app between message rounds
