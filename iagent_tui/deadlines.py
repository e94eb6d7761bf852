"""How long each kind of wait may take before an action gives up and says why: one table, each
value the slowest duration DOMAIN.md reports for that wait with a margin on top, plain data (no
imports) so that the settings can validate ``waits:`` against it and the actions read it.

``waits:`` in iagent.yaml overrides any kind in seconds and may scale them all, e.g.
``waits: {scale: 2, profile-active: 900}``. A cluster that runs faster than real time (the
sandbox's ``--speed N``) gets ``scale: 1/N``, as IAGENT_ACTION_POLL_SECONDS speeds up polling.
"""

from __future__ import annotations

from collections.abc import Mapping

SCALE = "scale"
ROLLOUT = "rollout"
# A Deployment without spec.progressDeadlineSeconds gets Kubernetes' default.
DEFAULT_PROGRESS_DEADLINE = 600.0
# On top of a workload's own progressDeadlineSeconds: the controller reports ProgressDeadlineExceeded
# only once it observed the restart, and a Fargate pod start alone takes ~1 min (DOMAIN.md 7.1).
ROLLOUT_MARGIN = 1.5

# kind -> (seconds in real time, what the wait is, where the number comes from).
DEADLINES: dict[str, tuple[float | None, str, str]] = {
    "profile-active": (600.0, "a Fargate profile to become ACTIVE",
                       "DOMAIN 3.3: creates observed 19 s to 6 min; 3.1: the FargateProfileActive waiter gives 10 min"),
    "profile-deleted": (360.0, "a Fargate profile to be deleted",
                        "DOMAIN 3.3: deletes take ~2 min; x3"),
    "profiles-quiet": (960.0, "other Fargate profiles to finish changing",
                       "DOMAIN 3.2: one profile changes at a time; one create (10 min) plus one delete (6 min)"),
    "addon-settled": (600.0, "the CoreDNS add-on to finish an update",
                      "DOMAIN 4.3: the AddonActive waiter gives 10 s x 60 = 10 min"),
    "coredns-placed": (600.0, "CoreDNS pods Ready where they belong",
                       "DOMAIN 7.1: Fargate pod start ~1 min; 'Pod provisioning timed out (will retry)' "
                       "retries landed after 7 min"),
    "lbc-ready": (600.0, "the load balancer controller's 2 pods Ready",
                  "DOMAIN 6.2 (replicaCount 2 on Fargate) + 7.1 (pod start up to 7 min with retries)"),
    ROLLOUT: (None, "restarted workloads rolled out",
              "the workload's spec.progressDeadlineSeconds (default 600 s) x 1.5"),
    "nodegroup-active": (1200.0, "a node group to finish its update",
                         "not in DOMAIN (unverified): an EC2 launch plus join, twice over; configurable"),
    "nodes-ready": (900.0, "node group nodes Ready",
                    "not in DOMAIN (unverified): EC2 instance launch and kubelet join; configurable"),
    "ingress-address": (600.0, "an ALB hostname on the ingress",
                        "DOMAIN 6.5: first address after 2 min 32 s in AWS's example; x4"),
    "targets-healthy": (600.0, "healthy ALB targets",
                        "DOMAIN 6.6: the TargetInService waiter gives 15 s x 40 = 10 min"),
    "app-gone": (600.0, "the sample app and its ALB to be gone",
                 "DOMAIN 6.6: deregistration delay 300 s by default; x2"),
}


def _normalise(kind: str) -> str:
    return str(kind).strip().lower().replace("_", "-")


def check_waits(value: Mapping[object, object]) -> dict[str, float]:
    """``waits:`` with kinds normalised (``profile_active`` is ``profile-active``, so environment
    variables can name them), or ValueError with every problem on one line."""
    problems, checked = [], {}
    for raw_kind, raw_seconds in value.items():
        kind = _normalise(raw_kind)
        if kind != SCALE and kind not in DEADLINES:
            problems.append(f"unknown wait {raw_kind!r}; known: {SCALE}, {', '.join(DEADLINES)}")
            continue
        try:
            seconds = float(raw_seconds) if not isinstance(raw_seconds, bool) else float("nan")
        except (TypeError, ValueError):
            seconds = float("nan")
        if not seconds > 0 or seconds == float("inf"):
            what = "a factor" if kind == SCALE else "a number of seconds"
            problems.append(f"{raw_kind} must be {what} greater than 0, got {raw_seconds!r}")
            continue
        checked[kind] = seconds
    if problems:
        raise ValueError("; ".join(problems))
    return checked


def deadline_seconds(kind: str, waits: Mapping[str, float] | None = None, base: float | None = None) -> float:
    """The deadline of a wait of ``kind``: the setting if given, else the table (for rollouts:
    ``base``, the largest progressDeadlineSeconds of the workloads, with the margin), times
    ``waits.scale``."""
    waits = waits or {}
    if kind not in DEADLINES:
        raise KeyError(f"no deadline for wait kind {kind!r}")
    seconds = waits.get(kind)
    if seconds is None:
        seconds = DEADLINES[kind][0]
        if seconds is None:
            seconds = (base if base is not None else DEFAULT_PROGRESS_DEADLINE) * ROLLOUT_MARGIN
    return seconds * waits.get(SCALE, 1.0)


def describe(seconds: float) -> str:
    """'10 min', '90 s', '0.5 s' — how deadlines read in plans and messages."""
    if seconds >= 120 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.2g} s"
