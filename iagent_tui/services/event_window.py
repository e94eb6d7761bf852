"""The events a monitor keeps: a bounded window of the newest, and the image-pull events of live pods.

A cluster of 5,000 pods holds some 40,000 events (the API server keeps them an hour). Keeping them
all, raw and converted, was most of the monitor's memory, and picking the newest on every snapshot
most of its time. ``EventWindow`` is the events Reflector's store: it takes each event as it
arrives (already converted, see ``event_model``) and keeps only the newest MAX_EVENTS Normal
events and MAX_WARNINGS Warnings (Warnings matter longer). Start-time phases need every live pod's
Pulling/Pulled events however old they are (insights.startup), so those stay, apart from the
window, until the monitor says their pod is gone. An object's full history is a field-selector
list away (KubeClient.events_for).
"""

from __future__ import annotations

import itertools
import math
from operator import itemgetter
from bisect import bisect_left, insort
from collections.abc import Iterator, Mapping, MutableMapping
from ..model import Event
from . import convert
from .kube import slim

MAX_EVENTS = 500  # newest Normal events kept
MAX_WARNINGS = 1000  # newest Warnings kept: they matter longer than routine events
PULL_REASONS = frozenset({"Pulling", "Pulled"})

Key = tuple[str, str]  # the event object's (namespace, name)
PodKey = tuple[str, str]  # the pod's (namespace, name)
# Sorted by when it happened (undated: newest, as the API server would date it now), then what it
# is about; the sequence number makes every entry unique, so neither the key nor the event (along
# for a cheap read-out) is ever compared.
Entry = tuple[float, str, str, int, Key, Event]


def event_model(raw: dict) -> Event:
    """What the monitor keeps of a raw event: the model, with the slimmed raw for the YAML view."""
    return convert.event_from_raw(slim(raw))


def pull_pod(event: Event) -> PodKey | None:
    """The pod whose image pull this event records, or None for any other event."""
    if event.reason in PULL_REASONS and (event.kind or "Pod") == "Pod":
        return event.namespace, event.name
    return None


class EventWindow(MutableMapping):
    def __init__(self, max_normal: int = MAX_EVENTS, max_warnings: int = MAX_WARNINGS) -> None:
        self._events: dict[Key, Event] = {}  # everything kept: the window and older pull events
        self._entries: dict[Key, Entry] = {}
        self._lists: dict[Key, list[Entry]] = {}  # which sorted list each kept event is in
        self._normal: list[Entry] = []
        self._warnings: list[Entry] = []
        self._aged_pulls: list[Entry] = []  # pull events the window let go, kept for their pod
        self._limits = {id(self._normal): max_normal, id(self._warnings): max_warnings}
        self._pulls: dict[PodKey, set[Key]] = {}  # the pull events kept for each pod
        self._pull_of: dict[Key, PodKey] = {}
        self._seq = itertools.count()
        self._sorted: tuple[Event, ...] | None = ()

    # -- the store a Reflector writes ---------------------------------------------------------
    def __getitem__(self, key: Key) -> Event:
        return self._events[key]

    def __setitem__(self, key: Key, event: Event) -> None:
        self._discard(key)
        stamp = event.last_seen.timestamp() if event.last_seen is not None else math.inf
        entry = (stamp, event.namespace, event.name, next(self._seq), key, event)
        window = self._warnings if event.type == "Warning" else self._normal
        self._events[key] = event
        self._entries[key] = entry
        self._lists[key] = window
        insort(window, entry)
        pod = pull_pod(event)
        if pod is not None:
            self._pulls.setdefault(pod, set()).add(key)
            self._pull_of[key] = pod
        self._sorted = None
        limit = self._limits[id(window)]
        while len(window) > limit:  # arrivals come in any order (a list is paged): drop the oldest
            oldest = window.pop(0)
            if oldest[4] in self._pull_of:
                insort(self._aged_pulls, oldest)
                self._lists[oldest[4]] = self._aged_pulls
            else:
                self._forget(oldest[4])

    def __delitem__(self, key: Key) -> None:
        if key not in self._events:
            raise KeyError(key)
        self._discard(key)

    def __iter__(self) -> Iterator[Key]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def clear(self) -> None:
        for kept in (self._events, self._entries, self._lists, self._pulls, self._pull_of):
            kept.clear()
        for entries in (self._normal, self._warnings, self._aged_pulls):
            entries.clear()
        self._sorted = None

    # -- what the monitor reads ---------------------------------------------------------------
    def events(self) -> tuple[Event, ...]:
        """Every kept event, oldest first (the same tuple until something changes)."""
        if self._sorted is None:
            # Three sorted runs: the sort merges them rather than sorting from scratch.
            merged = sorted(self._normal + self._warnings + self._aged_pulls)
            self._sorted = tuple(map(itemgetter(5), merged))
        return self._sorted

    def retain_pulls(self, pod: PodKey, uid: str | None) -> None:
        """The pod is gone (uid None) or is now the incarnation ``uid``: forget the pull events
        that are not about it (a recreated StatefulSet pod keeps its name, not its uid)."""
        keys = self._pulls.get(pod)
        if not keys:
            return
        for key in [k for k in keys if uid is None or uid and self._events[k].object_uid not in ("", uid)]:
            if self._lists[key] is self._aged_pulls:
                self._discard(key)
            else:  # still among the newest: it stays while it is, as any other event
                self._untrack_pull(key)

    def retain_pulls_of(self, live: Mapping[PodKey, str]) -> None:
        """Keep only the pull events of these pods (pod -> uid): after a list, when events of
        pods deleted before the monitor started may have arrived."""
        for pod in list(self._pulls):
            self.retain_pulls(pod, live.get(pod))

    # -- bookkeeping --------------------------------------------------------------------------
    def _discard(self, key: Key) -> None:
        if key not in self._events:
            return
        entries = self._lists[key]
        entry = self._entries[key]
        del entries[bisect_left(entries, entry)]
        self._forget(key)
        self._untrack_pull(key)

    def _untrack_pull(self, key: Key) -> None:
        pod = self._pull_of.pop(key, None)
        if pod is not None:
            keys = self._pulls[pod]
            keys.discard(key)
            if not keys:
                del self._pulls[pod]

    def _forget(self, key: Key) -> None:
        del self._events[key], self._entries[key], self._lists[key]
        self._sorted = None


