"""The Kubernetes objects that
``helm upgrade --install aws-load-balancer-controller eks/aws-load-balancer-controller -n kube-system
--set clusterName=... --set serviceAccount.create=false --set serviceAccount.name=aws-load-balancer-controller
--set region=... --set vpcId=...`` creates (chart facts: DOMAIN.md 6.2): the controller Deployment
with 2 replicas and the chart's args, the webhook Service and its TLS Secret, the IngressClass
``alb``, the ServiceAccount when the chart is asked to create it, and Helm's release Secret so
``helm list``-style tooling finds the release.

Used by the "migrated" scenario and by the sandbox's helm-compatible shim; both go through the
object store, so the controllers see the install exactly as they would see Helm's.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from ..clock import rfc3339

CHART_NAME = "aws-load-balancer-controller"
CHART_VERSION = "3.5.0"
APP_VERSION = "v3.5.0"
IMAGE = f"public.ecr.aws/eks/aws-load-balancer-controller:{APP_VERSION}"
RELEASE = "aws-load-balancer-controller"
NAMESPACE = "kube-system"
WEBHOOK_SERVICE = "aws-load-balancer-webhook-service"
TLS_SECRET = "aws-load-balancer-tls"


class ChartError(ValueError):
    """What helm prints when the chart refuses the values."""


def parse_set_values(assignments: list[str]) -> dict[str, Any]:
    """Helm's ``--set a.b=c`` into nested values (true/false and integers typed as helm does)."""
    values: dict[str, Any] = {}
    for item in assignments:
        if "=" not in item:
            raise ChartError(f'failed parsing --set data: key "{item}" has no value')
        key, raw = item.split("=", 1)
        value: Any = raw
        if raw in ("true", "false"):
            value = raw == "true"
        elif raw.lstrip("-").isdigit():
            value = int(raw)
        node = values
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return values


def _labels(release: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": CHART_NAME, "app.kubernetes.io/instance": release,
            "app.kubernetes.io/version": APP_VERSION, "app.kubernetes.io/managed-by": "Helm",
            "helm.sh/chart": f"{CHART_NAME}-{CHART_VERSION}"}


def _selector(release: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": CHART_NAME, "app.kubernetes.io/instance": release}


def _meta(name: str, namespace: str | None, release: str, release_ns: str) -> dict:
    meta = {"name": name, "labels": _labels(release),
            "annotations": {"meta.helm.sh/release-name": release,
                            "meta.helm.sh/release-namespace": release_ns}}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def chart_objects(values: dict[str, Any], namespace: str = NAMESPACE,
                  release: str = RELEASE) -> list[tuple[str, dict]]:
    """(resource plural, object) pairs the chart renders for ``values``."""
    cluster = values.get("clusterName")
    if not cluster:
        raise ChartError("execution error at (aws-load-balancer-controller/templates/deployment.yaml:1:4): "
                         "Chart cannot be installed without a valid clusterName!")
    sa_values = values.get("serviceAccount") or {}
    sa_create = sa_values.get("create", True)
    sa_name = sa_values.get("name") or (release if sa_create else "default")
    ingress_class = values.get("ingressClass", "alb")
    args = [f"--cluster-name={cluster}", f"--ingress-class={ingress_class}"]
    if values.get("region"):
        args.append(f"--aws-region={values['region']}")
    if values.get("vpcId"):
        args.append(f"--aws-vpc-id={values['vpcId']}")
    if values.get("defaultTargetType"):
        args.append(f"--default-target-type={values['defaultTargetType']}")
    replicas = int(values.get("replicaCount", 2))

    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": _meta(release, namespace, release, namespace),
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": _selector(release)},
            "template": {
                "metadata": {"labels": _selector(release),
                             "annotations": {"prometheus.io/port": "8080", "prometheus.io/scrape": "true"}},
                "spec": {
                    "serviceAccountName": sa_name,
                    "priorityClassName": "system-cluster-critical",
                    "terminationGracePeriodSeconds": 10,
                    "securityContext": {"fsGroup": 65534},
                    "volumes": [{"name": "cert", "secret": {"secretName": TLS_SECRET, "defaultMode": 420}}],
                    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                        "weight": 100, "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchExpressions": [{
                                "key": "app.kubernetes.io/name", "operator": "In",
                                "values": [CHART_NAME]}]}}}]}},
                    "containers": [{
                        "name": CHART_NAME,
                        "image": values.get("image", {}).get("repository", IMAGE.rsplit(":", 1)[0])
                        + ":" + values.get("image", {}).get("tag", APP_VERSION),
                        "imagePullPolicy": "IfNotPresent",
                        "args": args,
                        "ports": [{"name": "webhook-server", "containerPort": 9443, "protocol": "TCP"},
                                  {"name": "metrics-server", "containerPort": 8080, "protocol": "TCP"}],
                        "resources": values.get("resources") or {},
                        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "runAsNonRoot": True},
                        "volumeMounts": [{"name": "cert", "mountPath": "/tmp/k8s-webhook-server/serving-certs",
                                          "readOnly": True}],
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 61779, "scheme": "HTTP"},
                                          "initialDelaySeconds": 30, "timeoutSeconds": 10,
                                          "failureThreshold": 2},
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": 61779, "scheme": "HTTP"},
                                           "initialDelaySeconds": 10, "timeoutSeconds": 10,
                                           "periodSeconds": 10, "successThreshold": 1,
                                           "failureThreshold": 2},
                    }],
                },
            },
        },
    }
    webhook_service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {**_meta(WEBHOOK_SERVICE, namespace, release, namespace),
                     "labels": {**_labels(release), "app.kubernetes.io/component": "webhook",
                                "prometheus.io/service-monitor": "false"}},
        "spec": {"ports": [{"name": "webhook-server", "port": 443, "targetPort": "webhook-server",
                            "protocol": "TCP"}],
                 "selector": _selector(release)},
    }
    tls_secret = {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": _meta(TLS_SECRET, namespace, release, namespace),
        # The chart generates a CA and a serving cert; nothing in the sandbox dials the webhook, so
        # placeholders that say what they are keep the Secret honest.
        "data": {key: base64.b64encode(f"sandbox placeholder: {key}".encode()).decode()
                 for key in ("ca.crt", "tls.crt", "tls.key")},
    }
    ingress_class_obj = {
        "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
        "metadata": _meta(ingress_class, None, release, namespace),
        "spec": {"controller": "ingress.k8s.aws/alb"},
    }
    objects: list[tuple[str, dict]] = []
    if sa_create:
        sa_meta = _meta(sa_name, namespace, release, namespace)
        if sa_values.get("annotations"):
            sa_meta["annotations"].update(sa_values["annotations"])
        objects.append(("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": sa_meta}))
    objects += [("secrets", tls_secret), ("services", webhook_service), ("deployments", deployment)]
    if values.get("createIngressClassResource", True):
        objects.append(("ingressclasses", ingress_class_obj))
    return objects


def _release_secret(store, values: dict, namespace: str, release: str, revision: int) -> dict:
    """Helm 3's storage: Secret sh.helm.release.v1.<release>.v<N>, data.release =
    base64(gzip(json(release))) (Kubernetes base64-encodes it once more in the Secret's data)."""
    now = rfc3339(store.clock.now())
    record = {"name": release, "namespace": namespace, "version": revision,
              "info": {"status": "deployed", "first_deployed": now, "last_deployed": now,
                       "description": "Install complete" if revision == 1 else "Upgrade complete"},
              "chart": {"metadata": {"name": CHART_NAME, "version": CHART_VERSION,
                                     "appVersion": APP_VERSION.lstrip("v")}},
              "config": values}
    inner = base64.b64encode(gzip.compress(json.dumps(record).encode())).decode()
    return {"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": f"sh.helm.release.v1.{release}.v{revision}", "namespace": namespace,
                         "labels": {"name": release, "owner": "helm", "status": "deployed",
                                    "version": str(revision)}},
            "data": {"release": base64.b64encode(inner.encode()).decode()}}



def install(store, values: dict[str, Any], namespace: str = NAMESPACE,
            release: str = RELEASE) -> list[dict]:
    """``helm upgrade --install``: create what is missing, patch what exists, record the release
    revision (older ones superseded). Returns the objects written."""
    from ..kube.resources import rt
    objects = chart_objects(values, namespace, release)   # raises before touching the store
    written = []
    for plural, obj in objects:
        kind = rt(plural)
        ns = namespace if kind.namespaced else None
        existing = store.get(kind, ns, obj["metadata"]["name"])
        if existing is None:
            written.append(store.create(kind, obj, namespace=ns))
        else:
            # Helm 3 upgrades with a three-way strategic merge patch: unchanged values change
            # nothing (no new generation, no rollout), changed ones are patched in place.
            written.append(store.patch(kind, ns, obj["metadata"]["name"], obj,
                                       "application/strategic-merge-patch+json"))
    secrets = rt("secrets")
    previous, _ = store.list(secrets, namespace, label_selector=f"owner=helm,name={release}")
    revision = 1 + max((int(s["metadata"]["labels"].get("version", "0")) for s in previous), default=0)
    for old in previous:
        if old["metadata"]["labels"].get("status") == "deployed":
            store.mutate(secrets, namespace, old["metadata"]["name"],
                         lambda o: o["metadata"]["labels"].__setitem__("status", "superseded"))
    written.append(store.create(secrets, _release_secret(store, values, namespace, release, revision),
                                namespace=namespace))
    return written


def uninstall(store, namespace: str = NAMESPACE, release: str = RELEASE) -> list[str]:
    """``helm uninstall``: delete what the release created (objects carrying its release
    annotations) and its release records. Returns "kind/name" of what was deleted; an unknown
    release raises ChartError with helm's message."""
    from ..kube.errors import ApiError
    from ..kube.resources import rt
    secrets = rt("secrets")
    records, _ = store.list(secrets, namespace, label_selector=f"owner=helm,name={release}")
    if not records:
        raise ChartError(f"uninstall: Release not loaded: {release}: release: not found")
    deleted = []
    for plural in ("deployments", "services", "secrets", "serviceaccounts", "ingressclasses"):
        kind = rt(plural)
        items, _ = store.list(kind, namespace if kind.namespaced else None)
        for obj in items:
            ann = obj["metadata"].get("annotations") or {}
            if ann.get("meta.helm.sh/release-name") == release and \
                    ann.get("meta.helm.sh/release-namespace") == namespace:
                try:
                    store.delete(kind, obj["metadata"].get("namespace"), obj["metadata"]["name"])
                    deleted.append(f"{kind.kind}/{obj['metadata']['name']}")
                except ApiError as exc:
                    if exc.status != 404:
                        raise
    for record in records:
        store.delete(secrets, namespace, record["metadata"]["name"])
    return deleted
