"""The resource types the sandbox's Kubernetes API serves, with the names discovery publishes.

Short names, categories and subresources are the ones a real v1.32 API server (and the AWS Load
Balancer Controller's CRD) publish, because kubectl resolves ``kubectl get deploy`` or
``kubectl get all`` from discovery and must find the same answers here.
"""

from __future__ import annotations

from dataclasses import dataclass

STANDARD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CREATE_ONLY = ("create",)
RBAC = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = STANDARD_VERBS
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        """The apiVersion field of objects of this type: "v1" or "apps/v1"."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        """Same text as api_version; named for use in URL paths and discovery documents."""
        return self.api_version

    @property
    def group_resource(self) -> str:
        """How API server messages name the resource: "pods", "deployments.apps"."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_kind(self) -> str:
        """How "is invalid" messages name the kind: "Pod", "Deployment.apps"."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def is_custom(self) -> bool:
        """Served from a CustomResourceDefinition (no strategic merge patch, like a real server)."""
        return self.group.endswith(".k8s.aws")

    @property
    def is_review(self) -> bool:
        """A review (access, rules, self): answered on POST, never stored or listed."""
        return self.verbs == CREATE_ONLY


def _core(plural, kind, singular, namespaced=True, short=(), categories=(), subresources=()):
    return ResourceType("", "v1", plural, kind, namespaced, singular, tuple(short),
                        STANDARD_VERBS, tuple(categories), tuple(subresources))


RESOURCES: tuple[ResourceType, ...] = (
    _core("namespaces", "Namespace", "namespace", namespaced=False, short=("ns",),
          subresources=("status",)),
    _core("nodes", "Node", "node", namespaced=False, short=("no",), subresources=("status",)),
    _core("pods", "Pod", "pod", short=("po",), categories=("all",),
          subresources=("status", "log", "eviction", "exec", "attach", "portforward")),
    _core("services", "Service", "service", short=("svc",), categories=("all",),
          subresources=("status",)),
    _core("endpoints", "Endpoints", "endpoints", short=("ep",)),
    _core("events", "Event", "event", short=("ev",)),
    _core("replicationcontrollers", "ReplicationController", "replicationcontroller",
          short=("rc",), categories=("all",), subresources=("status", "scale")),
    _core("serviceaccounts", "ServiceAccount", "serviceaccount", short=("sa",)),
    _core("configmaps", "ConfigMap", "configmap", short=("cm",)),
    _core("secrets", "Secret", "secret"),
    _core("persistentvolumes", "PersistentVolume", "persistentvolume", namespaced=False,
          short=("pv",), subresources=("status",)),
    _core("persistentvolumeclaims", "PersistentVolumeClaim", "persistentvolumeclaim",
          short=("pvc",), subresources=("status",)),
    ResourceType("apps", "v1", "deployments", "Deployment", True, "deployment", ("deploy",),
                 STANDARD_VERBS, ("all",), ("status", "scale")),
    ResourceType("apps", "v1", "replicasets", "ReplicaSet", True, "replicaset", ("rs",),
                 STANDARD_VERBS, ("all",), ("status", "scale")),
    ResourceType("apps", "v1", "daemonsets", "DaemonSet", True, "daemonset", ("ds",),
                 STANDARD_VERBS, ("all",), ("status",)),
    ResourceType("apps", "v1", "statefulsets", "StatefulSet", True, "statefulset", ("sts",),
                 STANDARD_VERBS, ("all",), ("status", "scale")),
    ResourceType("networking.k8s.io", "v1", "ingresses", "Ingress", True, "ingress", ("ing",),
                 STANDARD_VERBS, (), ("status",)),
    ResourceType("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False,
                 "ingressclass", (), STANDARD_VERBS, (), ()),
    # Leases: kube-system holds the control plane's leader locks; clients (iagent-tui's action lock
    # among them) keep their own there.
    ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True, "lease", (), STANDARD_VERBS, (), ()),
    ResourceType("batch", "v1", "jobs", "Job", True, "job", (), STANDARD_VERBS, ("all",),
                 ("status",)),
    ResourceType("batch", "v1", "cronjobs", "CronJob", True, "cronjob", ("cj",), STANDARD_VERBS,
                 ("all",), ("status",)),
    ResourceType("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True,
                 "poddisruptionbudget", ("pdb",), STANDARD_VERBS, (), ("status",)),
    ResourceType(RBAC, "v1", "clusterrolebindings", "ClusterRoleBinding", False,
                 "clusterrolebinding"),
    ResourceType(RBAC, "v1", "clusterroles", "ClusterRole", False, "clusterrole"),
    ResourceType(RBAC, "v1", "rolebindings", "RoleBinding", True, "rolebinding"),
    ResourceType(RBAC, "v1", "roles", "Role", True, "role"),
    # Reviews are asked, never stored: POST answers with the object and its status filled in.
    ResourceType("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False,
                 "selfsubjectreview", (), CREATE_ONLY),
    ResourceType("authorization.k8s.io", "v1", "selfsubjectaccessreviews",
                 "SelfSubjectAccessReview", False, "selfsubjectaccessreview", (), CREATE_ONLY),
    ResourceType("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview",
                 False, "selfsubjectrulesreview", (), CREATE_ONLY),
    ResourceType("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview",
                 False, "subjectaccessreview", (), CREATE_ONLY),
    # The aggregator's registrations: one Local APIService per served group version.
    ResourceType("apiregistration.k8s.io", "v1", "apiservices", "APIService", False, "apiservice",
                 (), STANDARD_VERBS, ("api-extensions",), ("status",)),
    ResourceType("elbv2.k8s.aws", "v1beta1", "targetgroupbindings", "TargetGroupBinding", True,
                 "targetgroupbinding", (), STANDARD_VERBS, (), ("status",)),
)


class UnknownResourceType(KeyError):
    """rt() of a name the sandbox does not serve; reads like kubectl's message."""

    def __str__(self) -> str:
        return str(self.args[0])


def _index() -> dict[str, ResourceType]:
    table: dict[str, ResourceType] = {}
    for r in RESOURCES:
        names = {r.plural, r.singular, r.kind.lower(), *r.short_names}
        names |= {f"{n}.{r.group}" for n in (r.plural, r.singular, r.kind.lower()) if r.group}
        for n in names:
            table.setdefault(n, r)
    return table


_BY_NAME = _index()
_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}


def rt(name: str) -> ResourceType:
    """Resolve a resource type the way kubectl does: plural, singular, kind or short name, with an
    optional ".group" suffix, case-insensitive (rt("pods"), rt("Pod"), rt("deploy"))."""
    found = _BY_NAME.get(name.strip().lower())
    if found is None:
        raise UnknownResourceType(f'the server doesn\'t have a resource type "{name}"')
    return found


def rt_for_path(group: str, version: str, plural: str) -> ResourceType | None:
    """The type served at /api/v1/<plural> or /apis/<group>/<version>/<plural>, if any."""
    return _BY_PATH.get((group, version, plural))


def rt_for_kind(api_version: str, kind: str) -> ResourceType | None:
    """The type of an object or owner reference from its apiVersion and kind."""
    group, _, version = api_version.rpartition("/")
    for r in RESOURCES:
        if r.group == group and r.version == version and r.kind == kind:
            return r
    return None
