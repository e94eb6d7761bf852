"""Simulated timestamps in the forms moto and the EKS JSON protocol use."""

from __future__ import annotations

from datetime import datetime, timezone

from ..clock import SandboxClock


def moto_now(clock: SandboxClock) -> datetime:
    """moto stores naive UTC datetimes (its ``utcnow()``); keep resources we touch consistent."""
    return clock.now().astimezone(timezone.utc).replace(tzinfo=None)


def epoch(dt: datetime) -> float:
    """rest-json timestamps are epoch seconds."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt
