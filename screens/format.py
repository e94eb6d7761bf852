"""Plain formatting of cluster facts for panels: ages, money, durations, tones.

Ages are measured against the snapshot's ``taken_at``, never the wall clock: a panel re-renders only
when a new snapshot arrives, so there is no timer ticking ages forward while nothing changes, and a
fixed snapshot renders identically in snapshot tests.
"""

from __future__ import annotations

from datetime import datetime

from iagent_tui.insights.durations import duration  # one formatter for views and insights

from iagent_tui.insights.migration import Tone  # one scale for views and the walkthrough

# Status words of AWS and Kubernetes mapped to how alarming they are. One table, so every panel
# colours "CREATE_FAILED" and "unhealthy" the same way.
_TONES: dict[str, Tone] = {
    "ACTIVE": "ok", "Running": "ok", "healthy": "ok", "active": "ok", "Ready": "ok", "Succeeded": "ok",
    "True": "ok",
    "CREATING": "busy", "DELETING": "busy", "UPDATING": "busy", "PENDING": "busy", "initial": "busy",
    "draining": "busy", "provisioning": "busy", "Pending": "busy", "ContainerCreating": "busy",
    "unhealthy.draining": "warn", "unused": "warn", "DEGRADED": "warn", "active_impaired": "warn",
    "Unknown": "warn", "Warning": "warn", "warning": "warn",
    "CREATE_FAILED": "bad", "DELETE_FAILED": "bad", "UPDATE_FAILED": "bad", "FAILED": "bad",
    "failed": "bad", "unhealthy": "bad", "unavailable": "bad", "Failed": "bad", "CrashLoopBackOff": "bad",
    "ImagePullBackOff": "bad", "ErrImagePull": "bad", "error": "bad", "False": "bad",
    "info": "muted",
}


def tone_of(status: str) -> Tone:
    return _TONES.get(status, "")


def age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "-"
    return duration((now - since).total_seconds())


def clock_time(moment: datetime | None) -> str:
    return moment.strftime("%H:%M:%S") if moment else "-"


def money(usd: float | None, digits: int = 4) -> str:
    """Hourly Fargate prices are fractions of a cent, so four digits by default."""
    if usd is None:
        return "-"
    return f"${usd:.{digits}f}"


def short_node(name: str) -> str:
    """Node names are long DNS names; the host part identifies them on screen."""
    return name.split(".", 1)[0] if name else "-"
