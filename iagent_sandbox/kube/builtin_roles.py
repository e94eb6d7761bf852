"""The default ClusterRoles and ClusterRoleBindings every cluster starts with (kube-apiserver's
bootstrap policy, k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac/bootstrappolicy), limited to
the ones the sandbox's identities use: cluster-admin, the user-facing admin/edit/view with their
rules already aggregated (including metrics-server's aggregated-metrics-reader, as EKS clusters
with metrics-server have), and what every authenticated user holds (system:discovery,
system:basic-user, system:public-info-viewer). Rules of the resource types the sandbox does not
serve are kept, as a real server keeps them: can-i --list shows them the same way.
"""

from __future__ import annotations

import copy

from .resources import rt

_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]
_BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
_AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> dict:
    return {"verbs": list(verbs), "apiGroups": list(groups), "resources": list(resources)}


VIEW_RULES = [
    _rule([""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status",
                 "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
                 "services", "services/status"], _READ),
    _rule([""], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
                 "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], _READ),
    _rule([""], ["namespaces"], _READ),
    _rule(["discovery.k8s.io"], ["endpointslices"], _READ),
    _rule(["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
                     "deployments/scale", "deployments/status", "replicasets", "replicasets/scale",
                     "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"],
          _READ),
    _rule(["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], _READ),
    _rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], _READ),
    _rule(["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                           "deployments/status", "ingresses", "ingresses/status", "networkpolicies",
                           "replicasets", "replicasets/scale", "replicasets/status",
                           "replicationcontrollers/scale"], _READ),
    _rule(["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], _READ),
    _rule(["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], _READ),
    _rule(["metrics.k8s.io"], ["pods", "nodes"], _READ),  # system:aggregated-metrics-reader
]

EDIT_RULES = [
    _rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets",
                 "services/proxy"], _READ),
    _rule([""], ["serviceaccounts"], ["impersonate"]),
    _rule([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], _WRITE),
    _rule([""], ["pods/eviction"], ["create"]),
    _rule([""], ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
                 "replicationcontrollers/scale", "secrets", "serviceaccounts", "services",
                 "services/proxy"], _WRITE),
    _rule([""], ["serviceaccounts/token"], ["create"]),
    _rule(["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale",
                     "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"], _WRITE),
    _rule(["autoscaling"], ["horizontalpodautoscalers"], _WRITE),
    _rule(["batch"], ["cronjobs", "jobs"], _WRITE),
    _rule(["extensions"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale",
                           "ingresses", "networkpolicies", "replicasets", "replicasets/scale",
                           "replicationcontrollers/scale"], _WRITE),
    _rule(["policy"], ["poddisruptionbudgets"], _WRITE),
    _rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], _WRITE),
    _rule(["coordination.k8s.io"], ["leases"], _WRITE + _READ),
    *VIEW_RULES,
]

ADMIN_RULES = [
    _rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
    _rule(["rbac.authorization.k8s.io"], ["rolebindings", "roles"], _WRITE + _READ),
    *EDIT_RULES,
]

DISCOVERY_URLS = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                  "/openapi/*", "/readyz", "/version", "/version/"]
PUBLIC_INFO_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"]


def _aggregated(name: str, rules: list[dict], aggregate_to: str | None) -> dict:
    labels = dict(_BOOTSTRAP_LABELS)
    if aggregate_to:
        labels[f"rbac.authorization.k8s.io/aggregate-to-{aggregate_to}"] = "true"
    return {"aggregationRule": {"clusterRoleSelectors": [
                {"matchLabels": {f"rbac.authorization.k8s.io/aggregate-to-{name}": "true"}}]},
            "metadata": {"name": name, "labels": labels, "annotations": dict(_AUTOUPDATE)},
            "rules": copy.deepcopy(rules)}


def cluster_roles() -> list[dict]:
    roles = [
        {"metadata": {"name": "cluster-admin"},
         "rules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
                   {"verbs": ["*"], "nonResourceURLs": ["*"]}]},
        _aggregated("admin", ADMIN_RULES, None),
        _aggregated("edit", EDIT_RULES, "admin"),
        _aggregated("view", VIEW_RULES, "edit"),
        {"metadata": {"name": "system:discovery"},
         "rules": [{"verbs": ["get"], "nonResourceURLs": DISCOVERY_URLS}]},
        {"metadata": {"name": "system:basic-user"},
         "rules": [_rule(["authorization.k8s.io"],
                         ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]),
                   _rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"])]},
        {"metadata": {"name": "system:public-info-viewer"},
         "rules": [{"verbs": ["get"], "nonResourceURLs": PUBLIC_INFO_URLS}]},
    ]
    out = []
    for role in roles:
        meta = role["metadata"]
        meta.setdefault("labels", dict(_BOOTSTRAP_LABELS))
        meta.setdefault("annotations", dict(_AUTOUPDATE))
        out.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", **role})
    return out


def cluster_role_binding(name: str, role: str, subjects: list[dict], bootstrap: bool = True) -> dict:
    meta: dict = {"name": name}
    if bootstrap:
        meta.update(labels=dict(_BOOTSTRAP_LABELS), annotations=dict(_AUTOUPDATE))
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", **s} for s in subjects]}


def _group(name: str) -> dict:
    return {"kind": "Group", "name": name}


def cluster_role_bindings() -> list[dict]:
    return [
        cluster_role_binding("cluster-admin", "cluster-admin", [_group("system:masters")]),
        cluster_role_binding("system:discovery", "system:discovery", [_group("system:authenticated")]),
        cluster_role_binding("system:basic-user", "system:basic-user", [_group("system:authenticated")]),
        cluster_role_binding("system:public-info-viewer", "system:public-info-viewer",
                             [_group("system:authenticated"), _group("system:unauthenticated")]),
    ]


def seed(store) -> None:
    """Create the default roles and bindings (skipping any that already exist)."""
    for plural, objects in (("clusterroles", cluster_roles()),
                            ("clusterrolebindings", cluster_role_bindings())):
        for obj in objects:
            if store.get(rt(plural), None, obj["metadata"]["name"]) is None:
                store.create(rt(plural), obj)
