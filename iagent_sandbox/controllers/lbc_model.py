"""What the AWS Load Balancer Controller builds from an Ingress, as pure data: resource names,
annotation defaults and the ingress -> (ALB, listener, target groups) model.

Names follow LBC's own code (pkg/ingress/model_build_load_balancer.go and
model_build_target_group.go, DOMAIN.md 6.5) so a user who computes the hash by hand, or compares
with a real cluster, gets the same names. Nothing here talks to moto or the store.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

ANN = "alb.ingress.kubernetes.io/"
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
INGRESS_CLASS = "alb"
READINESS_GATE_PREFIX = "target-health.elbv2.k8s.aws/"
READINESS_INJECT_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"

# LBC's defaults (DOMAIN.md 6.4), not ELB's (30/5/5/2): the controller always sends its own.
DEFAULTS = {
    "scheme": "internal",
    "target-type": "instance",
    "healthcheck-path": "/",
    "healthcheck-interval-seconds": "15",
    "healthcheck-timeout-seconds": "5",
    "healthy-threshold-count": "2",
    "unhealthy-threshold-count": "2",
    "success-codes": "200",
    "healthcheck-port": "traffic-port",
    "backend-protocol": "HTTP",
    "backend-protocol-version": "HTTP1",
}
DEREGISTRATION_DELAY_SECONDS = 300
SUBNET_ROLE_TAGS = {"internet-facing": "kubernetes.io/role/elb", "internal": "kubernetes.io/role/internal-elb"}

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")


class ModelBuildError(ValueError):
    """An ingress the controller cannot turn into a load balancer; str() is the text LBC puts
    after 'Failed build model due to ' in its Warning event."""


def sanitize(text: str) -> str:
    """LBC's ``[[:^alnum:]]`` removal: 'game-2048' -> 'game2048'."""
    return _NON_ALNUM.sub("", text)


def _sha256_hex(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:  # Go writes each part into the same hash with no separator
        digest.update(part.encode())
    return digest.hexdigest()


def load_balancer_name(cluster: str, namespace: str, ingress: str, scheme: str) -> str:
    """Implicit ingress group (one ingress): k8s-<ns8>-<name8>-<sha256(cluster+ns/name+scheme)[:10]>."""
    uuid = _sha256_hex(cluster, f"{namespace}/{ingress}", scheme)
    return f"k8s-{sanitize(namespace)[:8]}-{sanitize(ingress)[:8]}-{uuid[:10]}"


def target_group_name(cluster: str, ing_namespace: str, ing_name: str, svc_namespace: str,
                      svc_name: str, svc_uid: str, port: str, tg_port: int, target_type: str,
                      protocol: str = "HTTP", protocol_version: str = "HTTP1") -> str:
    """k8s-<svcns8>-<svc8>-<hash10>; ``port`` is the ingress backend port as IntOrString text
    ("80" or "http")."""
    uuid = _sha256_hex(cluster, f"{ing_namespace}/{ing_name}", ing_namespace, ing_name, svc_uid,
                       port, str(tg_port), target_type, protocol, protocol_version)
    return f"k8s-{sanitize(svc_namespace)[:8]}-{sanitize(svc_name)[:8]}-{uuid[:10]}"


def is_alb_ingress(ingress: dict) -> bool:
    spec = ingress.get("spec") or {}
    if spec.get("ingressClassName"):
        return spec["ingressClassName"] == INGRESS_CLASS
    annotations = (ingress.get("metadata") or {}).get("annotations") or {}
    return annotations.get(LEGACY_CLASS_ANNOTATION) == INGRESS_CLASS


def annotation(key: str, *sources: dict) -> str:
    """Later sources win (LBC merges service annotations, then the ingress's over them)."""
    value = DEFAULTS.get(key)
    for source in sources:
        value = (source or {}).get(ANN + key, value)
    return value


def _int_annotation(key: str, *sources: dict) -> int:
    raw = annotation(key, *sources)
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ModelBuildError(f"failed to parse int64 annotation, {ANN}{key}: {raw}: "
                              f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None


@dataclass(frozen=True)
class HealthCheck:
    path: str = "/"
    port: str = "traffic-port"
    interval: int = 15
    timeout: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2
    success_codes: str = "200"

    def matches(self, code: int) -> bool:
        """ELB matcher syntax: '200', '200,202', '200-299'."""
        for part in self.success_codes.split(","):
            part = part.strip()
            if "-" in part:
                low, high = part.split("-", 1)
                if int(low) <= code <= int(high):
                    return True
            elif part and int(part) == code:
                return True
        return False


@dataclass(frozen=True)
class BackendModel:
    """One target group (and its TargetGroupBinding) for a service port an ingress routes to."""
    tg_name: str
    namespace: str            # the service's namespace: where the TGB lives
    service: str
    service_port: str         # IntOrString as text, as it appears in the TGB serviceRef
    tg_port: int
    target_type: str
    health: HealthCheck
    paths: tuple[tuple[str, str], ...] = ()   # (path, pathType) routed here


@dataclass(frozen=True)
class IngressModel:
    namespace: str
    name: str
    lb_name: str
    scheme: str
    backends: tuple[BackendModel, ...] = field(default_factory=tuple)


def find_service_port(service: dict, port: dict) -> dict:
    """The ServicePort an ingress backend port ({number} or {name}) refers to."""
    ports = (service.get("spec") or {}).get("ports") or []
    for sp in ports:
        if ("number" in port and sp.get("port") == port["number"]) or \
                ("name" in port and sp.get("name") == port["name"]):
            return sp
    wanted = port.get("number", port.get("name"))
    raise ModelBuildError(f'unable to find port {wanted} on service '
                          f'{service["metadata"]["namespace"]}/{service["metadata"]["name"]}')


def build_model(cluster: str, ingress: dict, services: dict[str, dict]) -> IngressModel:
    """``services``: name -> Service object in the ingress's namespace. Raises ModelBuildError with
    LBC's wording for what a user can get wrong (unknown target type, missing service/port)."""
    meta = ingress["metadata"]
    ns, name = meta["namespace"], meta["name"]
    ing_ann = meta.get("annotations") or {}
    scheme = annotation("scheme", ing_ann)
    if scheme not in ("internal", "internet-facing"):
        raise ModelBuildError(f"unknown scheme: {scheme}")
    lb_name = ing_ann.get(ANN + "load-balancer-name") or load_balancer_name(cluster, ns, name, scheme)
    if len(lb_name) > 32:
        raise ModelBuildError("load balancer name cannot be longer than 32 characters")

    spec = ingress.get("spec") or {}
    routes: list[tuple[dict, str, str]] = []   # (backend.service, path, pathType)
    if (spec.get("defaultBackend") or {}).get("service"):
        routes.append((spec["defaultBackend"]["service"], "/*", "default"))
    for rule in spec.get("rules") or []:
        for path in ((rule.get("http") or {}).get("paths") or []):
            svc_ref = (path.get("backend") or {}).get("service")
            if svc_ref:
                routes.append((svc_ref, path.get("path") or "/", path.get("pathType") or "Prefix"))

    backends: dict[tuple[str, str], dict] = {}
    for svc_ref, path, path_type in routes:
        svc_name = svc_ref["name"]
        service = services.get(svc_name)
        if service is None:
            # LBC wraps backend errors with the ingress they came from.
            raise ModelBuildError(f'ingress: {ns}/{name}: services "{svc_name}" not found')
        svc_ann = service["metadata"].get("annotations") or {}
        port = svc_ref.get("port") or {}
        port_text = str(port.get("number", port.get("name", "")))
        key = (svc_name, port_text)
        if key not in backends:
            target_type = annotation("target-type", svc_ann, ing_ann)
            if target_type not in ("instance", "ip"):
                raise ModelBuildError(f"unknown targetType: {target_type}")
            sp = find_service_port(service, port)
            if target_type == "instance":
                if not sp.get("nodePort"):
                    raise ModelBuildError(
                        f"{ns}/{svc_name}: service type must be either 'NodePort' or 'LoadBalancer' "
                        "for target-type instance")
                tg_port = int(sp["nodePort"])
            else:
                target_port = sp.get("targetPort", sp.get("port"))
                tg_port = target_port if isinstance(target_port, int) else 1
            health = HealthCheck(
                path=annotation("healthcheck-path", svc_ann, ing_ann),
                port=annotation("healthcheck-port", svc_ann, ing_ann),
                interval=_int_annotation("healthcheck-interval-seconds", svc_ann, ing_ann),
                timeout=_int_annotation("healthcheck-timeout-seconds", svc_ann, ing_ann),
                healthy_threshold=_int_annotation("healthy-threshold-count", svc_ann, ing_ann),
                unhealthy_threshold=_int_annotation("unhealthy-threshold-count", svc_ann, ing_ann),
                success_codes=annotation("success-codes", svc_ann, ing_ann))
            tg_name = target_group_name(cluster, ns, name, ns, svc_name,
                                        service["metadata"].get("uid", ""), port_text, tg_port,
                                        target_type)
            backends[key] = {"tg_name": tg_name, "namespace": ns, "service": svc_name,
                             "service_port": port_text, "tg_port": tg_port,
                             "target_type": target_type, "health": health, "paths": []}
        backends[key]["paths"].append((path, path_type))
    models = tuple(BackendModel(**{**b, "paths": tuple(b["paths"])}) for b in backends.values())
    return IngressModel(namespace=ns, name=name, lb_name=lb_name, scheme=scheme, backends=models)


def alb_path_pattern(path: str, path_type: str) -> list[str]:
    """How LBC turns an ingress path into ALB path-pattern values (Prefix '/x' -> '/x', '/x/*')."""
    if path_type == "default":
        return ["/*"]
    if path_type == "Exact":
        return [path]
    if path_type == "Prefix":
        if path == "/":
            return ["/*"]
        trimmed = path.rstrip("/")
        return [trimmed, trimmed + "/*"]
    return [path]   # ImplementationSpecific: the path is the ALB pattern itself
