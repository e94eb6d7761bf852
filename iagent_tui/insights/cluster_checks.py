"""Cluster-level Fargate checks: load balancing, IAM trust, CoreDNS, Pod Identity (FG018-FG024).

Sources: DOMAIN.md 6.3 (ip targets are required for Fargate pods: the LBC's instance mode skips
Fargate nodes), 8.1 (the pod execution role's principal is ``eks-fargate-pods.amazonaws.com``;
``pods.eks.amazonaws.com`` is EKS Pod Identity, which Fargate doesn't support), 4.2 (CoreDNS
``computeType: Fargate`` still needs a kube-system profile, created before the pods), 5.1.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Mapping

import yaml

from ..iam_policy import ANY, Principal, allows, named_principals, parse_policy
from ..model import Ingress, Service
from .findings import Finding, finding

FARGATE_POD_PRINCIPAL = "eks-fargate-pods.amazonaws.com"
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
ALB_TARGET_TYPE = "alb.ingress.kubernetes.io/target-type"
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
NLB_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type"
NLB_TARGET_TYPE = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"
LBC_NLB_CLASS = "service.k8s.aws/nlb"
COREDNS_POD_LABELS = {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"}


def _name(kind: str, obj: Ingress | Service) -> str:
    return f"{kind}/{obj.namespace or 'default'}/{obj.name or '?'}"


def check_ingresses(
    ingresses: Iterable[Ingress],
    services: Mapping[tuple[str, str], Service],
    on_fargate: Callable[[Service], bool],
    alb_classes: frozenset[str] = frozenset({"alb"}),
) -> Iterator[Finding]:
    """FG019. ``on_fargate(service) -> bool`` says whether the service's pods would run on Fargate.
    A Service's own target-type annotation overrides the Ingress's, as in the LBC."""
    for ingress in ingresses:
        # class_name is spec.ingressClassName, else the legacy kubernetes.io/ingress.class annotation
        if ingress.class_name not in alb_classes:
            continue
        namespace = ingress.namespace or "default"
        ingress_type = ingress.annotations.get(ALB_TARGET_TYPE)
        for service_name in ingress.backend_services:
            service = services.get((namespace, service_name))
            own_type = service.annotations.get(ALB_TARGET_TYPE) if service is not None else None
            target_type = own_type or ingress_type
            if target_type == "ip":
                continue
            fargate = service is not None and on_fargate(service)
            yield finding(
                "FG019",
                _name("Ingress", ingress),
                f"backend {service_name}: {ALB_TARGET_TYPE}: {target_type or '(unset: instance)'}",
                severity="error" if fargate else "warning",
                consequence="the target group stays empty." if fargate else "this breaks once the pods move to Fargate.",
            )


def check_load_balancer_services(services: Iterable[Service], on_fargate: Callable[[Service], bool]) -> Iterator[Finding]:
    """FG020: Services of type LoadBalancer that would not register pod IPs."""
    for service in services:
        if service.type != "LoadBalancer":
            continue
        annotations = service.annotations
        lb_type = annotations.get(NLB_TYPE)
        if lb_type == "nlb-ip" or (
            (lb_type == "external" or service.load_balancer_class == LBC_NLB_CLASS)
            and annotations.get(NLB_TARGET_TYPE) == "ip"
        ):
            continue
        evidence = f"{NLB_TYPE}: {lb_type or '(unset)'}, {NLB_TARGET_TYPE}: {annotations.get(NLB_TARGET_TYPE) or '(unset)'}"
        fargate = on_fargate(service)
        yield finding(
            "FG020",
            _name("Service", service),
            evidence,
            severity="error" if fargate else "warning",
            consequence="its pods on Fargate get no traffic." if fargate else "this breaks once the pods move to Fargate.",
        )


def trust_policy(document: str | Mapping[str, Any]) -> Mapping[str, Any]:
    """A role's AssumeRolePolicyDocument as a dict: IAM's raw API returns it URL-encoded JSON,
    boto3 returns it decoded."""
    return parse_policy(document)


# EKS sends the profile's ARN and account with every AssumeRole (DOMAIN.md 8.1). A profile of a
# cluster in an account that is not ours plays the confused deputy: a trust that admits it has no
# working aws:SourceArn limit, whatever keys its Condition names.
_FOREIGN_PROFILE_ARN = ("arn:aws:eks:xx-none-1:000000000000:fargateprofile/another-cluster/another-profile/"
                        "00000000-0000-0000-0000-000000000000")


def trusted_services(document: str | Mapping[str, Any]) -> dict[str, bool]:
    """Service principals allowed sts:AssumeRole -> whether an aws:SourceArn condition limits it."""
    policy = trust_policy(document)
    trusted: dict[str, bool] = {}
    for service in named_principals(policy, "Service", "sts:AssumeRole"):
        def assume(source_arn: Any) -> bool:
            return allows(policy, principal=Principal.service(service), action="sts:AssumeRole",
                          context={"aws:SourceArn": source_arn, "aws:SourceAccount": ANY}).allowed
        if assume(ANY):
            trusted[service] = not assume(_FOREIGN_PROFILE_ARN)
    return trusted


def check_pod_execution_roles(roles: Iterable[Mapping[str, Any]],
                              profile_arns: Mapping[str, Iterable[str]] | None = None) -> Iterator[Finding]:
    """FG021/FG022 over IAM GetRole 'Role' dicts (RoleName, Arn, AssumeRolePolicyDocument).
    ``profile_arns``: role ARN -> the ARNs of this cluster's profiles that use it; a trust whose
    aws:SourceArn condition excludes one of them blocks that profile's launches (DOMAIN.md 8.1)."""
    for role in roles:
        obj = f"IAMRole/{role.get('RoleName') or role.get('Arn', '?')}"
        document = role.get("AssumeRolePolicyDocument") or {}
        services = trusted_services(document)
        if FARGATE_POD_PRINCIPAL not in services:
            wrong = POD_IDENTITY_PRINCIPAL in services
            detail = f"; {POD_IDENTITY_PRINCIPAL} is EKS Pod Identity, which Fargate doesn't use." if wrong else "."
            yield finding("FG021", obj, f"trusted services: {', '.join(sorted(services)) or '(none)'}", detail=detail)
            continue
        if not services[FARGATE_POD_PRINCIPAL]:
            yield finding("FG022", obj, f"{FARGATE_POD_PRINCIPAL} trusted without an aws:SourceArn condition")
        for arn in sorted((profile_arns or {}).get(str(role.get("Arn", "")), ())):
            decision = allows(document, principal=Principal.service(FARGATE_POD_PRINCIPAL), action="sts:AssumeRole",
                              context={"aws:SourceArn": arn, "aws:SourceAccount": ANY})
            if not decision.allowed:
                yield finding("FG021", obj, f"profile {arn.split('/')[-2] if arn.count('/') >= 3 else arn}: "
                              f"{decision.reason}", detail=f" for this cluster's profiles ({decision.reason}).")
                break


def addon_configuration(addon: Mapping[str, Any]) -> Mapping[str, Any]:
    """An add-on's configurationValues (JSON or YAML string, as EKS accepts) as a dict."""
    raw = addon.get("configurationValues")
    if not raw:
        return {}
    try:
        values = yaml.safe_load(raw)  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        raise ValueError(f"add-on {addon.get('addonName', '?')} configurationValues unreadable: {exc}") from None
    return values if isinstance(values, Mapping) else {}


def check_pod_identity(
    workloads: Iterable[tuple[str, str, str]], associations: Iterable[Mapping[str, Any]]
) -> Iterator[Finding]:
    """FG024. ``workloads``: (object, namespace, serviceAccountName) of workloads bound for
    Fargate; ``associations``: EKS ListPodIdentityAssociations items (namespace, serviceAccount)."""
    associated = {(a.get("namespace"), a.get("serviceAccount")) for a in associations}
    for obj, namespace, account in workloads:
        if (namespace, account) in associated:
            yield finding("FG024", obj, f"service account {namespace}/{account} has an EKS Pod Identity association")
