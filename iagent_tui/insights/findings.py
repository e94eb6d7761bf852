"""The Fargate compatibility checks' catalogue (FG0xx): each code's message and fix, with
``{placeholders}`` the checks fill. Severity and category come from the one code table in
``codes.py``; the Finding type from ``finding.py``.

Severity for Ingress/Service findings drops to warning when none of their backend pods would run
on Fargate (instance targets still work on EC2 nodes).
"""

from __future__ import annotations

from dataclasses import dataclass

from .codes import CODES
from .finding import Category, Finding, Severity, count_by_severity, sort_findings


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


def finding(code: str, obj: str, evidence: str, *, severity: Severity | None = None,
            category: Category | None = None, action: str = "", **values: object) -> Finding:
    """A Finding from the catalogue, its message and fix filled with ``values``. ``obj`` is
    ``kind/namespace/name``; the namespace is taken from it."""
    check = CHECKS[code]
    parts = obj.split("/")
    summary = CODES[code].summary
    return Finding(
        code, severity or check.severity, category or CODES[code].category, obj, summary[:1].upper() + summary[1:],
        check.message.format(**values), (evidence,), (check.fix.format(**values),), action,
        parts[1] if len(parts) == 3 else "",
    )


__all__ = ["CHECKS", "Check", "Finding", "count_by_severity", "finding", "sort_findings"]
