"""Why fargate-scheduler refuses a pod: the exact clauses of its FailedScheduling event.

The event message is ``Pod not supported on Fargate: `` + the clauses joined by ``", "``, and the
PodScheduled condition gets reason ``POD_UNSUPPORTED_ON_FARGATE`` (DOMAIN.md 3.8, 5.2).

Clause texts are the observed ones (DOMAIN.md 5.2). Their order and inner joins follow a public Go
pod validator written in fargate-scheduler's vocabulary (stored code, find_string id 18642101109),
which agrees with every observed message: top-level fields, then volumes, then security contexts
(init containers first, one entry per container joined by ``","`` as in the observed
``Privileged,Privileged``; inside one container ``Capabilities added: X, Y``,
``AllowPrivilegeEscalation``, ``Privileged`` joined by ``", "``), then ``volumeDevices not
supported``, then the host port clause.

Decisions where the sources are thin:

* Capabilities: the validator permits containerd's default set (CHOWN, NET_BIND_SERVICE, ...); any
  other added capability is rejected, which matches the observed rejections of NET_ADMIN,
  DAC_READ_SEARCH and CAP_CHOWN (the ``CAP_`` spelling is not in the set). SYS_PTRACE, IPC_LOCK,
  LINUX_IMMUTABLE and SYS_RESOURCE are "advanced" capabilities that the validator admits only when
  enabled; they are not rejected here and the findings warn about them instead.
* ``allowPrivilegeEscalation: true`` was rejected in 2020; its current status is unknown
  (DOMAIN.md 5.2: warning), so it is a clause only with ``reject_privilege_escalation=True``.
* ``nfs`` volumes are admitted, as in the validator; DOMAIN's safe set does not list them, so the
  findings warn.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import Container, PodSpec, Volume, VolumeClaim

MESSAGE_PREFIX = "Pod not supported on Fargate: "
UNSUPPORTED_REASON = "POD_UNSUPPORTED_ON_FARGATE"
HOST_PORT_CLAUSE = "port contains HostIP or HostPort"
VOLUME_DEVICES_CLAUSE = "volumeDevices not supported"
EFS_CSI_DRIVER = "efs.csi.aws.com"

# containerd's default capability set (containerd oci/spec.go), as the validator permits.
PERMITTED_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
        "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)  # fmt: skip
ADVANCED_CAPABILITIES = frozenset({"IPC_LOCK", "LINUX_IMMUTABLE", "SYS_PTRACE", "SYS_RESOURCE"})

SUPPORTED_VOLUME_TYPES = ("emptyDir", "secret", "configMap", "projected", "downwardAPI", "nfs")


def host_fields(pod_spec: PodSpec) -> list[str]:
    """Host namespaces the pod asks for, in the scheduler's order."""
    fields = ((pod_spec.host_network, "HostNetwork"), (pod_spec.host_pid, "HostPID"), (pod_spec.host_ipc, "HostIPC"))
    return [label for wanted, label in fields if wanted]


def rejected_capabilities(container: Container) -> list[str]:
    return [c for c in container.capabilities_added if c not in PERMITTED_CAPABILITIES | ADVANCED_CAPABILITIES]


def security_context_fields(container: Container, *, reject_privilege_escalation: bool) -> list[str]:
    fields = []
    rejected = rejected_capabilities(container)
    if rejected:
        fields.append("Capabilities added: " + ", ".join(rejected))
    if reject_privilege_escalation and container.allow_privilege_escalation:
        fields.append("AllowPrivilegeEscalation")
    if container.privileged:
        fields.append("Privileged")
    return fields


def has_host_port(pod_spec: PodSpec) -> bool:
    return any(container.uses_host_port for container in pod_spec.all_containers)


def pvc_problem(claim_name: str, pvcs: Mapping[str, VolumeClaim], pvs: Mapping[str, Volume]) -> str | None:
    """Why a PVC cannot back a Fargate volume (only a bound EFS CSI PV can), or None if it can."""
    pvc = pvcs.get(claim_name)
    if pvc is None:
        return f'persistentvolumeclaim "{claim_name}" not found'
    pv_name = pvc.volume_name
    if pvc.phase != "Bound" or not pv_name:
        return f"PVC {claim_name} not bound"
    pv = pvs.get(pv_name)
    if pv is None:
        return f'persistentvolumes "{pv_name}" not found'
    if not pv.csi_driver:
        return f"PVC {claim_name} bound to invalid PV {pv_name} with nil CSI spec"
    if pv.csi_driver != EFS_CSI_DRIVER:
        return f"PVC {claim_name} bound to invalid PV {pv_name} with CSI Driver: {pv.csi_driver}"
    return None


def volume_problems(pod_spec: PodSpec, pvcs: Mapping[str, VolumeClaim], pvs: Mapping[str, Volume]) -> list[str]:
    """One entry per unsupported volume, in spec order."""
    problems = []
    for volume in pod_spec.volumes:
        if volume.type == "persistentVolumeClaim":
            problem = pvc_problem(volume.claim_name, pvcs, pvs)
            if problem:
                problems.append(f"{volume.name} not supported because: {problem}")
        elif volume.type not in SUPPORTED_VOLUME_TYPES:
            problems.append(f"{volume.name} is of an unsupported volume Type")
    return problems


def fargate_rejection_reasons(
    pod_spec: PodSpec,
    *,
    pvcs: Mapping[str, VolumeClaim] | None = None,
    pvs: Mapping[str, Volume] | None = None,
    reject_privilege_escalation: bool = False,
) -> list[str]:
    """The clauses fargate-scheduler puts after ``Pod not supported on Fargate: ``; empty = admitted.

    ``pvcs`` maps claim name -> claim in the pod's namespace, ``pvs`` maps name -> volume."""
    clauses = []
    fields = host_fields(pod_spec)
    if fields:
        clauses.append("fields not supported: " + ", ".join(fields))
    volumes = volume_problems(pod_spec, pvcs or {}, pvs or {})
    if volumes:
        clauses.append("volumes not supported: " + ", ".join(volumes))
    contexts = [
        ", ".join(fields)
        for container in pod_spec.all_containers
        if (fields := security_context_fields(container, reject_privilege_escalation=reject_privilege_escalation))
    ]
    if contexts:
        clauses.append("invalid SecurityContext fields: " + ",".join(contexts))
    if any(container.has_volume_devices for container in pod_spec.all_containers):
        clauses.append(VOLUME_DEVICES_CLAUSE)
    if has_host_port(pod_spec):
        clauses.append(HOST_PORT_CLAUSE)
    return clauses


def rejection_message(clauses: list[str]) -> str:
    """The FailedScheduling event message for a non-empty clause list."""
    if not clauses:
        raise ValueError("rejection_message needs at least one clause")
    return MESSAGE_PREFIX + ", ".join(clauses)
