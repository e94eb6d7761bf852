"""The defaults a real API server fills in on create, where clients and controllers rely on them.

These mirror the Go defaulting functions (pkg/apis/core/v1/defaults.go, apps/v1/defaults.go) and the
DefaultTolerationSeconds admission plugin: `kubectl get pod -o yaml` against the sandbox should show
the fields it shows against EKS, and a controller reading ``spec.schedulerName`` or
``terminationGracePeriodSeconds`` must find them set.
"""

from __future__ import annotations

from typing import Any

from .resources import ResourceType

# Resources whose create strategy discards any status the client sent (PrepareForCreate).
STATUS_RESET_ON_CREATE = {
    "pods", "services", "deployments", "replicasets", "daemonsets", "statefulsets", "ingresses",
    "replicationcontrollers", "persistentvolumeclaims", "persistentvolumes", "namespaces", "targetgroupbindings",
    "jobs", "cronjobs", "poddisruptionbudgets",
}

# Resources that track metadata.generation (their spec is reconciled by a controller).
TRACKS_GENERATION = {
    "deployments", "replicasets", "daemonsets", "statefulsets", "ingresses", "ingressclasses",
    "replicationcontrollers", "targetgroupbindings", "jobs", "cronjobs", "poddisruptionbudgets",
}


def _image_pull_policy(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _default_container(c: dict[str, Any]) -> None:
    c.setdefault("imagePullPolicy", _image_pull_policy(c.get("image", "")))
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    for port in c.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        p = c.get(probe)
        if isinstance(p, dict):
            p.setdefault("timeoutSeconds", 1)
            p.setdefault("periodSeconds", 10)
            p.setdefault("successThreshold", 1)
            p.setdefault("failureThreshold", 3)
            if isinstance(p.get("httpGet"), dict):
                p["httpGet"].setdefault("path", "/")
                p["httpGet"].setdefault("scheme", "HTTP")


def default_pod_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if isinstance(c, dict):
            _default_container(c)


def _default_pod(pod: dict[str, Any]) -> None:
    spec = pod.setdefault("spec", {})
    default_pod_spec(spec)
    # Set by the ServiceAccount admission plugin and the priority/tolerations admission plugins.
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == key for t in tolerations if isinstance(t, dict)):
            tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": 300})
    pod["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}


def qos_class(spec: dict[str, Any]) -> str:
    """The pod's QoS class from its containers' requests and limits (Guaranteed, Burstable,
    BestEffort), as the API server sets status.qosClass."""
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    any_set, guaranteed = False, True
    for c in containers:
        res = (c or {}).get("resources") or {}
        requests, limits = res.get("requests") or {}, res.get("limits") or {}
        if requests or limits:
            any_set = True
        for name in ("cpu", "memory"):
            lim = limits.get(name)
            req = requests.get(name, lim)
            if lim is None or str(req) != str(lim):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _default_template(obj: dict[str, Any]) -> None:
    template = obj.setdefault("spec", {}).setdefault("template", {})
    template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    default_pod_spec(template.setdefault("spec", {}))


def _default_deployment(d: dict[str, Any]) -> None:
    spec = d.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", "25%")
        ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _default_template(d)


def _default_daemonset(d: dict[str, Any]) -> None:
    spec = d.setdefault("spec", {})
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", 1)
        ru.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _default_template(d)


def _default_statefulset(s: dict[str, Any]) -> None:
    spec = s.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("persistentVolumeClaimRetentionPolicy",
                    {"whenDeleted": "Retain", "whenScaled": "Retain"})
    _default_template(s)


def _default_replicaset(r: dict[str, Any]) -> None:
    r.setdefault("spec", {}).setdefault("replicas", 1)
    _default_template(r)


def _default_replication_controller(rc: dict[str, Any]) -> None:
    """SetDefaults_ReplicationController: selector and labels from the template's labels."""
    spec = rc.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    if template_labels:
        if not spec.get("selector"):
            spec["selector"] = dict(template_labels)
        if not (rc.get("metadata") or {}).get("labels"):
            rc.setdefault("metadata", {})["labels"] = dict(template_labels)
    _default_template(rc)


def _default_service(svc: dict[str, Any]) -> None:
    spec = svc.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    if spec["type"] == "ExternalName":
        spec.setdefault("sessionAffinity", "None")
        return
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    svc["status"] = {"loadBalancer": {}}


def _default_namespace(ns: dict[str, Any]) -> None:
    name = ns["metadata"]["name"]
    ns["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    ns.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    ns["status"] = {"phase": "Active"}


def _default_secret(s: dict[str, Any]) -> None:
    s.setdefault("type", "Opaque")


def _default_pvc(p: dict[str, Any]) -> None:
    p.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    p["status"] = {"phase": "Pending"}


def _default_pv(p: dict[str, Any]) -> None:
    spec = p.setdefault("spec", {})
    spec.setdefault("volumeMode", "Filesystem")
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    p["status"] = {"phase": "Pending"}


def _default_job(job: dict[str, Any]) -> None:
    """SetDefaults_Job plus the Job strategy's generated selector (manualSelector unset): the
    selector and the template's labels carry the Job's uid and name."""
    spec = job.setdefault("spec", {})
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    _default_template(job)
    if not spec.get("manualSelector"):
        meta = job["metadata"]
        uid, name = meta["uid"], meta["name"]
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        labels = spec["template"]["metadata"].setdefault("labels", {})
        labels.update({"batch.kubernetes.io/controller-uid": uid,
                       "batch.kubernetes.io/job-name": name, "controller-uid": uid,
                       "job-name": name})


def _default_cronjob(cj: dict[str, Any]) -> None:
    spec = cj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    template = spec.setdefault("jobTemplate", {})
    template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    _default_template(template)


def _default_pdb(pdb: dict[str, Any]) -> None:
    # The status counters are not omitempty: a new budget shows them as zeros.
    pdb["status"] = {"currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0,
                     "expectedPods": 0}


_BY_PLURAL = {
    "jobs": _default_job, "cronjobs": _default_cronjob, "poddisruptionbudgets": _default_pdb,
    "pods": _default_pod, "deployments": _default_deployment, "replicasets": _default_replicaset,
    "replicationcontrollers": _default_replication_controller,
    "daemonsets": _default_daemonset, "statefulsets": _default_statefulset,
    "services": _default_service, "namespaces": _default_namespace, "secrets": _default_secret,
    "persistentvolumeclaims": _default_pvc, "persistentvolumes": _default_pv,
}


def apply_create_defaults(rt: ResourceType, obj: dict[str, Any]) -> None:
    """Fill defaults in place (status reset first, for the types whose create strategy does)."""
    if rt.plural in STATUS_RESET_ON_CREATE:
        obj.pop("status", None)
    fill = _BY_PLURAL.get(rt.plural)
    if fill is not None:
        fill(obj)
