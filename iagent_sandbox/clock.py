"""One clock for the whole sandbox.

Real durations (from DOMAIN.md) are divided by ``speed``; timestamps written into Kubernetes
objects and AWS resources are *simulated* time, so a pod that took 55 simulated seconds to start
shows 55 s in its conditions even though it took 5.5 s of wall time at speed 10. The Kubernetes API
server sends simulated time in its ``Date`` header, so a client can measure the skew the way it would
against any server whose clock differs from its own.

Simulated time must never run ahead of the wall clock: clients such as ``kubectl describe`` compute
ages on their own clock, and a timestamp in their future reads ``<invalid>``. So a sandbox's clock
(``lead`` given) starts its history ``lead`` simulated seconds in the past, runs at ``speed`` while
it is behind the wall clock and at real time once it has caught up. ``behind_wall_lead`` says how far
back to start for a bootstrap fast-forward and a stretch of wall time at speed.

Random draws are repeatable: every component asks for its own stream by a stable key, so the order
in which asyncio tasks happen to run does not change what each one draws.
"""

from __future__ import annotations

import asyncio
import random
import time
import zlib
from datetime import datetime, timedelta, timezone


def behind_wall_lead(speed: float, bootstrap: float, headroom: float) -> float:
    """Simulated seconds to start in the past so that a bootstrap fast-forward of up to
    ``bootstrap`` simulated seconds and then ``headroom`` wall seconds at ``speed`` all happen
    before simulated time catches up with the wall clock."""
    return bootstrap + headroom * max(0.0, speed - 1.0)


class SandboxClock:
    def __init__(self, speed: float = 10.0, seed: int = 0, start: datetime | None = None,
                 lead: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be greater than 0")
        if lead is not None and (start is not None or lead < 0):
            raise ValueError("lead is a number of seconds >= 0, and excludes start")
        self.speed = float(speed)
        self.seed = int(seed)
        wall_now = datetime.now(timezone.utc)
        if start is None:  # with a lead, exactly lead seconds behind (timestamps show seconds)
            start = wall_now - timedelta(seconds=lead) if lead is not None else \
                wall_now.replace(microsecond=0)
        self._start = start
        self._wall_anchor = time.monotonic()
        self._sim_anchor = 0.0  # simulated seconds elapsed at _wall_anchor
        # With a lead, simulated time is capped at the wall clock: the elapsed seconds that
        # equal wall-clock now, at _wall_anchor (None: no cap).
        self._ceiling_anchor = (wall_now - self._start).total_seconds() if lead is not None else None

    # -- time -----------------------------------------------------------------------------
    def _ceiling(self, since_anchor: float) -> float:
        return float("inf") if self._ceiling_anchor is None else self._ceiling_anchor + since_anchor

    def elapsed(self) -> float:
        """Simulated seconds since the sandbox's history started."""
        since = time.monotonic() - self._wall_anchor
        return min(self._sim_anchor + since * self.speed, self._ceiling(since))

    def behind_wall(self) -> float:
        """Simulated seconds the clock is behind the wall clock (inf without a cap)."""
        since = time.monotonic() - self._wall_anchor
        return self._ceiling(since) - min(self._sim_anchor + since * self.speed, self._ceiling(since))

    def rate(self) -> float:
        """Simulated seconds per wall second right now: speed, or 1 once caught up."""
        return self.speed if self.speed <= 1 or self.behind_wall() > 0 else 1.0

    def set_speed(self, speed: float) -> None:
        """Change speed without a jump in simulated time (used to fast-forward a scenario's
        bootstrap so its workloads are already running when the sandbox reports ready)."""
        if speed <= 0:
            raise ValueError("speed must be greater than 0")
        now = time.monotonic()
        since = now - self._wall_anchor
        self._sim_anchor = min(self._sim_anchor + since * self.speed, self._ceiling(since))
        if self._ceiling_anchor is not None:
            self._ceiling_anchor += since
        self._wall_anchor = now
        self.speed = float(speed)

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.elapsed())

    def at(self, sim_seconds: float) -> datetime:
        """The simulated time ``sim_seconds`` after the sandbox started."""
        return self._start + timedelta(seconds=sim_seconds)

    def wall_seconds(self, sim_seconds: float) -> float:
        """Wall seconds until the clock has advanced sim_seconds: at speed while behind the wall
        clock, at real time after catching up."""
        sim = max(0.0, sim_seconds)
        gap = self.behind_wall()
        if self.speed <= 1 or gap == float("inf"):
            return sim / self.speed
        if gap <= 0:
            return sim
        catch_up = gap / (self.speed - 1)  # wall seconds until simulated time meets wall time
        if sim <= catch_up * self.speed:
            return sim / self.speed
        return catch_up + (sim - catch_up * self.speed)

    async def sleep(self, sim_seconds: float) -> None:
        await asyncio.sleep(self.wall_seconds(sim_seconds))

    # -- randomness -----------------------------------------------------------------------
    def rng(self, key: str) -> random.Random:
        """A deterministic random stream for one component or object (same seed+key, same draws)."""
        return random.Random(zlib.crc32(f"{self.seed}:{key}".encode()))

    def draw(self, key: str, low: float, high: float) -> float:
        return self.rng(key).uniform(low, high)


def rfc3339(dt: datetime) -> str:
    """Kubernetes' timestamp format: second precision, UTC, trailing Z."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
