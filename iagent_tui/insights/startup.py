"""Pod start latency from what the Kubernetes API records (DOMAIN.md 7.3).

Phases of one pod start:

    created    metadata.creationTimestamp
    scheduled  PodScheduled condition True (on Fargate: after the microVM's node registered)
    kubelet    status.startTime (kubelet picked the pod up)
    pulling    first ``Pulling`` event;  pulled: last ``Pulled`` event that really pulled
    running    latest containerStatuses[].state.running.startedAt (all app containers running)
    ready      Ready condition True

Read from the typed ``Pod`` (conditions, container statuses) and ``Event`` records.

The kubelet's ``Pulled`` message carries its own measurement (pkg/kubelet/images/image_manager.go):
``Successfully pulled image "x" in 9.2s (9.2s including waiting). Image size: 123 bytes.``; before
Kubernetes 1.25 only ``... in 9.212s``, and 1.25-1.27 without the size. ``Container image "x"
already present on machine`` is also reason ``Pulled`` but no pull. Durations use Go's format.

Statistics use the nearest-rank percentile: the value at rank ceil(p/100 * n) of the sorted
sample, always an observed value (no interpolation), so "p95 = 118 s" means a real pod took 118 s.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping, Sequence

from ..model import Event, Pod

DEFAULT_TARGET_SECONDS = 120.0  # BRIEF: sub-2-minute pod starts

_PULLED = re.compile(
    r'Successfully pulled image "(?P<image>[^"]*)" in (?P<took>[0-9.a-zµμ]+)'
    r"(?: \((?P<waiting>[0-9.a-zµμ]+) including waiting\))?"
    r"(?:\. Image size: (?P<size>\d+) bytes)?"
)
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(text: str) -> float:
    """Seconds in a Go time.Duration string ("9.2s", "1m2.5s", "850ms", "0s")."""
    if text == "0":
        return 0.0
    parts = _GO_DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a Go duration: {text!r}")
    return sum(float(number) * _GO_UNITS[unit] for number, unit in parts)


@dataclass(frozen=True)
class PulledImage:
    image: str
    seconds: float  # the kubelet's own measurement of the pull
    waiting_seconds: float | None  # including time queued behind other pulls (1.25+)
    size_bytes: int | None  # 1.28+


def parse_pulled_message(message: str) -> PulledImage | None:
    """The pull measurement in a ``Pulled`` event message; None for "already present" and others."""
    match = _PULLED.match(message or "")
    if match is None:
        return None
    return PulledImage(
        image=match["image"],
        seconds=parse_go_duration(match["took"]),
        waiting_seconds=parse_go_duration(match["waiting"]) if match["waiting"] else None,
        size_bytes=int(match["size"]) if match["size"] else None,
    )


def parse_time(value: str | datetime | None) -> datetime | None:
    """RFC 3339 timestamps as the API writes them ("2023-09-05T10:11:33Z", with micro/nano seconds)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = re.sub(r"(\.\d{6})\d+", r"\1", value)  # nanoseconds: Python keeps microseconds
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class StartPhases:
    namespace: str
    name: str
    created: datetime | None
    scheduled: datetime | None
    kubelet_started: datetime | None
    pulling: datetime | None
    pulled: datetime | None
    running: datetime | None
    ready: datetime | None
    pulls: tuple[PulledImage, ...] = ()

    @staticmethod
    def _between(start: datetime | None, end: datetime | None) -> float | None:
        return None if start is None or end is None else (end - start).total_seconds()

    @property
    def to_scheduled(self) -> float | None:
        """Scheduling plus, on Fargate, capacity provisioning and node registration."""
        return self._between(self.created, self.scheduled)

    @property
    def image_pull(self) -> float | None:
        """Pull time: the kubelet's measurement when present, else Pulling -> Pulled events."""
        if self.pulls:
            return sum(p.seconds for p in self.pulls)
        return self._between(self.pulling, self.pulled)

    @property
    def to_running(self) -> float | None:
        return self._between(self.created, self.running)

    @property
    def running_to_ready(self) -> float | None:
        return self._between(self.running, self.ready)

    @property
    def to_ready(self) -> float | None:
        """The start time an operator feels: creation until the pod is Ready."""
        return self._between(self.created, self.ready)

    @property
    def image_bytes(self) -> int | None:
        sizes = [p.size_bytes for p in self.pulls if p.size_bytes is not None]
        return sum(sizes) if sizes else None


def _condition_time(pod: Pod, kind: str) -> datetime | None:
    condition = pod.condition(kind)
    return condition.last_transition if condition is not None and condition.status == "True" else None


def _event_time(event: Event) -> datetime | None:
    return event.first_seen or event.last_seen


_NEVER = datetime.min.replace(tzinfo=timezone.utc)


def events_for_pod(pod: Pod, events: Iterable[Event]) -> list[Event]:
    """Events about this pod (same namespace and name, and same uid when both sides have one,
    so a recreated StatefulSet pod doesn't inherit its predecessor's events), oldest first."""
    namespace = pod.namespace or "default"
    mine = [
        e for e in events
        if (e.kind or "Pod") == "Pod" and e.name == pod.name and (e.namespace or "default") == namespace
        and not (pod.uid and e.object_uid and e.object_uid != pod.uid)
    ]  # fmt: skip
    return sorted(mine, key=lambda e: _event_time(e) or _NEVER)


def pod_start_phases(pod: Pod, events: Iterable[Event] = ()) -> StartPhases:
    """When each phase of this pod's start happened (None for phases not reached or not recorded)."""
    mine = events_for_pod(pod, events)
    pulling = [_event_time(e) for e in mine if e.reason == "Pulling"]
    pulled_events = [(e, parse_pulled_message(e.message)) for e in mine if e.reason == "Pulled"]
    real_pulls = [(e, p) for e, p in pulled_events if p is not None]
    running = [s.running_since for s in pod.container_statuses]
    all_running = bool(running) and all(t is not None for t in running)
    return StartPhases(
        namespace=pod.namespace or "default",
        name=pod.name or "?",
        created=pod.created,
        scheduled=_condition_time(pod, "PodScheduled"),
        kubelet_started=pod.started,
        pulling=pulling[0] if pulling else None,
        pulled=_event_time(real_pulls[-1][0]) if real_pulls else None,
        running=max(running) if all_running else None,  # type: ignore[type-var]
        ready=_condition_time(pod, "Ready"),
        pulls=tuple(p for _, p in real_pulls),
    )


def nearest_rank(values: Sequence[float], percentile: float) -> float:
    """Nearest-rank percentile of a non-empty sample (0 < percentile <= 100)."""
    if not values:
        raise ValueError("percentile of an empty sample")
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    ordered = sorted(values)
    return ordered[math.ceil(percentile / 100 * len(ordered)) - 1]


@dataclass(frozen=True)
class StartStats:
    namespace: str
    count: int  # pods that reached Ready
    not_ready: int  # pods still starting (or never recorded as Ready)
    p50: float | None
    p95: float | None
    max: float | None
    target: float
    over_target: int  # Ready pods slower than the target

    @property
    def meets_target(self) -> bool | None:
        return None if self.p95 is None else self.p95 <= self.target


def summarize(namespace: str, phases: Iterable[StartPhases], target: float = DEFAULT_TARGET_SECONDS) -> StartStats:
    """Creation-to-Ready statistics (nearest-rank p50/p95) for one group of pods."""
    phases = list(phases)
    samples = [p.to_ready for p in phases if p.to_ready is not None]
    return StartStats(
        namespace=namespace,
        count=len(samples),
        not_ready=len(phases) - len(samples),
        p50=nearest_rank(samples, 50) if samples else None,
        p95=nearest_rank(samples, 95) if samples else None,
        max=max(samples) if samples else None,
        target=target,
        over_target=sum(s > target for s in samples),
    )


def ready_stats_by_namespace(to_ready: Mapping[str, float | None], target: float = DEFAULT_TARGET_SECONDS) -> list[StartStats]:
    """Creation-to-Ready statistics per namespace from seconds-to-Ready keyed "namespace/pod"
    (the Assessment's ``start``), sorted by namespace: what the change report shows."""
    groups: dict[str, list[float | None]] = defaultdict(list)
    for key, seconds in to_ready.items():
        groups[key.split("/", 1)[0]].append(seconds)
    result = []
    for namespace in sorted(groups):
        samples = [s for s in groups[namespace] if s is not None]
        result.append(StartStats(
            namespace=namespace, count=len(samples), not_ready=len(groups[namespace]) - len(samples),
            p50=nearest_rank(samples, 50) if samples else None, p95=nearest_rank(samples, 95) if samples else None,
            max=max(samples) if samples else None, target=target, over_target=sum(s > target for s in samples)))
    return result


def start_time_stats(phases: Iterable[StartPhases], target: float = DEFAULT_TARGET_SECONDS) -> list[StartStats]:
    """``summarize`` per namespace, sorted by namespace."""
    if target <= 0:
        raise ValueError(f"start-time target must be positive, got {target}")
    groups: dict[str, list[StartPhases]] = defaultdict(list)
    for phase in phases:
        groups[phase.namespace].append(phase)
    return [summarize(ns, groups[ns], target) for ns in sorted(groups)]
