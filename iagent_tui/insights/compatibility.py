"""Can these workloads move to Fargate, and where would their pods land?

``check_workloads`` runs every check (codes and sources in ``findings.py``) over the cluster's
objects as the APIs return them and returns findings worst first. ``placement`` answers where a
workload's new pods would be scheduled. ``fargate_rejection_reasons`` (re-exported from
``rejection.py``) is the scheduler's own rule, shared with the sandbox.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..model import FargateProfile, Ingress, Pod, Service, Volume, VolumeClaim, Workload
from .cluster_checks import (
    check_ingresses,
    check_load_balancer_services,
    check_pod_execution_roles,
    check_pod_identity,
)
from .findings import Finding, finding, sort_findings
from .pod_checks import check_pod_spec
from .pricing import RateCard, rate_card
from .profiles import match_profile, matching_profiles
from .rejection import fargate_rejection_reasons, pvc_problem, rejection_message
from .workloads import workload_ref

__all__ = ["Finding", "check_workloads", "fargate_rejection_reasons", "placement", "rejection_message"]

DEFAULT_WASTE_THRESHOLD = 0.25  # share of the pod's price paid for unrequested capacity


def placement(workload: Workload | Pod, profiles: Iterable[FargateProfile]) -> FargateProfile | None:
    """The ACTIVE profile a workload's new pods would be scheduled with, or None: they would stay
    with the default-scheduler (Pending when the cluster has no EC2 capacity for them)."""
    if workload.kind == "DaemonSet":
        return None  # DaemonSet pods target every node and are never given to fargate-scheduler
    template = workload.template
    return match_profile(workload.namespace or "default", template.labels, profiles, annotations=template.annotations)


def _is_controlled_pod(obj: Workload | Pod) -> bool:
    return isinstance(obj, Pod) and bool(obj.owner_kind)


def check_workloads(
    workloads: Iterable[Workload | Pod],
    *,
    profiles: Iterable[FargateProfile] | None = None,
    pvcs: Iterable[VolumeClaim] | None = (),
    pvs: Iterable[Volume] | None = (),
    services: Iterable[Service] = (),
    ingresses: Iterable[Ingress] = (),
    pod_execution_roles: Iterable[Mapping[str, Any]] = (),
    pod_identity_associations: Iterable[Mapping[str, Any]] = (),
    rates: RateCard | None = None,
    waste_threshold: float = DEFAULT_WASTE_THRESHOLD,
) -> list[Finding]:
    """Every finding for the given objects, worst first.

    ``workloads``: Deployments, StatefulSets, DaemonSets (``Workload`` records, each with its pod
    template) and bare ``Pod``s; pods owned by a controller are skipped because their controller is
    checked. ``profiles``: None skips the placement check (FG018).
    ``pvcs``/``pvs``: the cluster's PersistentVolumeClaims and PersistentVolumes; None when they
    could not be read (claims are then not judged rather than reported missing).
    ``pod_execution_roles``: IAM Role dicts (AWS documents) of the profiles' pod execution roles.
    ``rates`` (default us-east-1) only weighs rounding waste (FG017)."""
    workloads = [w for w in workloads if not _is_controlled_pod(w)]
    profile_list = list(profiles) if profiles is not None else []
    rates = rates or rate_card("us-east-1")
    claims_known = pvcs is not None and pvs is not None
    pvc_index = {(c.namespace or "default", c.name): c for c in pvcs or ()}
    pv_index = {v.name: v for v in pvs or ()}
    service_list = list(services)
    findings: list[Finding] = []
    fargate_bound: list[tuple[str, str, str]] = []
    templates = []
    for workload in workloads:
        obj, kind, namespace = str(workload_ref(workload)), workload.kind or "?", workload.namespace or "default"
        if is_eks_node_agent(workload):
            findings.append(finding("FG027", obj, "EKS-managed DaemonSet in kube-system"))
            continue
        template = workload.template
        findings += check_pod_spec(
            obj,
            kind,
            template.spec,
            pvc_lookup=(lambda claim, ns=namespace: pvc_index.get((ns, claim))) if claims_known else None,
            pvs=pv_index,
            rates=rates,
            waste_threshold=waste_threshold,
        )
        if isinstance(workload, Workload) and workload.claim_templates:
            findings += _claim_template_findings(obj, workload, pvc_index, pv_index, claims_known)
        profile = placement(workload, profile_list)
        templates.append((namespace, template.labels, profile is not None))
        if profile is not None:
            fargate_bound.append((obj, namespace, template.spec.service_account_name or "default"))
        elif profiles is not None and kind != "DaemonSet":
            findings.append(_unplaced(obj, namespace, template.labels, profile_list))

    def on_fargate(service: Service) -> bool:
        selector = service.selector
        return bool(selector) and any(
            ns == (service.namespace or "default") and fargate and all(labels.get(k) == v for k, v in selector.items())
            for ns, labels, fargate in templates
        )

    service_index = {(s.namespace or "default", s.name): s for s in service_list}
    findings += check_ingresses(ingresses, service_index, on_fargate)
    findings += check_load_balancer_services(service_list, on_fargate)
    arns_by_role: dict[str, list[str]] = {}
    for p in profile_list:
        if p.arn and p.pod_execution_role_arn:
            arns_by_role.setdefault(p.pod_execution_role_arn, []).append(p.arn)
    findings += check_pod_execution_roles(pod_execution_roles, arns_by_role)
    findings += check_pod_identity(fargate_bound, pod_identity_associations)
    return sort_findings(findings)


# DaemonSets EKS itself (or its add-ons) runs on EC2 nodes; Fargate builds their function into
# every Fargate node (networking, kube-proxy, credentials), so they are not workloads to migrate and
# flagging them as errors would bury the real findings.
EKS_NODE_AGENTS = frozenset({"aws-node", "kube-proxy", "eks-pod-identity-agent", "ebs-csi-node",
                             "efs-csi-node", "aws-node-termination-handler"})


def is_eks_node_agent(workload: Workload | Pod) -> bool:
    return workload.kind == "DaemonSet" and workload.namespace == "kube-system" and workload.name in EKS_NODE_AGENTS


def _claim_template_findings(obj: str, sts: Workload, pvcs: Mapping[tuple[str, str], VolumeClaim],
                             pvs: Mapping[str, Volume], claims_known: bool) -> list[Finding]:
    """FG008 for a StatefulSet's volumeClaimTemplates: their claims (``<template>-<name>-<n>``)
    are provisioned dynamically unless pre-bound to a static EFS volume, and Fargate mounts only
    the latter. Without the claims at hand, the template alone still says dynamic provisioning."""
    namespace, name = sts.namespace or "default", sts.name or "?"
    found = []
    for template in sts.claim_templates:
        claim_prefix = f"{template.name}-{name}-"
        claims = sorted(key[1] for key in pvcs if key[0] == namespace and key[1].startswith(claim_prefix))
        problems = [p for c in claims if (p := pvc_problem(c, {c: pvcs[(namespace, c)]}, pvs))]
        if problems:
            evidence = "; ".join(problems)
        elif claims:
            continue  # every claim bound to a static EFS volume: Fargate mounts it
        else:
            storage_class = template.storage_class or "the default storage class"
            evidence = (f"volumeClaimTemplate {template.name}: claims provisioned dynamically by "
                        f"{storage_class}" + ("" if claims_known else " (claims not readable)"))
        found.append(finding("FG008", obj, evidence, volume=template.name))
    return found


def _unplaced(obj: str, namespace: str, labels: Mapping[str, str], profiles: list[FargateProfile]) -> Finding:
    inactive = matching_profiles(namespace, labels, profiles, active_only=False)
    if inactive:
        states = ", ".join(f"{p.name} is {p.status}" for p in inactive)
        evidence = f"namespace {namespace}: {states}"
    else:
        evidence = f"namespace {namespace}, labels {dict(labels)}: no profile selector matches"
    return finding("FG018", obj, evidence, namespace=namespace, action="add-namespace")
