"""Why the fargate-scheduler refuses a pod (DOMAIN.md 3.8, 5.1, 5.2): the clauses of its
``Pod not supported on Fargate: ...`` message, each the observed text, joined by ", ".

Decisions where DOMAIN.md is silent or unsure, kept explicit:
- Clause order: host namespaces, volumes, security contexts, host ports (the order of the table).
- Security contexts: one entry per offending container (init containers first), entries joined by
  "," as in the observed ``Privileged,Privileged``; fields inside one container by ", ".
- Added capabilities: every one is refused except SYS_PTRACE, the only one Fargate documents as
  addable (ECS); the observed refusals are NET_ADMIN, CAP_CHOWN and DAC_READ_SEARCH.
- ``allowPrivilegeEscalation: true`` was refused in 2020 and its status now is unknown: admitted.
- Volumes: only the documented safe set is admitted; a claim must be bound to a PV of the EFS CSI
  driver.
"""

from __future__ import annotations

from typing import Any, Mapping

PREFIX = "Pod not supported on Fargate: "
UNSUPPORTED_REASON = "POD_UNSUPPORTED_ON_FARGATE"
HOST_PORT_CLAUSE = "port contains HostIP or HostPort"
ADDABLE_CAPABILITIES = frozenset({"SYS_PTRACE"})
REFUSE_PRIVILEGE_ESCALATION = False
SAFE_VOLUME_SOURCES = frozenset({"emptyDir", "configMap", "secret", "projected", "downwardAPI"})
EFS_DRIVER = "efs.csi.aws.com"

Objects = Mapping[str, Mapping[str, Any]]


def _all_containers(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]


def _host_namespaces(spec: Mapping[str, Any]) -> list[str]:
    return [name for key, name in (("hostNetwork", "HostNetwork"), ("hostPID", "HostPID"),
                                   ("hostIPC", "HostIPC")) if spec.get(key) is True]


def _claim_problem(claim: str, pvcs: Objects, pvs: Objects) -> str | None:
    pvc = pvcs.get(claim)
    if pvc is None:
        return f'persistentvolumeclaim "{claim}" not found'
    pv_name = (pvc.get("spec") or {}).get("volumeName")
    if not pv_name or (pvc.get("status") or {}).get("phase") != "Bound":
        return f"PVC {claim} not bound"
    pv = pvs.get(pv_name)
    if pv is None:
        return f'persistentvolume "{pv_name}" not found'
    driver = ((pv.get("spec") or {}).get("csi") or {}).get("driver")
    if driver != EFS_DRIVER:
        return f"PVC {claim} bound to invalid PV {pv_name} with CSI Driver: {driver or ''}"
    return None


def _volume_problems(spec: Mapping[str, Any], pvcs: Objects, pvs: Objects) -> list[str]:
    problems = []
    for volume in spec.get("volumes") or ():
        name = volume.get("name", "")
        source = next((key for key in volume if key != "name"), None)
        if source == "persistentVolumeClaim":
            problem = _claim_problem(str((volume[source] or {}).get("claimName", "")), pvcs, pvs)
            if problem is not None:
                problems.append(f"{name} not supported because: {problem}")
        elif source not in SAFE_VOLUME_SOURCES:
            problems.append(f"{name} is of an unsupported volume Type")
    return problems


def _security_fields(container: Mapping[str, Any]) -> list[str]:
    context = container.get("securityContext") or {}
    fields = ["Privileged"] if context.get("privileged") is True else []
    added = [str(c) for c in (context.get("capabilities") or {}).get("add") or ()
             if c not in ADDABLE_CAPABILITIES]
    if added:
        fields.append("Capabilities added: " + ", ".join(added))
    if REFUSE_PRIVILEGE_ESCALATION and context.get("allowPrivilegeEscalation") is True:
        fields.append("AllowPrivilegeEscalation")
    return fields


def _uses_host_port(spec: Mapping[str, Any]) -> bool:
    return any(port.get("hostPort") or port.get("hostIP")
               for container in _all_containers(spec) for port in container.get("ports") or ())


def rejection_clauses(spec: Mapping[str, Any], pvcs: Objects | None = None,
                      pvs: Objects | None = None) -> list[str]:
    """The clauses after ``Pod not supported on Fargate: ``; empty when Fargate takes the pod.
    ``pvcs``: the claims of the pod's namespace by name; ``pvs``: persistent volumes by name."""
    clauses = []
    if host := _host_namespaces(spec):
        clauses.append("fields not supported: " + ", ".join(host))
    if volumes := _volume_problems(spec, pvcs or {}, pvs or {}):
        clauses.append("volumes not supported: " + ", ".join(volumes))
    contexts = [", ".join(fields) for c in _all_containers(spec) if (fields := _security_fields(c))]
    if contexts:
        clauses.append("invalid SecurityContext fields: " + ",".join(contexts))
    if _uses_host_port(spec):
        clauses.append(HOST_PORT_CLAUSE)
    return clauses


def rejection_message(clauses: list[str]) -> str:
    return PREFIX + ", ".join(clauses)
