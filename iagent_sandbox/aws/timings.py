"""How long the sandbox's AWS resources take to change state, in simulated seconds.

Each is a (low, high) range; the actual duration is drawn per object from the clock's seeded stream
so a run is repeatable. Defaults follow DOMAIN.md §3.3 (profile create 20 s to 6 min, delete about
2 min); the add-on and node group ranges are unverified guesses and therefore configurable.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clock import SandboxClock


@dataclass(frozen=True)
class AwsTimings:
    profile_create: tuple[float, float] = (20.0, 360.0)
    profile_delete: tuple[float, float] = (110.0, 130.0)
    nodegroup_update: tuple[float, float] = (15.0, 60.0)
    addon_create: tuple[float, float] = (20.0, 60.0)
    addon_update: tuple[float, float] = (20.0, 60.0)
    addon_delete: tuple[float, float] = (15.0, 45.0)

    def __post_init__(self) -> None:
        for name, (low, high) in self.__dict__.items():
            if low < 0 or high < low:
                raise ValueError(f"timing {name} must be a (low, high) range with 0 <= low <= high")

    def draw(self, clock: SandboxClock, kind: str, key: str) -> float:
        low, high = getattr(self, kind)
        return clock.draw(key, low, high)
