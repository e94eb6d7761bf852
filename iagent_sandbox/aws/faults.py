"""Faults injected at the gateway, switchable while the sandbox runs (throttling, 5xx, latency)."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from ..clock import SandboxClock
from .engine import HttpReply
from .protocol import canonical_service, server_error_reply, throttling_reply


@dataclass
class AwsFaults:
    """Rates are probabilities per request (0..1). ``services`` limits faults to these services
    (``eks``, ``ec2``, ``iam``, ``sts``, ``elbv2``); ``None`` means every service.
    ``latency_seconds`` is wall-clock time added before answering: a client's timeouts and an
    operator's patience run on wall time, not on the sandbox's simulated clock."""

    throttle_rate: float = 0.0
    error_rate: float = 0.0
    latency_seconds: float = 0.0
    services: set[str] | None = None

    def validate(self) -> None:
        for name in ("throttle_rate", "error_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.throttle_rate + self.error_rate > 1.0:
            raise ValueError("throttle_rate + error_rate must not exceed 1")
        if self.latency_seconds < 0:
            raise ValueError(f"latency_seconds must be >= 0, got {self.latency_seconds}")

    def applies_to(self, service: str | None) -> bool:
        if self.services is None:
            return True
        wanted = {canonical_service(s) for s in self.services}
        return service is not None and canonical_service(service) in wanted


@dataclass
class FaultDecision:
    latency_seconds: float = 0.0
    reply: HttpReply | None = None  # an error to answer instead of serving the request


@dataclass
class FaultInjector:
    """Draws from the clock's seeded stream per service, so a run with the same seed and the same
    request sequence fails the same requests."""

    clock: SandboxClock
    faults: AwsFaults = field(default_factory=AwsFaults)
    _streams: dict[str, random.Random] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def decide(self, service: str | None) -> FaultDecision:
        faults = self.faults
        if not faults.applies_to(service):
            return FaultDecision()
        decision = FaultDecision(latency_seconds=max(0.0, faults.latency_seconds))
        if faults.throttle_rate <= 0 and faults.error_rate <= 0:
            return decision
        faults.validate()
        key = service or "unsigned"
        with self._lock:
            stream = self._streams.setdefault(key, self.clock.rng(f"aws-faults:{key}"))
            roll = stream.random()
            unavailable = stream.random() < 0.5
        if roll < faults.throttle_rate:
            decision.reply = throttling_reply(service)
        elif roll < faults.throttle_rate + faults.error_rate:
            decision.reply = server_error_reply(service, unavailable)
        return decision
