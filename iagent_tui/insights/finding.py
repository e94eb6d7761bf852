"""The one Finding type every view, report and plan reads (DESIGN.md: one list of findings, one
severity ranking), and what the rules share to build them.

A finding says what is wrong with one object, how bad it is (severity: error > warning > info) and
what kind of problem it is (category):

- ``blocker``: the object would fail on Fargate as it is (a privileged container, an EBS volume);
- ``broken``: something is wrong in the cluster now (a Pending pod, CoreDNS down, a failed profile);
- ``advice``: worth doing, nothing fails without it (a namespace not yet on Fargate, rounding waste).

Codes are stable (popeye-style) and listed once, in ``codes.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
Category = Literal["blocker", "broken", "advice"]
SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1, "info": 2}
CATEGORY_RANK: dict[str, int] = {"broken": 0, "blocker": 1, "advice": 2}
CATEGORY_TITLES: dict[str, str] = {"broken": "Broken now", "blocker": "Migration blockers", "advice": "Advice"}


def object_ref(kind: str, namespace: str, name: str) -> str:
    """``kind/namespace/name``, or ``kind/name`` for cluster-scoped objects (profiles, nodes)."""
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


@dataclass(frozen=True)
class Finding:
    code: str                      # stable: FG0xx (Fargate compatibility), DR0xx (running state)
    severity: Severity
    category: Category
    object: str                    # kind/namespace/name (kind/name when cluster-scoped)
    title: str                     # one line: what is wrong
    message: str                   # why it matters, in the operator's words
    evidence: tuple[str, ...]      # the fields, events and states read, as found
    next_steps: tuple[str, ...]    # commands to run or changes to make, in order
    action: str = ""               # the iagent-tui action that fixes it (deploy, add-namespace…), if any
    namespace: str = ""            # "" for cluster-wide findings (kept under a namespace filter)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"severity must be error, warning or info, got {self.severity!r}")
        if self.category not in CATEGORY_RANK:
            raise ValueError(f"category must be blocker, broken or advice, got {self.category!r}")
        if not self.next_steps:
            raise ValueError(f"{self.code} on {self.object}: a finding needs at least one next step")

    @property
    def key(self) -> str:
        """Identity in tables and tests: one finding per code and object."""
        return f"{self.code}|{self.object}"

    @property
    def fix(self) -> str:
        return self.next_steps[0]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "category": self.category, "object": self.object,
                "namespace": self.namespace or None, "title": self.title, "message": self.message,
                "evidence": list(self.evidence), "next_steps": list(self.next_steps), "action": self.action or None}


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first, then by code and object, so output is stable across runs."""
    return sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity], f.code, f.object, f.evidence))


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    return {severity: counts.get(severity, 0) for severity in SEVERITY_RANK}


def worst_severity(findings: Iterable[Finding]) -> Severity | None:
    ranked = sorted((f.severity for f in findings), key=SEVERITY_RANK.__getitem__)
    return ranked[0] if ranked else None


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def merge_findings(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (code, object): the replicas of one workload, or a fault seen both in the
    spec and in the running state, are one problem with several pieces of evidence. The worse
    severity wins, and ``broken`` wins over ``blocker`` (it already fails, not only would)."""
    merged: dict[tuple[str, str], Finding] = {}
    for f in findings:
        key = (f.code, f.object)
        first = merged.get(key)
        if first is None:
            merged[key] = f
            continue
        merged[key] = replace(
            first,
            evidence=_unique((*first.evidence, *f.evidence)),
            next_steps=_unique((*first.next_steps, *f.next_steps)),
            severity=min(first.severity, f.severity, key=SEVERITY_RANK.__getitem__),
            category=min(first.category, f.category, key=CATEGORY_RANK.__getitem__),
            title=first.title if CATEGORY_RANK[first.category] <= CATEGORY_RANK[f.category] else f.title,
            message=first.message if CATEGORY_RANK[first.category] <= CATEGORY_RANK[f.category] else f.message,
            action=first.action or f.action,
        )
    return list(merged.values())
