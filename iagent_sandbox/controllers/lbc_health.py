"""ELB target health over simulated time, as a pure state machine (DOMAIN.md 6.6).

A registered target shows ``initial / Elb.RegistrationInProgress`` while ELB wires it up, then
``initial / Elb.InitialHealthChecking`` while health checks run. A run of HealthyThresholdCount
passing checks (one every interval) makes it ``healthy``; UnhealthyThresholdCount failing ones make
it ``unhealthy`` with the reason of the failure. A target being deregistered shows
``draining / Target.DeregistrationInProgress`` for the deregistration delay, then disappears.

The caller observes the pod behind a target (``Probe``) whenever the pod changes and calls
``advance`` at the times ``next_change`` asks for; nothing here sleeps or polls.
"""

from __future__ import annotations

from dataclasses import dataclass

DESCRIPTIONS = {
    "Elb.RegistrationInProgress": "Target registration is in progress",
    "Elb.InitialHealthChecking": "Initial health checks in progress",
    "Elb.InternalError": "Health checks failed due to an internal error",
    "Target.DeregistrationInProgress": "Target deregistration is in progress",
    "Target.FailedHealthChecks": "Health checks failed",
    "Target.Timeout": "Request timed out",
    "Target.NotRegistered": "Target is not registered to the target group",
}


def response_code_mismatch(code: int) -> tuple[str, str]:
    return "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{code}]"


@dataclass(frozen=True)
class Probe:
    """What one health check against the target would get now."""
    ok: bool
    reason: str | None = None        # the ELB reason when not ok
    description: str | None = None

    @classmethod
    def passing(cls) -> "Probe":
        return cls(True)

    @classmethod
    def failing(cls, reason: str, description: str | None = None) -> "Probe":
        return cls(False, reason, description or DESCRIPTIONS.get(reason, reason))


@dataclass
class TargetHealth:
    registered_at: float
    checks_start: float              # registered_at + the time ELB takes to register the target
    interval: int = 15
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2
    state: str = "initial"
    reason: str | None = "Elb.RegistrationInProgress"
    description: str | None = DESCRIPTIONS["Elb.RegistrationInProgress"]
    probe: Probe | None = None
    probe_since: float = 0.0         # when the current probe outcome began
    draining_until: float | None = None

    # -- transitions ------------------------------------------------------------------------
    def observe(self, probe: Probe, now: float) -> None:
        """The pod behind the target changed: a new outcome starts its own run of checks."""
        if probe != self.probe:
            self.probe = probe
            self.probe_since = max(now, self.checks_start)

    def start_draining(self, now: float, delay: float) -> None:
        if self.draining_until is None:
            self.draining_until = now + delay
            self._set("draining", "Target.DeregistrationInProgress")

    def advance(self, now: float) -> bool:
        """Bring the state up to ``now``; True when State/Reason/Description changed."""
        before = (self.state, self.reason, self.description)
        if self.draining_until is not None:
            pass
        elif now < self.checks_start:
            self._set("initial", "Elb.RegistrationInProgress")
        elif self.probe is None:
            self._set("initial", "Elb.InitialHealthChecking")
        else:
            due = self._verdict_due()
            if now >= due:
                if self.probe.ok:
                    self._set("healthy", None)
                else:
                    self._set("unhealthy", self.probe.reason, self.probe.description)
            elif self.state == "initial":
                self._set("initial", "Elb.InitialHealthChecking")
        return before != (self.state, self.reason, self.description)

    def gone(self, now: float) -> bool:
        """Draining is over: the target is no longer in the target group."""
        return self.draining_until is not None and now >= self.draining_until

    def next_change(self, now: float) -> float | None:
        """The simulated time at which ``advance``/``gone`` may change something, if any."""
        if self.draining_until is not None:
            return self.draining_until if now < self.draining_until else None
        if now < self.checks_start:
            return self.checks_start
        if self.probe is None:
            return None
        due = self._verdict_due()
        verdict = "healthy" if self.probe.ok else "unhealthy"
        if self.state == verdict and (self.probe.ok or self.reason == self.probe.reason):
            return None
        return due if due > now else now

    # -- helpers ----------------------------------------------------------------------------
    def _verdict_due(self) -> float:
        needed = self.healthy_threshold if self.probe.ok else self.unhealthy_threshold
        return self.probe_since + needed * self.interval

    def _set(self, state: str, reason: str | None, description: str | None = None) -> None:
        self.state = state
        self.reason = reason
        self.description = description if description is not None else (
            DESCRIPTIONS.get(reason) if reason else None)


# -- shared registry -----------------------------------------------------------------------------
@dataclass
class TargetEntry:
    """A registered target as the load balancer controller knows it: its health over time and the
    pods that answer behind it (one pod for an ip target; the service's pods behind a node's
    NodePort for an instance target)."""
    target_id: str
    port: int
    health: TargetHealth
    pods: tuple[tuple[str, str], ...] = ()


def target_registry(world) -> dict[str, dict[tuple[str, int], TargetEntry]]:
    """target group ARN -> (target id, port) -> entry; written by lbc.py, read by the ALB front."""
    return world.extras.setdefault("lbc_targets", {})
