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
| FG027 | info    | EKS node agent DaemonSet (aws-node, kube-proxy, ...): stays with the EC2 nodes, nothing to move | DOMAIN 5.1 |

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


@dataclass(frozen=True)
class Check:
    """One row of the table above; message and fix may hold ``{placeholders}``."""

    code: str
    severity: Severity
    message: str
    fix: str


CHECKS: dict[str, Check] = {
    check.code: check
    for check in (
        Check("FG001", "error", "Pods on Fargate can't use {fields}.",
              "Remove hostNetwork/hostPID/hostIPC, or keep the workload on EC2."),
        Check("FG002", "error", "Pods on Fargate can't specify HostPort or HostIP.",
              "Remove hostPort/hostIP and expose the pods through a Service."),
        Check("FG003", "error", "Privileged containers aren't supported on Fargate.",
              "Drop privileged mode, or keep the workload on EC2."),
        Check("FG004", "error", "fargate-scheduler rejects the added capabilities {capabilities}.",
              "Remove them: Fargate admits only containerd's default capabilities, spelled without CAP_."),
        Check("FG005", "warning", "{capabilities} is admitted on Fargate only where advanced "
              "capabilities are enabled.", "Test the workload on Fargate first, or remove the capability."),
        Check("FG006", "warning", "Fargate has rejected allowPrivilegeEscalation: true (observed in 2020; "
              "current behaviour unconfirmed).", "Set allowPrivilegeEscalation: false unless the image needs setuid."),
        Check("FG007", "error", "Volume {volume} is of a type Fargate doesn't support ({type}).",
              "Use emptyDir, configMap, secret, projected, downwardAPI or a PVC bound to a static EFS volume."),
        Check("FG008", "error", "Volume {volume} can't be mounted on Fargate: only PVCs bound to a static "
              "EFS CSI (efs.csi.aws.com) PersistentVolume work.",
              "Use a statically provisioned EFS PersistentVolume; EBS and dynamic provisioning don't work on Fargate."),
        Check("FG009", "error", "Raw block devices (volumeDevices) aren't supported on Fargate.",
              "Mount a filesystem volume instead."),
        Check("FG010", "error", "DaemonSets aren't supported on Fargate: every Fargate node runs exactly one pod.",
              "Run it as a sidecar in the pods that need it, or keep it on an EC2 node group."),
        Check("FG011", "error", "No Fargate node satisfies this constraint: Fargate nodes are linux/amd64 "
              "with eks.amazonaws.com/compute-type=fargate.", "Remove the constraint, or keep the workload on EC2."),
        Check("FG012", "error", "GPUs and Inferentia aren't available on Fargate.",
              "Keep the workload on an EC2 accelerator node group."),
        Check("FG013", "error", "Too large for Fargate: the pod would stay Pending with {reason}.",
              "Keep requests within 16 vCPU and 120 GB including Fargate's 256 MiB, or keep the workload on EC2."),
        Check("FG014", "error", "Fargate provides at most {max_gib} GiB of ephemeral storage.",
              "Lower the ephemeral-storage request, or use EFS for bulk data."),
        Check("FG015", "warning", "Fargate pods run with guaranteed priority; requests that differ from "
              "limits have failed to start (cpu.cfs_quota_us: invalid argument).", "Set requests equal to limits."),
        Check("FG016", "warning", "Without requests the pod gets the smallest size (0.25 vCPU, 0.5 GB) and is "
              "throttled or OOM-killed if it needs more.", "Set CPU and memory requests, equal to the limits."),
        Check("FG017", "info", "Rounding up to a Fargate size pays for capacity the pod doesn't request.",
              "Raise requests to use what {size} provides (memory up to {usable_gb:g} GiB), or lower them "
              "to fit a smaller size."),
        Check("FG018", "warning", "No ACTIVE Fargate profile selects these pods: new pods stay with the "
              "default-scheduler (Pending once no EC2 node is left).",
              "Add a Fargate profile selecting namespace {namespace} (and labels if needed), wait for ACTIVE, "
              "then restart the workload: existing pods are not moved."),
        Check("FG019", "error", "Instance targets register nodes, and the load balancer controller skips "
              "Fargate nodes: {consequence}", "Annotate the Ingress with alb.ingress.kubernetes.io/target-type: ip."),
        Check("FG020", "error", "Load balancers reach Fargate pods only through IP targets; this Service "
              "would register nodes: {consequence}", 'Set service.beta.kubernetes.io/aws-load-balancer-type: '
              '"external" and service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: "ip".'),
        Check("FG021", "error", "The pod execution role must trust eks-fargate-pods.amazonaws.com{detail}",
              "Trust Service eks-fargate-pods.amazonaws.com with Condition ArnLike aws:SourceArn "
              "arn:aws:eks:<region>:<account>:fargateprofile/<cluster>/*."),
        Check("FG022", "warning", "Without an aws:SourceArn condition the role is open to the confused "
              "deputy problem.", "Add Condition ArnLike aws:SourceArn "
              "arn:aws:eks:<region>:<account>:fargateprofile/<cluster>/*."),
        Check("FG023", "error", "CoreDNS is set to run on Fargate but no ACTIVE Fargate profile selects "
              "kube-system pods labelled k8s-app=kube-dns: its pods stay Pending and DNS fails.",
              "Create a Fargate profile with selector namespace=kube-system, labels k8s-app=kube-dns, wait "
              "for ACTIVE, then restart the coredns deployment."),
        Check("FG024", "error", "EKS Pod Identity isn't supported for pods on Fargate: these pods get no "
              "AWS credentials from it.", "Use IAM roles for service accounts (annotation eks.amazonaws.com/role-arn)."),
        Check("FG025", "warning", "NFS volumes are admitted by fargate-scheduler but not documented for Fargate.",
              "Prefer the EFS CSI driver with a static PersistentVolume."),
        Check("FG026", "error", "A resource quantity can't be parsed: the API server would reject the pod "
              "and its Fargate size is unknown.", "Fix the quantity (for example 250m, 0.5, 512Mi, 1Gi)."),
        Check("FG027", "info", "EKS node agent: it runs on each EC2 node and Fargate provides the same "
              "function on every Fargate node, so there is nothing to move.",
              "Nothing to do; it goes away with the last EC2 node."),
    )
}  # fmt: skip


def finding(code: str, obj: str, evidence: str, *, severity: Severity | None = None, **values: object) -> Finding:
    """A Finding from the catalogue, its message and fix filled with ``values``."""
    check = CHECKS[code]
    return Finding(
        code, severity or check.severity, obj, evidence, check.message.format(**values), check.fix.format(**values)
    )


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first, then by code and object, so output is stable across runs."""
    return sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity], f.code, f.object, f.evidence))


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    return {severity: counts.get(severity, 0) for severity in SEVERITY_RANK}
