"""Watches on the object store: one asyncio.Queue per watcher, so a writer never waits on a reader.

A watcher that falls more than ``MAX_BACKLOG`` events behind is closed; clients treat a closed watch
like a dropped connection and re-list, exactly what they do against a real API server.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable

from .clone import clone
from .resources import ResourceType
from .selectors import FieldMatcher, Matcher

MAX_BACKLOG = 10_000


@dataclass(frozen=True)
class Change:
    """One committed change, kept in the store's history for watch resume."""

    rv: int
    rt: ResourceType
    type: str  # ADDED, MODIFIED, DELETED
    obj: dict  # the new state (for DELETED: the last state, stamped with the delete's rv)
    old: dict | None  # the previous state (None for ADDED)


class Watch:
    """An async iterator of (event_type, object). Objects are private copies for the consumer
    (``next_shared`` hands out the stored object instead, for consumers that only serialize)."""

    def __init__(self, rt: ResourceType, namespace: str | None, labels: Matcher,
                 fields: FieldMatcher, on_close: Callable[["Watch"], None],
                 current_rv: Callable[[], int]) -> None:
        self.rt = rt
        self.namespace = namespace
        self._labels = labels
        self._fields = fields
        self._queue: asyncio.Queue[tuple[str, dict] | None] = asyncio.Queue()
        self._on_close = on_close
        self._current_rv = current_rv
        self.closed = False
        # Why it ended, for callers that want to tell "closed by us" from "fell behind".
        self.close_reason: str | None = None

    # -- fed by the store -------------------------------------------------------------------
    def _selects(self, obj: dict | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata") or {}
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        return self._labels.matches(meta.get("labels")) and self._fields.matches(obj)

    def offer(self, change: Change) -> None:
        """Translate a change for this watcher's filter: an object that starts matching arrives
        as ADDED, one that stops matching as DELETED (the API server's watch-cache behaviour)."""
        if self.closed or (change.rt is not self.rt and change.rt != self.rt):
            return
        now, before = self._selects(change.obj), self._selects(change.old)
        if change.type == "DELETED":
            kind = "DELETED" if now else None
        elif now and before:
            kind = "MODIFIED"
        elif now:
            kind = "ADDED"
        elif before:
            kind = "DELETED"
        else:
            kind = None
        if kind is not None:
            self._put(kind, change.obj)

    def offer_initial(self, obj: dict) -> None:
        if self._selects(obj):
            self._put("ADDED", obj)

    def request_bookmark(self) -> None:
        """Queue a BOOKMARK carrying the store's current resourceVersion. It is queued behind
        every change already delivered to this watch, so a client resuming from it loses none."""
        self._put("BOOKMARK", {"kind": self.rt.kind, "apiVersion": self.rt.api_version,
                               "metadata": {"resourceVersion": str(self._current_rv())}})

    def _put(self, kind: str, obj: dict) -> None:
        if self._queue.qsize() >= MAX_BACKLOG:
            self.close("too slow")
            return
        self._queue.put_nowait((kind, obj))

    # -- consumer side ----------------------------------------------------------------------
    def close(self, reason: str = "closed") -> None:
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        self._on_close(self)
        self._queue.put_nowait(None)

    def __aiter__(self) -> "Watch":
        return self

    async def __anext__(self) -> tuple[str, dict[str, Any]]:
        kind, obj = await self.next_shared()
        return kind, clone(obj)

    async def next_shared(self) -> tuple[str, dict[str, Any]]:
        """The next event with the stored object itself, not a copy: for a consumer that only
        serializes it (the HTTP watch stream), so a change fans out to many watchers without
        copying it once per watcher. Never edit what this returns."""
        if self.closed:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is None or self.closed:
            raise StopAsyncIteration
        return item

    def pending(self) -> int:
        """Events that will still be delivered (for tests and diagnostics); none once closed."""
        return 0 if self.closed else self._queue.qsize()
