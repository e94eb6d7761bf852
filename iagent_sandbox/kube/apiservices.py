"""apiregistration.k8s.io/v1 APIServices: what the kube-aggregator registers for the groups the
API server serves, so ``kubectl get apiservices`` lists them as on a real cluster.

Built-in groups are Local (served by the API server itself) and always Available; the
TargetGroupBinding CRD's group is registered the way the CRD registration controller does it;
metrics.k8s.io is the one served "elsewhere", as metrics-server's APIService names it. Priorities
are kube-apiserver's apiVersionPriorities (cmd/kube-apiserver/app/aggregator.go)."""

from __future__ import annotations

from ..clock import rfc3339
from .discovery import served_types
from .resources import rt

# (groupPriorityMinimum, versionPriority)
PRIORITIES = {
    ("", "v1"): (18000, 1),
    ("apiregistration.k8s.io", "v1"): (18000, 15),
    ("apps", "v1"): (17800, 15),
    ("authentication.k8s.io", "v1"): (17700, 15),
    ("authorization.k8s.io", "v1"): (17600, 15),
    ("autoscaling", "v1"): (17500, 15),
    ("batch", "v1"): (17400, 15),
    ("networking.k8s.io", "v1"): (17200, 15),
    ("policy", "v1"): (17100, 15),
    ("rbac.authorization.k8s.io", "v1"): (17000, 15),
    ("coordination.k8s.io", "v1"): (16500, 15),
}
CRD_PRIORITY = (1000, 100)  # crdregistration_controller: CRDs sort after the built-in groups
METRICS_PRIORITY = (100, 100)  # metrics-server's manifest
LOCAL_MESSAGE = "Local APIServices are always available"


def _apiservice(group: str, version: str, now: str) -> dict:
    name = f"{version}.{group}" if group else f"{version}."
    spec: dict = {"version": version}
    if group:
        spec["group"] = group
    if group == "metrics.k8s.io":
        labels = {"k8s-app": "metrics-server"}
        spec.update(service={"namespace": "kube-system", "name": "metrics-server", "port": 443},
                    insecureSkipTLSVerify=True)
        priority, reason, message = METRICS_PRIORITY, "Passed", "all checks passed"
    else:
        custom = group.endswith(".k8s.aws")
        labels = {"kube-aggregator.kubernetes.io/automanaged": "true" if custom else "onstart"}
        priority = CRD_PRIORITY if custom else PRIORITIES.get((group, version), (1000, 15))
        reason, message = "Local", LOCAL_MESSAGE
    spec.update(groupPriorityMinimum=priority[0], versionPriority=priority[1])
    return {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": name, "labels": labels}, "spec": spec,
            "status": {"conditions": [{"type": "Available", "status": "True",
                                       "lastTransitionTime": now, "reason": reason,
                                       "message": message}]}}


def register(store, with_metrics: bool) -> None:
    """Create the APIServices for every served group version (once; existing ones are kept)."""
    resource = rt("apiservices")
    now = rfc3339(store.clock.now())
    seen = set()
    for r in served_types(with_metrics):
        if (r.group, r.version) in seen:
            continue
        seen.add((r.group, r.version))
        obj = _apiservice(r.group, r.version, now)
        if store.get(resource, None, obj["metadata"]["name"]) is None:
            store.create(resource, obj)
