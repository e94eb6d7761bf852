"""Durations as operators read them, kubectl-style: one formatter for the dashboard, the
walkthrough's evidence and the reports."""

from __future__ import annotations


def duration(seconds: float | None) -> str:
    """Compact, kubectl-like: 45s, 3m12s, 2h5m, 4d3h; '-' when unknown."""
    if seconds is None:
        return "-"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s" if minutes < 10 else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if hours else f"{days}d"
