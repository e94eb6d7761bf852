"""Start times before and after the move: per namespace and compute type (EC2 = before, Fargate =
after), creation-to-Ready p50/p95/max against the target, and the slowest phase.

Phases come from the Assessment's per-pod StartTimes: scheduling (on Fargate this includes
capacity provisioning and node registration, DOMAIN.md 7.3), image pull (the kubelet's own
measurement), and the rest until Ready (container start, probes). The slowest phase of a group
is the one with the largest median; percentiles are nearest-rank, as everywhere else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..model import Pod
from .startup import nearest_rank

PHASES = ("scheduling", "image pull", "start to Ready")
COMPUTE_LABEL = {"ec2": "EC2 (before)", "fargate": "Fargate (after)"}


@dataclass(frozen=True)
class StartRow:
    namespace: str
    compute: str                  # "EC2 (before)" / "Fargate (after)"
    ready: int
    p50: float | None
    p95: float | None
    max: float | None
    target: float
    slowest_phase: str | None
    slowest_phase_p50: float | None

    @property
    def meets_target(self) -> bool | None:
        return None if self.p95 is None else self.p95 <= self.target


def _phases(times) -> dict[str, float]:
    out: dict[str, float] = {}
    if times.scheduled is not None:
        out["scheduling"] = times.scheduled
    if times.pull_seconds is not None:
        out["image pull"] = times.pull_seconds
    if times.ready is not None and times.scheduled is not None:
        out["start to Ready"] = max(0.0, times.ready - times.scheduled - (times.pull_seconds or 0.0))
    return out


def start_comparison(pods: Iterable[Pod], start: Mapping[str, object], target: float) -> list[StartRow]:
    """One row per namespace and compute type that has pods, EC2 first."""
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for pod in pods:
        times = start.get(pod.key)
        if times is None or pod.compute_type not in COMPUTE_LABEL:
            continue
        groups[(pod.namespace or "default", pod.compute_type)].append(times)
    rows = []
    for (namespace, compute), members in sorted(groups.items()):
        ready = [t.ready for t in members if t.ready is not None]
        by_phase: dict[str, list[float]] = defaultdict(list)
        for t in members:
            for phase, seconds in _phases(t).items():
                by_phase[phase].append(seconds)
        medians = {p: nearest_rank(v, 50) for p, v in by_phase.items() if v}
        slowest = max(PHASES, key=lambda p: medians.get(p, -1.0)) if medians else None
        rows.append(StartRow(namespace, COMPUTE_LABEL[compute], len(ready),
                             nearest_rank(ready, 50) if ready else None, nearest_rank(ready, 95) if ready else None,
                             max(ready) if ready else None, target, slowest,
                             medians.get(slowest) if slowest else None))
    return rows


__all__ = ["PHASES", "StartRow", "start_comparison"]
