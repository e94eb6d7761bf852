"""One clock for the whole sandbox.

Real durations (from DOMAIN.md) are divided by ``speed``; timestamps written into Kubernetes
objects and AWS resources are *simulated* time, so a pod that took 55 simulated seconds to start
shows 55 s in its conditions even though it took 5.5 s of wall time at speed 10. The Kubernetes API
server sends simulated time in its ``Date`` header, so a client can measure the skew the way it would
against any server whose clock differs from its own.

Random draws are repeatable: every component asks for its own stream by a stable key, so the order
in which asyncio tasks happen to run does not change what each one draws.
"""

from __future__ import annotations

import asyncio
import random
import time
import zlib
from datetime import datetime, timedelta, timezone


class SandboxClock:
    def __init__(self, speed: float = 10.0, seed: int = 0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be greater than 0")
        self.speed = float(speed)
        self.seed = int(seed)
        self._start = start or datetime.now(timezone.utc).replace(microsecond=0)
        self._wall_anchor = time.monotonic()
        self._sim_anchor = 0.0  # simulated seconds elapsed at _wall_anchor

    # -- time -----------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Simulated seconds since the sandbox started."""
        return self._sim_anchor + (time.monotonic() - self._wall_anchor) * self.speed

    def set_speed(self, speed: float) -> None:
        """Change speed without a jump in simulated time (used to fast-forward a scenario's
        bootstrap so its workloads are already running when the sandbox reports ready)."""
        if speed <= 0:
            raise ValueError("speed must be greater than 0")
        self._sim_anchor = self.elapsed()
        self._wall_anchor = time.monotonic()
        self.speed = float(speed)

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.elapsed())

    def at(self, sim_seconds: float) -> datetime:
        """The simulated time ``sim_seconds`` after the sandbox started."""
        return self._start + timedelta(seconds=sim_seconds)

    def wall_seconds(self, sim_seconds: float) -> float:
        return max(0.0, sim_seconds) / self.speed

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
