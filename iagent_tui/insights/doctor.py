"""The on-call doctor: what is wrong with the cluster's Fargate setup right now, worst first, with
the evidence read and the next step. Pure rules over one Snapshot; they complement the static
compatibility findings (FG0xx) with diagnoses of the running state.

Codes never change meaning once released (popeye-style):

| code  | severity        | what |
|-------|-----------------|------|
| DR001 | warning         | a data source could not be read: the rules reading it were not evaluated |
| DR010 | error           | Pending with the default-scheduler: no ACTIVE Fargate profile selects the pod |
| DR011 | error           | fargate-scheduler refused the pod (Pod not supported on Fargate / too large) |
| DR012 | error           | Misconfigured Fargate Profile: the pod execution role blocks new launches |
| DR013 | warning         | Pod provisioning timed out (Fargate retries) |
| DR014 | error           | other Fargate launch refusal (quota, blocked account, unsupported zone) |
| DR015 | warning         | namespace without a profile: Fargate-ready pods stay on EC2 |
| DR016 | error           | Pending pod created before the ACTIVE profile that selects it now |
| DR020 | error           | Fargate profile CREATE_FAILED / DELETE_FAILED |
| DR021 | warning         | Fargate profile stuck CREATING / DELETING |
| DR030 | error           | CoreDNS add-on DEGRADED / *_FAILED |
| DR031 | error           | CoreDNS add-on computeType Fargate without a kube-system profile for it |
| DR032 | error / warning | no CoreDNS pod Ready (DNS down) / some not Ready |
| DR040 | error           | ALB not created: ingress without an address, and why |
| DR041 | error           | ALB ingress with instance targets while its pods run on Fargate |
| DR050 | error / warning | ALB target unhealthy, draining while Ready, unused, or stuck initial |
| DR060 | warning         | pod start slower than the target, with the dominant phase |
| DR070 | error           | container crash-looping |
| DR071 | error           | image cannot be pulled |
| DR080 | error           | node NotReady |
| DR090 | info            | Fargate logging disabled (no aws-logging ConfigMap) |
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from ..model import Snapshot
from . import doctor_cluster as cluster
from . import doctor_pods as pods
from .doctor_model import SEVERITY_RANK, Context, Diagnosis, NotEvaluated, unique

EXIT_HEALTHY, EXIT_WARNINGS, EXIT_ERRORS = 0, 1, 2


@dataclass(frozen=True)
class Rule:
    name: str  # what it checks, in the operator's words
    codes: tuple[str, ...]
    needs: tuple[str, ...]  # snapshot sources it reads; a failed one means "not evaluated"
    run: Callable[[Context], Iterable[Diagnosis]]


RULES: tuple[Rule, ...] = (
    Rule("pods refused by fargate-scheduler", ("DR011",), ("pods",), pods.pending_rejected),
    Rule("pending pods without a Fargate profile", ("DR010", "DR016"), ("pods", "fargate_profiles"), pods.pending_unplaced),
    Rule("Fargate launch failures", ("DR012", "DR013", "DR014"), ("pods", "events"), pods.pending_launch_failures),
    Rule("pods left on EC2", ("DR015",), ("pods", "fargate_profiles"), pods.left_on_ec2),
    Rule("Fargate profile states", ("DR020", "DR021"), ("fargate_profiles",), cluster.profile_problems),
    Rule("CoreDNS add-on", ("DR030", "DR031"), ("addons", "fargate_profiles"), cluster.coredns_addon),
    Rule("CoreDNS pods", ("DR032",), ("pods", "deployments"), cluster.coredns_pods),
    Rule("ingresses and the load balancer controller", ("DR040", "DR041"),
         ("ingresses", "services", "pods", "deployments", "events"), cluster.ingress_problems),
    Rule("ALB target health", ("DR050",), ("target_groups", "pods"), cluster.target_problems),
    Rule("pod start times", ("DR060",), ("pods", "events"), pods.slow_starts),
    Rule("crash loops and image pulls", ("DR070", "DR071"), ("pods",), pods.container_failures),
    Rule("node readiness", ("DR080",), ("nodes",), cluster.nodes_not_ready),
    Rule("Fargate logging", ("DR090",), ("events",), pods.logging_disabled),
)


@dataclass(frozen=True)
class DoctorReport:
    diagnoses: tuple[Diagnosis, ...]
    not_evaluated: tuple[NotEvaluated, ...]

    def count(self) -> dict[str, int]:
        return {sev: sum(d.severity == sev for d in self.diagnoses) for sev in SEVERITY_RANK}

    @property
    def exit_code(self) -> int:
        """0 nothing wrong (info only), 1 only warnings, 2 errors."""
        counts = self.count()
        return EXIT_ERRORS if counts["error"] else EXIT_WARNINGS if counts["warning"] else EXIT_HEALTHY


def _failed_sources(snap: Snapshot) -> dict[str, str]:
    return {name: state.error or "not read" for name, state in snap.sources.items() if not state.ok}


def _source_diagnoses(snap: Snapshot, skipped: list[NotEvaluated]) -> Iterator[Diagnosis]:
    """DR001: a source that failed is never reported as healthy."""
    for name, error in sorted(_failed_sources(snap).items()):
        state = snap.sources[name]
        rules = [n.rule for n in skipped if name in n.sources]
        since = f" since {state.stale_since:%Y-%m-%d %H:%M:%S} UTC" if state.stale_since else ""
        yield Diagnosis(
            "DR001", "warning", f"Could not read {name}: checks not evaluated", f"Source {name}",
            (f"{name}: {error}{since}", "not evaluated: " + (", ".join(rules) or "nothing else depends on it")),
            "The doctor reports what it could read; these checks neither passed nor failed.",
            ("iagent-tui status  # names every source and its error",
             "kubectl auth can-i list pods --all-namespaces" if name in _KUBE_SOURCES else "aws sts get-caller-identity"))


_KUBE_SOURCES = frozenset({"nodes", "pods", "events", "services", "deployments", "daemonsets", "statefulsets",
                           "ingresses", "targetgroupbindings"})


def merge(diagnoses: Iterable[Diagnosis]) -> list[Diagnosis]:
    """One diagnosis per (code, object, title): replicas of one workload, or pods blocked by one
    profile, are one problem with several pieces of evidence."""
    merged: dict[tuple[str, str, str], Diagnosis] = {}
    for d in diagnoses:
        key = (d.code, d.object, d.title)
        if key in merged:
            first = merged[key]
            merged[key] = replace(first, evidence=unique((*first.evidence, *d.evidence)),
                                  next_steps=unique((*first.next_steps, *d.next_steps)),
                                  severity=min(first.severity, d.severity, key=SEVERITY_RANK.__getitem__))
        else:
            merged[key] = d
    return list(merged.values())


def diagnose(snap: Snapshot, *, namespace: str | None = None, start_target_seconds: float = 120.0,
             stuck_profile_seconds: float = 600.0) -> DoctorReport:
    """Every diagnosis for this snapshot, worst first. ``namespace`` keeps that namespace's
    diagnoses and the cluster-wide ones (DNS, profiles, sources affect every namespace)."""
    if start_target_seconds <= 0:
        raise ValueError(f"start-time target must be positive, got {start_target_seconds}")
    ctx = Context(snap, start_target_seconds=start_target_seconds, stuck_profile_seconds=stuck_profile_seconds)
    failed = _failed_sources(snap)
    found: list[Diagnosis] = []
    skipped: list[NotEvaluated] = []
    for rule in RULES:
        blocked = tuple(s for s in rule.needs if s in failed)
        if blocked:
            skipped.append(NotEvaluated(rule.name, rule.codes, blocked))
        else:
            found.extend(rule.run(ctx))
    found.extend(_source_diagnoses(snap, skipped))
    if namespace is not None:
        found = [d for d in found if d.namespace in ("", namespace)]
    ordered = sorted(merge(found), key=lambda d: (SEVERITY_RANK[d.severity], d.code, d.object))
    return DoctorReport(tuple(ordered), tuple(skipped))


__all__ = ["DoctorReport", "Diagnosis", "NotEvaluated", "RULES", "diagnose", "merge",
           "EXIT_HEALTHY", "EXIT_WARNINGS", "EXIT_ERRORS"]
