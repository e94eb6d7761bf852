"""Target health that a controller decides (the sandbox's load balancer controller, elsewhere).

moto reports every registered target ``healthy`` at once. Real targets start ``initial``, flap,
drain for the deregistration delay; the controller that simulates that calls ``set`` and ``clear``
here, and DescribeTargetHealth (served by moto, so its XML is moto's) reports those states. The
override is applied by wrapping the ELBv2 backend's ``describe_target_health`` on the instance; it
is re-applied before every ELBv2 request because a moto reset replaces the instance's attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STATES = {"initial", "healthy", "unhealthy", "unhealthy.draining", "unused", "draining", "unavailable"}
REASONS = {
    "Elb.RegistrationInProgress", "Elb.InitialHealthChecking", "Target.ResponseCodeMismatch",
    "Target.Timeout", "Target.FailedHealthChecks", "Target.NotRegistered", "Target.NotInUse",
    "Target.DeregistrationInProgress", "Target.InvalidState", "Target.IpUnusable",
    "Target.HealthCheckDisabled", "Elb.InternalError",
}
# ELB user guide, "Health checks for your target groups" (DOMAIN.md §6.6).
DESCRIPTIONS = {
    "Elb.InitialHealthChecking": "Initial health checks in progress",
    "Elb.InternalError": "Health checks failed due to an internal error",
    "Elb.RegistrationInProgress": "Target registration is in progress",
    "Target.DeregistrationInProgress": "Target deregistration is in progress",
    "Target.FailedHealthChecks": "Health checks failed",
    "Target.HealthCheckDisabled": "Health checks are disabled",
    "Target.InvalidState": "Target is in an invalid state",
    "Target.IpUnusable": "The IP address cannot be used as a target, as it is in use by a load balancer",
    "Target.NotInUse": "Target group is not configured to receive traffic from the load balancer",
    "Target.NotRegistered": "Target is not registered to the target group",
    "Target.ResponseCodeMismatch": "Health checks failed with these codes: [502]",
    "Target.Timeout": "Request timed out",
}


@dataclass(frozen=True)
class TargetState:
    state: str
    reason: str | None
    description: str | None


class _Health:
    """Duck-types moto's FakeHealthStatus for moto's serializer."""

    def __init__(self, target_id: str, port: Any, health_port: Any, state: TargetState) -> None:
        self.instance_id = target_id
        self.port = port
        self.health_check_port = health_port
        self.status = state.state
        self.reason = state.reason
        self.description = state.description

    @property
    def target(self) -> dict[str, Any]:
        return {"Id": self.instance_id, "Port": self.port}

    @property
    def target_health(self) -> dict[str, Any]:
        return {"State": self.status, "Reason": self.reason, "Description": self.description}


class TargetHealthOverrides:
    def __init__(self) -> None:
        self._states: dict[tuple[str, str, int], TargetState] = {}

    def set(self, tg_arn: str, target_id: str, port: int, state: str,
            reason: str | None = None, description: str | None = None) -> None:
        if state not in STATES:
            raise ValueError(f"target state must be one of {sorted(STATES)}, got {state!r}")
        if state == "healthy" and (reason or description):
            raise ValueError("a healthy target has no reason or description")
        if reason is not None and reason not in REASONS:
            raise ValueError(f"target health reason must be one of {sorted(REASONS)}, got {reason!r}")
        if reason is not None and description is None:
            description = DESCRIPTIONS[reason]
        self._states[(tg_arn, target_id, int(port))] = TargetState(state, reason, description)

    def clear(self, tg_arn: str, target_id: str, port: int) -> None:
        self._states.pop((tg_arn, target_id, int(port)), None)

    def get(self, tg_arn: str, target_id: str, port: int) -> TargetState | None:
        return self._states.get((tg_arn, target_id, int(port)))

    def install(self, elbv2: Any) -> None:
        if getattr(elbv2, "_sandbox_target_health", None) is self:
            return
        original = type(elbv2).describe_target_health
        overrides = self

        def describe_target_health(target_group_arn: str, targets: list[dict[str, Any]]) -> list[Any]:
            results = original(elbv2, target_group_arn, targets)
            group = elbv2.target_groups[target_group_arn]
            out = [overrides._apply(group, r) for r in results]
            if not targets:
                # Deregistered targets still draining are listed until the controller clears them.
                listed = {(str(r.instance_id), int(r.port)) for r in out}
                for (arn, target_id, port), state in overrides._states.items():
                    if arn == target_group_arn and (target_id, port) not in listed:
                        out.append(_Health(target_id, port, _health_port(group, port), state))
            return out

        elbv2.describe_target_health = describe_target_health
        elbv2._sandbox_target_health = self

    def _apply(self, group: Any, result: Any) -> Any:
        port = int(result.port)
        state = self.get(group.arn, str(result.instance_id), port)
        if state is None:
            if result.status == "unavailable" and result.reason == "Target.NotRegistered":
                # moto's text for unknown IP targets differs from ELB's.
                state = TargetState("unused", "Target.NotRegistered", DESCRIPTIONS["Target.NotRegistered"])
            else:
                state = TargetState(result.status, result.reason, result.description)
        return _Health(str(result.instance_id), port, _health_port(group, port), state)


def _health_port(group: Any, port: int) -> str:
    configured = getattr(group, "health_check_port", None)
    return str(port) if configured in (None, "", "traffic-port") else str(configured)
