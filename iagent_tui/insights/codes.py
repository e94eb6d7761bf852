"""Every finding code, in one table: default severity, category, what it means and the source.

Codes never change meaning once released; a retired code keeps its number unused and says where
its findings went. ``docs/FINDINGS.md`` is generated from this table (a test keeps them equal):
``python -m iagent_tui.insights.codes > docs/FINDINGS.md``.

FG0xx findings come from the Fargate compatibility checks (what would fail on Fargate, read from
the specs); DR0xx from the running state (what the doctor sees wrong now). One fault has one code
even where both could see it: CoreDNS set to Fargate without a profile is FG023 (formerly also
DR031), instance targets in front of Fargate pods FG019 (formerly also DR041), a namespace whose
pods no profile selects FG018 (formerly also DR015).
"""

from __future__ import annotations

from dataclasses import dataclass

from .finding import Category, Severity


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity | str  # "error/warning" where the rule picks one of two by what it sees
    category: Category
    summary: str
    source: str


CODES: dict[str, Code] = {c.code: c for c in (
    Code("FG001", "error", "blocker", "hostNetwork / hostPID / hostIPC", "DOMAIN 5.1, 5.2"),
    Code("FG002", "error", "blocker", "container port with hostPort or hostIP", "DOMAIN 5.1, 5.2"),
    Code("FG003", "error", "blocker", "privileged container", "DOMAIN 5.1, 5.2"),
    Code("FG004", "error", "blocker", "added capability that fargate-scheduler rejects", "DOMAIN 5.2"),
    Code("FG005", "warning", "blocker", "added advanced capability (SYS_PTRACE…): admitted only where enabled", "DOMAIN 5.2"),
    Code("FG006", "warning", "blocker", "allowPrivilegeEscalation: true (rejected in 2020, status unknown)", "DOMAIN 5.2"),
    Code("FG007", "error", "blocker", "volume type Fargate does not support (hostPath, inline CSI…)", "DOMAIN 5.1, 5.2"),
    Code("FG008", "error", "blocker", "PVC missing, unbound, or bound to a non-EFS volume (EBS)", "DOMAIN 5.1, 5.2"),
    Code("FG009", "error", "blocker", "raw block volumeDevices", "fargate validator"),
    Code("FG010", "error", "blocker", "DaemonSet: never runs on Fargate", "DOMAIN 5.1"),
    Code("FG011", "error", "blocker", "nodeSelector / required node affinity no Fargate node satisfies", "DOMAIN 5.2, 3.7"),
    Code("FG012", "error", "blocker", "GPU / Inferentia resources", "DOMAIN 5.1"),
    Code("FG013", "error", "blocker", "larger than 16 vCPU / 120 GB", "DOMAIN 1.2"),
    Code("FG014", "error", "blocker", "ephemeral-storage request above 175 GiB", "DOMAIN 1.4"),
    Code("FG015", "warning", "blocker", "request differs from limit", "DOMAIN 1.2"),
    Code("FG016", "warning", "advice", "container without CPU or memory request", "DOMAIN 1.2"),
    Code("FG017", "info", "advice", "rounding up to a Fargate size wastes more than the threshold", "DOMAIN 1.1, 2.2"),
    Code("FG018", "warning", "advice", "no ACTIVE Fargate profile selects the workload: it stays on EC2 (Pending once EC2 is gone)", "DOMAIN 3.5, 3.8"),
    Code("FG019", "error/warning", "blocker", "ALB Ingress without target-type ip (broken once its pods run on Fargate)", "DOMAIN 6.3"),
    Code("FG020", "error/warning", "blocker", "LoadBalancer Service without nlb-target-type ip", "DOMAIN 6.3"),
    Code("FG021", "error", "broken", "pod execution role does not trust eks-fargate-pods.amazonaws.com", "DOMAIN 8.1"),
    Code("FG022", "warning", "advice", "pod execution role trust without an aws:SourceArn condition", "DOMAIN 8.1"),
    Code("FG023", "error", "broken", "CoreDNS add-on computeType Fargate but no profile selects kube-dns", "DOMAIN 4.2"),
    Code("FG024", "error", "blocker", "service account relies on EKS Pod Identity (unsupported on Fargate)", "DOMAIN 5.1"),
    Code("FG025", "warning", "blocker", "nfs volume: admitted by the scheduler, not documented for Fargate", "fargate validator"),
    Code("FG026", "error", "blocker", "resource quantity that cannot be parsed", "Kubernetes quantity grammar"),
    Code("FG027", "info", "advice", "EKS node agent DaemonSet (aws-node, kube-proxy…): stays with the EC2 nodes", "DOMAIN 5.1"),
    Code("DR001", "warning", "broken", "a data source could not be read: the checks reading it were not evaluated", "popeye"),
    Code("DR010", "error", "broken", "Pending with the default-scheduler: no ACTIVE Fargate profile selects the pod", "DOMAIN 3.5, 3.8"),
    Code("DR011", "error", "broken", "fargate-scheduler refused the pod (not supported on Fargate / too large)", "DOMAIN 3.8, 5.2"),
    Code("DR012", "error", "broken", "Misconfigured Fargate Profile: the pod execution role blocks new launches", "DOMAIN 3.8, 8.1"),
    Code("DR013", "warning", "broken", "Pod provisioning timed out (Fargate retries)", "DOMAIN 3.8, 7.1"),
    Code("DR014", "error", "broken", "other Fargate launch refusal (quota, blocked account, unsupported zone)", "DOMAIN 3.8"),
    Code("DR016", "error", "broken", "Pending pod created before the ACTIVE profile that selects it now", "DOMAIN 3.5"),
    Code("DR020", "error", "broken", "Fargate profile CREATE_FAILED / DELETE_FAILED", "DOMAIN 3.1"),
    Code("DR021", "warning", "broken", "Fargate profile stuck CREATING / DELETING", "DOMAIN 3.3"),
    Code("DR030", "error", "broken", "CoreDNS add-on DEGRADED / *_FAILED", "DOMAIN 4.2, 4.3"),
    Code("DR032", "error/warning", "broken", "no CoreDNS pod Ready (DNS down) / some not Ready", "DOMAIN 4"),
    Code("DR040", "error", "broken", "ALB not created: ingress without an address, and why", "DOMAIN 6.5"),
    Code("DR050", "error/warning", "broken", "ALB target unhealthy, draining while Ready, unused, or stuck initial", "DOMAIN 6.6"),
    Code("DR060", "warning", "broken", "pod start slower than the target, with the dominant phase", "DOMAIN 7"),
    Code("DR070", "error", "broken", "container crash-looping", "kubelet"),
    Code("DR071", "error", "broken", "image cannot be pulled", "kubelet"),
    Code("DR080", "error", "broken", "node NotReady", "kubelet"),
    Code("DR090", "info", "advice", "Fargate logging disabled (no aws-logging ConfigMap)", "DOMAIN 1.3"),
)}

# Codes that were merged into another: never reused.
RETIRED: dict[str, str] = {"DR015": "FG018", "DR031": "FG023", "DR041": "FG019"}


def markdown_table() -> str:
    lines = ["# Finding codes", "",
             "Generated from `iagent_tui/insights/codes.py` (`python -m iagent_tui.insights.codes`). "
             "Categories: **blocker** — would fail on Fargate as it is; **broken** — wrong in the cluster now; "
             "**advice** — worth doing, nothing fails without it. `status --json`, `doctor` and the dashboard's "
             "findings panel all show these findings, computed once by `insights.assess`.", "",
             "| code | severity | category | what | source |", "|---|---|---|---|---|"]
    lines += [f"| {c.code} | {c.severity} | {c.category} | {c.summary} | {c.source} |" for c in CODES.values()]
    lines += ["", "Retired codes (merged, never reused): "
              + ", ".join(f"{old} → {new}" for old, new in RETIRED.items()) + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - the generator of docs/FINDINGS.md
    print(markdown_table(), end="")
