"""What the connecting screen shows while the first snapshot is on its way: per source (the
Kubernetes API, EKS, ELB, IAM) waiting / ok / failed, read from the monitor, and, when the first
snapshot says the cluster cannot be read at all, the sentence to show instead of empty panels.
No Textual here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .model import Snapshot

# The monitor's AWS sources by the service a user knows them by.
AWS_GROUPS: dict[str, tuple[str, ...]] = {
    "EKS": ("cluster", "fargate_profiles", "nodegroups", "addons"),
    "ELB": ("load_balancers", "target_groups"),
    "IAM": ("iam_roles",),
}


@dataclass(frozen=True)
class SourceProgress:
    label: str   # "Kubernetes API", "EKS", ...
    state: str   # "waiting" | "ok" | "failed"
    detail: str  # "9 of 11 resources listed", or the first error's sentence


def source_progress(source: Any) -> list[SourceProgress]:
    """Progress of a ClusterMonitor-like source; [] for a source that cannot tell (fixed data)."""
    reflectors = getattr(source, "reflectors", None)
    aws = getattr(source, "aws_sources", None)
    if reflectors is None or aws is None:
        return []
    failed = [r for r in reflectors if r.error is not None]
    synced = sum(1 for r in reflectors if r.synced)
    if not reflectors:
        kube = SourceProgress("Kubernetes API", "waiting", "connecting")
    elif failed and not synced:
        kube = SourceProgress("Kubernetes API", "failed", failed[0].error.message)
    else:
        state = "ok" if synced == len(reflectors) else "waiting"
        kube = SourceProgress("Kubernetes API", state, f"{synced} of {len(reflectors)} resources listed")
    rows = [kube]
    for label, names in AWS_GROUPS.items():
        states = [aws[n] for n in names if n in aws]
        errors = [s for s in states if not s.ok]
        if not states:
            rows.append(SourceProgress(label, "waiting", "first poll"))
        elif errors:
            rows.append(SourceProgress(label, "failed", errors[0].error))
        else:
            rows.append(SourceProgress(label, "ok" if len(states) == len(names) else "waiting",
                                       f"{len(states)} of {len(names)} reads answered"))
    return rows


def unreachable(snapshot: Snapshot, server: str = "") -> str:
    """The sentence for a first snapshot in which no Kubernetes resource could be read (the API
    server is down, refused or unreachable), or "" when the dashboard has something to show."""
    kube = [s for name, s in snapshot.sources.items() if name not in _AWS_NAMES]
    if not kube or any(s.ok for s in kube):
        return ""
    conn = snapshot.connection
    where = f"{conn.server} (context {conn.context})" if conn is not None else (server or "the API server")
    reason = next((s.error for s in kube if s.error), "no answer.")
    return (f"Cannot read the cluster: the Kubernetes API at {where} does not answer. {reason} "
            "Is this the context you meant (for the sandbox: is `iagent-tui sandbox` still running)? "
            "r tries again, K picks another context, q quits.")


_AWS_NAMES = frozenset(n for names in AWS_GROUPS.values() for n in names)
