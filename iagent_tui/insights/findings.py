"""Findings: what the compatibility checks report, with stable codes (popeye-style).

Codes never change meaning once released; a retired check keeps its number unused.

| code  | severity | what | source |
|-------|----------|------|--------|
| FG001 | error   | hostNetwork / hostPID / hostIPC | DOMAIN 5.1, 5.2 |
| FG002 | error   | container port with hostPort or hostIP | DOMAIN 5.1, 5.2 |
| FG003 | error   | privileged container | DOMAIN 5.1, 5.2 |
| FG004 | error   | added capability that fargate-scheduler rejects | DOMAIN 5.2 |
| FG005 | warning | added "advanced" capability (SYS_PTRACE, ...): admitted only where enabled | DOMAIN 5.2 |
| FG006 | warning | allowPrivilegeEscalation: true (rejected in 2020, current status unknown) | DOMAIN 5.2 |
| FG007 | error   | volume type Fargate does not support (hostPath, inline CSI, EBS, ...) | DOMAIN 5.1, 5.2 |
| FG008 | error   | PVC missing, unbound, or bound to a non-EFS volume | DOMAIN 5.1, 5.2 |
| FG009 | error   | raw block volumeDevices | fargate validator (rejection.py) |
| FG010 | error   | DaemonSet: never runs on Fargate | DOMAIN 5.1 |
| FG011 | error   | nodeSelector / required node affinity a Fargate node cannot satisfy | DOMAIN 5.2 additional checks, 3.7 |
| FG012 | error   | GPU / Inferentia resources | DOMAIN 5.1 |
| FG013 | error   | larger than 16 vCPU / 120 GB | DOMAIN 1.2 |
| FG014 | error   | ephemeral-storage request above 175 GiB | DOMAIN 1.4 |
| FG015 | warning | request differs from limit | DOMAIN 1.2 |
| FG016 | warning | container without CPU or memory request | DOMAIN 1.2 |
| FG017 | info    | rounding up to a Fargate size wastes more than the threshold | DOMAIN 1.1, 2.2 |
| FG018 | warning | no ACTIVE Fargate profile selects the pods: they would stay Pending | DOMAIN 3.5, 3.8 |
| FG019 | error   | ALB Ingress without alb.ingress.kubernetes.io/target-type: ip | DOMAIN 6.3 |
| FG020 | error   | LoadBalancer Service without aws-load-balancer-nlb-target-type: ip | DOMAIN 6.3 |
| FG021 | error   | pod execution role does not trust eks-fargate-pods.amazonaws.com | DOMAIN 8.1 |
| FG022 | warning | pod execution role trust without an aws:SourceArn condition | DOMAIN 8.1 |
| FG023 | error   | CoreDNS add-on computeType Fargate but no kube-system profile for kube-dns | DOMAIN 4.2 |
| FG024 | error   | service account relies on EKS Pod Identity (unsupported on Fargate) | DOMAIN 5.1 |
| FG025 | warning | nfs volume: admitted by the scheduler but not documented for Fargate | rejection.py |
| FG026 | error   | resource quantity that cannot be parsed | Kubernetes quantity grammar |

Severity for Ingress/Service findings drops to warning when none of their backend pods would run
on Fargate (instance targets still work on EC2 nodes).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Literal

Severity = Literal["error", "warning", "info"]
SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    code: str  # stable: FG001...
    severity: Severity
    object: str  # "Deployment prod/api"
    evidence: str  # the fields that triggered it, as found
    message: str  # what is wrong, in the operator's words
    fix: str  # what to change

    def __post_init__(self) -> None:
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"severity must be error, warning or info, got {self.severity!r}")


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first, then by code and object, so output is stable across runs."""
    return sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity], f.code, f.object, f.evidence))


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    return {severity: counts.get(severity, 0) for severity in SEVERITY_RANK}
