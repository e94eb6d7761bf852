"""The cluster header: which cluster, how we are connected, how fresh the data is."""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text
from textual.widgets import Static

from iagent_tui.model import Snapshot

from iagent_tui.insights.pricing import HOURS_PER_MONTH

from .format import clock_time, duration, money

# EKS tokens live ~15 minutes; say so well before one runs out (k9s sessions died silently here).
TOKEN_WARNING = timedelta(minutes=3)


def header_text(snap: Snapshot | None, styles: dict, badge: str = "", problem: str = "",
                fargate_hourly: float | None = None) -> Text:
    text = Text(end="")
    if badge:
        text.append(f" {badge} ", style="bold reverse")
        text.append(" ")
    if problem:
        text.append(problem, style=styles.get("bad", ""))
        text.append("  ")
    if snap is None:
        if not problem:
            text.append("connecting… waiting for the first snapshot", style=styles.get("busy", ""))
        return text
    c = snap.cluster
    if c is None:
        text.append("cluster: unknown (EKS not reachable yet)", style=styles.get("warn", ""))
    else:
        text.append(c.name, style="bold")
        text.append(f"  {c.region}  Kubernetes {c.version or '?'}  ")
        text.append(c.status or "?", style=styles.get("ok" if c.status == "ACTIVE" else "warn", ""))
    conn = snap.connection
    if conn is not None and conn.read_only:
        text.append("  READ-ONLY", style="bold reverse")
    text.append(f"  updated {clock_time(snap.taken_at)}")
    text.append(aws_pace(snap))
    if fargate_hourly is not None:
        text.append(f"  Fargate {money(fargate_hourly)}/h ({money(fargate_hourly * HOURS_PER_MONTH, 2)}/month)")
    stale = snap.stale_sources()
    if stale:
        text.append(f"  {len(stale)} source{'s' if len(stale) > 1 else ''} stale",
                    style=styles.get("warn", ""))
    text.append("\n")
    if conn is None:
        text.append("connection: unknown")
        return text
    if conn.mismatch:
        # The panels show one cluster's pods under another's name. The header has two lines, so
        # the warning takes the connection line's place (it names the context and both servers).
        text.append(f"WRONG CLUSTER: {conn.mismatch}", style=styles.get("bad", ""))
        return text
    text.append(f"context {conn.context}  {conn.server}  auth {conn.auth_kind}")
    if conn.token_expires_at is not None:
        left = conn.token_expires_at - snap.taken_at
        if left <= timedelta(0):
            text.append("  token expired: refreshing", style=styles.get("bad", ""))
        else:
            tone = "warn" if left <= TOKEN_WARNING else ""
            text.append(f"  token expires in {duration(left.total_seconds())}", style=styles.get(tone, ""))
    return text


def aws_pace(snap: Snapshot) -> str:
    """How often AWS is read, when the call budget stretched it beyond the usual ~30 s (and ~2 s
    for what is changing): the panels' AWS data is then older than an operator would assume."""
    polled = [s for s in snap.sources.values() if s.every is not None and s.budget_per_minute]
    if not polled:
        return ""
    slowest, fastest = max(s.every for s in polled), min(s.every for s in polled)
    changes = f", changes {duration(fastest)}" if fastest < slowest else ""
    return f"  AWS every {duration(slowest)}{changes} (budget {polled[0].budget_per_minute} calls/min)"


class ClusterHeader(Static):
    def show(self, snap: Snapshot | None, styles: dict, badge: str = "", problem: str = "",
             fargate_hourly: float | None = None) -> None:
        # Two lines high whatever it says (app.tcss): no layout pass for a new text. A layout of
        # the whole screen on every snapshot cost 40-70 ms at 5,000 pods (measured).
        self.update(header_text(snap, styles, badge, problem, fargate_hourly), layout=False)
