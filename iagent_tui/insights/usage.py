"""Container usage over a window, from metrics.k8s.io PodMetrics samples: the input of right-sizing.

metrics-server keeps only its latest scrape (one per ``--metric-resolution``, 15 s by default), so
a p95 over ten minutes needs someone to read it over ten minutes: the dashboard's monitor does it
all the time it runs, ``status``/``report --usage-window`` for the window asked. Every reading
goes through ``UsageRecord.add``:

* a sample is one container of one pod at one scrape: the PodMetrics ``timestamp`` identifies the
  scrape, so reading faster than metrics-server scrapes adds nothing twice;
* samples are pooled per workload and container name ("Deployment/prod/api", "api"): replicas
  and the pods a rollout replaces speak for the same request;
* each pool is a bounded ring (``RING`` samples) and keeps only the samples whose timestamp lies
  within the window of the newest one (the cluster's clock, not this machine's);
* p95 is the nearest rank (an observed value, as for start times), per resource separately.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from .quantities import memory_bytes, parse_quantity
from .startup import nearest_rank, parse_time

RING = 5760  # samples per workload container: a day of scrapes of one replica, an hour of 24 replicas
DEFAULT_WINDOW_SECONDS = 600.0
RECORD_KIND = "iagent-tui/usage-record/v1"


@dataclass(frozen=True)
class UsageStat:
    """What one workload's container used over the window."""
    workload: str            # "Deployment/prod/iagent-api"
    container: str
    samples: int
    pods: int                # distinct pods the samples came from
    cpu_p95_millicores: float
    memory_p95_bytes: int
    cpu_max_millicores: float
    memory_max_bytes: int


@dataclass(frozen=True)
class UsageSummary:
    """The record at one moment. ``not_evaluated``: why there is no usage at all (metrics API
    absent or refused); empty when samples were read, even if none matched a workload yet."""
    window_seconds: float
    first: datetime | None = None
    last: datetime | None = None
    scrapes: int = 0          # distinct scrape timestamps in the window
    stats: Mapping[tuple[str, str], UsageStat] = field(default_factory=lambda: MappingProxyType({}))
    not_evaluated: str = ""
    source: str = ""          # where the samples came from, for the report ("sampled 10m by report")

    @property
    def span_seconds(self) -> float:
        return 0.0 if self.first is None or self.last is None else (self.last - self.first).total_seconds()


def _cpu_millicores(value: str) -> float:
    return float(parse_quantity(value) * 1000)


class UsageRecord:
    """The bounded rings of samples (see the module docstring). Not thread-safe; one owner."""

    def __init__(self, window_seconds: float = DEFAULT_WINDOW_SECONDS, ring: int = RING) -> None:
        if window_seconds <= 0:
            raise ValueError(f"usage window must be positive, got {window_seconds} s")
        self.window_seconds = float(window_seconds)
        self._ring = ring
        # (workload, container) -> (timestamp, pod, cpu millicores, memory bytes), oldest first
        self._pools: dict[tuple[str, str], deque[tuple[datetime, str, float, int]]] = {}
        self._seen: dict[tuple[str, str, str], datetime] = {}  # (ns, pod, container) -> last scrape taken
        self.not_evaluated = ""
        self.unmatched = 0  # samples of pods no workload was known for
        self.source = ""

    def fail(self, reason: str) -> None:
        """The metrics API could not be read: say why (kept until a read succeeds)."""
        self.not_evaluated = reason

    def add(self, items: Iterable[Mapping], workload_of: Callable[[str, str], str | None]) -> int:
        """Take one PodMetricsList's items; returns how many new samples were kept."""
        self.not_evaluated = ""
        added = 0
        newest: datetime | None = None
        for item in items:
            meta = item.get("metadata") or {}
            namespace, pod = meta.get("namespace") or "default", meta.get("name") or ""
            try:
                stamp = parse_time(item.get("timestamp"))
            except ValueError:
                continue
            if stamp is None:
                continue
            workload = workload_of(namespace, pod)
            for container in item.get("containers") or ():
                name, usage = container.get("name") or "", container.get("usage") or {}
                seen_key = (namespace, pod, name)
                if self._seen.get(seen_key) is not None and self._seen[seen_key] >= stamp:
                    continue  # the same scrape read again
                try:
                    cpu, memory = _cpu_millicores(usage.get("cpu", "0")), memory_bytes(usage.get("memory", "0"))
                except ValueError:
                    continue
                if workload is None:  # not marked seen: read again once the pod's workload is known
                    self.unmatched += 1
                    continue
                self._seen[seen_key] = stamp
                pool = self._pools.setdefault((workload, name), deque(maxlen=self._ring))
                pool.append((stamp, pod, cpu, memory))
                added += 1
                newest = stamp if newest is None or stamp > newest else newest
        if newest is not None:
            self._prune(newest)
        return added

    def _prune(self, newest: datetime) -> None:
        oldest = newest - timedelta(seconds=self.window_seconds)
        for key in list(self._pools):
            pool = self._pools[key]
            while pool and pool[0][0] < oldest:
                pool.popleft()
            if not pool:
                del self._pools[key]
        self._seen = {k: t for k, t in self._seen.items() if t >= oldest}

    def to_document(self) -> dict:
        """The samples as JSON-ready data (the dashboard saves it; ``from_document`` reads it back)."""
        return {"kind": RECORD_KIND, "window_seconds": self.window_seconds,
                "samples": [[workload, container, stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), pod, cpu, memory]
                            for (workload, container), pool in sorted(self._pools.items())
                            for stamp, pod, cpu, memory in pool]}

    @classmethod
    def from_document(cls, doc: object, window_seconds: float, source: str = "") -> "UsageRecord":
        """A record from ``to_document``'s data, kept to the last ``window_seconds`` of it.
        ValueError saying what is wrong when the data is not such a record."""
        if not isinstance(doc, dict) or doc.get("kind") != RECORD_KIND or not isinstance(doc.get("samples"), list):
            raise ValueError(f"not a usage record (expected the JSON the dashboard saves, kind {RECORD_KIND!r})")
        record = cls(window_seconds)
        record.source = source
        newest = None
        for row in doc["samples"]:
            try:
                workload, container, stamp, pod, cpu, memory = row
                when = parse_time(stamp)
                sample = (when, str(pod), float(cpu), int(memory))
            except (TypeError, ValueError):
                raise ValueError(f"malformed usage sample {row!r}: expected [workload, container, timestamp, "
                                 "pod, cpu millicores, memory bytes]") from None
            record._pools.setdefault((str(workload), str(container)), deque(maxlen=record._ring)).append(sample)
            newest = when if newest is None or when > newest else newest
        for pool in record._pools.values():
            ordered = sorted(pool)
            pool.clear()
            pool.extend(ordered)
        if newest is not None:
            record._prune(newest)
        return record

    def summary(self) -> UsageSummary:
        stats: dict[tuple[str, str], UsageStat] = {}
        stamps: set[datetime] = set()
        for (workload, container), pool in sorted(self._pools.items()):
            cpus = [s[2] for s in pool]
            memories = [s[3] for s in pool]
            stamps.update(s[0] for s in pool)
            stats[(workload, container)] = UsageStat(
                workload, container, len(pool), len({s[1] for s in pool}),
                nearest_rank(cpus, 95), int(nearest_rank(memories, 95)), max(cpus), max(memories))
        return UsageSummary(self.window_seconds, min(stamps, default=None), max(stamps, default=None), len(stamps),
                            MappingProxyType(stats), self.not_evaluated, self.source)


__all__ = ["DEFAULT_WINDOW_SECONDS", "RING", "UsageRecord", "UsageStat", "UsageSummary"]
