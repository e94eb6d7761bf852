"""The running-state rules (DR0xx): what is wrong with the cluster's Fargate setup right now,
with the evidence read and the next step. Pure rules over one Snapshot; ``assess`` runs them
together with the compatibility checks (FG0xx) and merges the two into one list of Findings.
Codes, severities and categories are listed once, in ``codes.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ..model import Snapshot
from . import doctor_cluster as cluster
from . import doctor_pods as pods
from .doctor_model import Context, NotEvaluated, diagnosis
from .finding import Finding

EXIT_HEALTHY, EXIT_WARNINGS, EXIT_ERRORS = 0, 1, 2


@dataclass(frozen=True)
class Rule:
    name: str  # what it checks, in the operator's words
    codes: tuple[str, ...]
    needs: tuple[str, ...]  # snapshot sources it reads; a failed one means "not evaluated"
    run: Callable[[Context], Iterable[Finding]]


RULES: tuple[Rule, ...] = (
    Rule("pods refused by fargate-scheduler", ("DR011",), ("pods",), pods.pending_rejected),
    Rule("pending pods without a Fargate profile", ("DR010", "DR016"), ("pods", "fargate_profiles"), pods.pending_unplaced),
    Rule("Fargate launch failures", ("DR012", "DR013", "DR014"), ("pods", "events"), pods.pending_launch_failures),
    Rule("Fargate profile states", ("DR020", "DR021"), ("fargate_profiles",), cluster.profile_problems),
    Rule("CoreDNS add-on", ("DR030", "FG023"), ("addons", "fargate_profiles"), cluster.coredns_addon),
    Rule("CoreDNS pods", ("DR032",), ("pods", "deployments"), cluster.coredns_pods),
    Rule("ingresses and the load balancer controller", ("DR040", "FG019"),
         ("ingresses", "services", "pods", "deployments", "events"), cluster.ingress_problems),
    Rule("ALB target health", ("DR050",), ("target_groups", "pods"), cluster.target_problems),
    Rule("pod start times", ("DR060",), ("pods", "events"), pods.slow_starts),
    Rule("crash loops and image pulls", ("DR070", "DR071"), ("pods",), pods.container_failures),
    Rule("node readiness", ("DR080",), ("nodes",), cluster.nodes_not_ready),
    Rule("Fargate logging", ("DR090",), ("events",), pods.logging_disabled),
)


def _failed_sources(snap: Snapshot) -> dict[str, str]:
    return {name: state.error or "not read" for name, state in snap.sources.items() if not state.ok}


def _source_diagnoses(snap: Snapshot, skipped: list[NotEvaluated]) -> Iterator[Finding]:
    """DR001: a source that failed is never reported as healthy."""
    for name, error in sorted(_failed_sources(snap).items()):
        state = snap.sources[name]
        rules = [n.rule for n in skipped if name in n.sources]
        since = f" since {state.stale_since:%Y-%m-%d %H:%M:%S} UTC" if state.stale_since else ""
        yield diagnosis(
            "DR001", "warning", f"Could not read {name}: checks not evaluated", f"Source/{name}",
            (f"{name}: {error}{since}", "not evaluated: " + (", ".join(rules) or "nothing else depends on it")),
            "The doctor reports what it could read; these checks neither passed nor failed.",
            ("iagent-tui status  # names every source and its error",
             "kubectl auth can-i list pods --all-namespaces" if name in _KUBE_SOURCES else "aws sts get-caller-identity"))


_KUBE_SOURCES = frozenset({"nodes", "pods", "events", "services", "deployments", "daemonsets", "statefulsets",
                           "ingresses", "targetgroupbindings"})


def run_rules(ctx: Context, extra: Iterable[Rule] = ()) -> tuple[list[Finding], list[NotEvaluated]]:
    """Every rule whose sources were read, and DR001 for each source that failed (popeye: a check
    that could not read its data is "not evaluated", never "passed")."""
    failed = _failed_sources(ctx.snap)
    found: list[Finding] = []
    skipped: list[NotEvaluated] = []
    for rule in (*RULES, *extra):
        blocked = tuple(s for s in rule.needs if s in failed)
        if blocked:
            skipped.append(NotEvaluated(rule.name, rule.codes, blocked))
        else:
            found.extend(rule.run(ctx))
    found.extend(_source_diagnoses(ctx.snap, skipped))
    return found, skipped


__all__ = ["RULES", "Rule", "run_rules", "EXIT_HEALTHY", "EXIT_WARNINGS", "EXIT_ERRORS"]
