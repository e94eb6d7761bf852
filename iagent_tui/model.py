"""The vocabulary every layer speaks: immutable records of what the cluster and AWS look like.

Everything here is a frozen dataclass holding tuples and read-only mappings, so a Snapshot can be
handed to any number of panels, insights and tasks without copying and without anyone changing it
under someone else's feet. Timestamps are timezone-aware UTC datetimes (or None when unknown).

``raw`` fields keep the object's Kubernetes or AWS JSON (a dict as the API returned it) for the
YAML detail views only: insights read the typed fields (``PodSpec``, ``PodTemplate``, conditions,
container statuses), parsed once in ``services/convert.py``. Treat ``raw`` as read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar, Literal

ComputeType = Literal["fargate", "ec2", ""]  # "" = not (yet) on a node
AuthKind = Literal["token", "eks"]

EMPTY_MAP: Mapping[str, Any] = MappingProxyType({})

# Labels and annotations the product reads (DOMAIN.md 3.7, 4.1).
COMPUTE_TYPE_LABEL = "eks.amazonaws.com/compute-type"
FARGATE_PROFILE_LABEL = "eks.amazonaws.com/fargate-profile"
CAPACITY_ANNOTATION = "CapacityProvisioned"
COREDNS_LABEL = ("k8s-app", "kube-dns")


def _empty_map() -> Mapping[str, Any]:
    return EMPTY_MAP


def frozen_map(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only copy of a mapping (one level deep: enough to stop accidental writes)."""
    if not data:
        return EMPTY_MAP
    return MappingProxyType(dict(data))


# --------------------------------------------------------------------------------------------
# AWS side
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClusterInfo:
    name: str
    region: str
    status: str  # CREATING | ACTIVE | DELETING | FAILED | UPDATING | PENDING | "" (unknown)
    version: str
    endpoint: str
    oidc_issuer: str
    arn: str
    ca_data: str = ""  # certificateAuthority.data (base64 PEM): compared with the kubeconfig's CA


@dataclass(frozen=True)
class Selector:
    namespace: str
    labels: Mapping[str, str] = field(default_factory=_empty_map)


@dataclass(frozen=True)
class HealthIssue:
    code: str
    message: str
    resource_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class FargateProfile:
    name: str
    status: str  # CREATING | ACTIVE | DELETING | CREATE_FAILED | DELETE_FAILED
    selectors: tuple[Selector, ...]
    subnets: tuple[str, ...]
    pod_execution_role_arn: str
    created_at: datetime | None
    # When the monitor first saw the profile in its current status (AWS does not report it).
    status_since: datetime | None = None
    arn: str = ""
    health_issues: tuple[HealthIssue, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=_empty_map, repr=False, compare=False)  # DescribeFargateProfile

    @property
    def in_transition(self) -> bool:
        return self.status in ("CREATING", "DELETING")


@dataclass(frozen=True)
class NodeGroup:
    name: str
    status: str  # CREATING | ACTIVE | UPDATING | DELETING | CREATE_FAILED | DELETE_FAILED | DEGRADED
    desired: int
    min: int
    max: int
    instance_types: tuple[str, ...]

    @property
    def in_transition(self) -> bool:
        return self.status in ("CREATING", "UPDATING", "DELETING")


@dataclass(frozen=True)
class Addon:
    name: str
    status: str  # CREATING | ACTIVE | CREATE_FAILED | UPDATING | DELETING | DELETE_FAILED | DEGRADED | UPDATE_FAILED
    version: str
    configuration: Mapping[str, Any]  # parsed configurationValues ({} when none)
    compute_type: str  # configuration "computeType" ("Fargate") or "" (EC2, the default)
    health_issues: tuple[HealthIssue, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=_empty_map, repr=False, compare=False)  # DescribeAddon

    @property
    def in_transition(self) -> bool:
        return self.status in ("CREATING", "UPDATING", "DELETING")


@dataclass(frozen=True)
class LoadBalancer:
    name: str
    arn: str
    dns_name: str
    state: str  # provisioning | active | active_impaired | failed
    scheme: str  # internet-facing | internal


@dataclass(frozen=True)
class Target:
    id: str  # pod IP for ip targets, instance id for instance targets
    port: int
    state: str  # initial | healthy | unhealthy | unhealthy.draining | unused | draining | unavailable
    reason: str  # e.g. Elb.InitialHealthChecking ("" when healthy)
    description: str
    pod: str | None = None  # "namespace/name" of the pod owning the IP, when known
    since: datetime | None = None  # when the monitor first saw this state

    @property
    def in_transition(self) -> bool:
        return self.state in ("initial", "draining", "unhealthy.draining")


@dataclass(frozen=True)
class TargetGroup:
    name: str
    arn: str
    lb_name: str  # "" when not attached to a load balancer
    target_type: str  # ip | instance | lambda | alb
    targets: tuple[Target, ...] = ()


# --------------------------------------------------------------------------------------------
# Kubernetes side: what insights read from a pod spec
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContainerPort:
    container_port: int | str
    host_port: int = 0
    host_ip: str = ""


@dataclass(frozen=True)
class Container:
    name: str
    image: str = ""
    # Quantities as the API wrote them ("250m", "1Gi"); a missing request defaults to the limit
    # (DOMAIN.md 1.2), which the sizing rules apply, not the converter, so FG015/FG016 still see
    # what was written.
    requests: Mapping[str, Any] = field(default_factory=_empty_map)
    limits: Mapping[str, Any] = field(default_factory=_empty_map)
    ports: tuple[ContainerPort, ...] = ()
    privileged: bool = False
    capabilities_added: tuple[str, ...] = ()
    allow_privilege_escalation: bool = False
    has_volume_devices: bool = False
    restart_policy: str = ""  # on an init container, "Always" makes it a native sidecar

    @property
    def is_sidecar(self) -> bool:
        return self.restart_policy == "Always"

    @property
    def uses_host_port(self) -> bool:
        return any(p.host_port > 0 or p.host_ip for p in self.ports)


@dataclass(frozen=True)
class PodVolume:
    name: str
    type: str  # the volume source key: emptyDir, hostPath, persistentVolumeClaim, csi, nfs... ("unknown": none)
    claim_name: str = ""  # persistentVolumeClaim.claimName


@dataclass(frozen=True)
class NodeSelectorRequirement:
    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist | Gt | Lt
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeSelectorTerm:
    """One term of required node affinity: its match expressions are ANDed, terms are ORed."""
    expressions: tuple[NodeSelectorRequirement, ...] = ()


@dataclass(frozen=True)
class PodSpec:
    containers: tuple[Container, ...] = ()
    init_containers: tuple[Container, ...] = ()
    volumes: tuple[PodVolume, ...] = ()
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    node_selector: Mapping[str, str] = field(default_factory=_empty_map)
    required_node_terms: tuple[NodeSelectorTerm, ...] = ()
    service_account_name: str = ""  # "" = the namespace's "default" account
    scheduler_name: str = ""  # "" = default-scheduler

    @property
    def all_containers(self) -> tuple[Container, ...]:
        """Init containers first: the order fargate-scheduler reports them in."""
        return self.init_containers + self.containers


EMPTY_POD_SPEC = PodSpec()


@dataclass(frozen=True)
class PodTemplate:
    labels: Mapping[str, str] = field(default_factory=_empty_map)
    annotations: Mapping[str, str] = field(default_factory=_empty_map)
    spec: PodSpec = EMPTY_POD_SPEC


EMPTY_POD_TEMPLATE = PodTemplate()


@dataclass(frozen=True)
class ClaimTemplate:
    """A StatefulSet volumeClaimTemplate: its claims are named ``<name>-<statefulset>-<ordinal>``."""
    name: str
    storage_class: str = ""  # "" = the cluster's default storage class


@dataclass(frozen=True)
class PodCondition:
    type: str  # PodScheduled | Initialized | ContainersReady | Ready ...
    status: str  # True | False | Unknown
    reason: str = ""
    message: str = ""
    last_transition: datetime | None = None


@dataclass(frozen=True)
class ContainerStatus:
    name: str
    image: str = ""
    ready: bool = False
    restart_count: int = 0
    waiting_reason: str = ""
    waiting_message: str = ""
    running_since: datetime | None = None  # state.running.startedAt
    terminated_reason: str = ""
    last_terminated_reason: str = ""  # lastState.terminated: why the previous run ended
    last_exit_code: int | None = None  # None: no previous run recorded


# --------------------------------------------------------------------------------------------
# Kubernetes side
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    name: str
    compute_type: ComputeType
    ready: bool
    zone: str
    instance_type: str
    labels: Mapping[str, str]
    created: datetime | None


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    node: str  # "" while unscheduled
    compute_type: ComputeType
    phase: str  # Pending | Running | Succeeded | Failed | Unknown
    ready: bool
    reason: str  # what `kubectl get pods` shows in STATUS (Running, ContainerCreating, CrashLoopBackOff...)
    restarts: int
    ip: str
    owner_kind: str
    owner_name: str
    labels: Mapping[str, str]
    capacity_provisioned: str  # the CapacityProvisioned annotation ("0.25vCPU 0.5GB") or ""
    fargate_profile: str  # the eks.amazonaws.com/fargate-profile label or ""
    created: datetime | None
    raw: Mapping[str, Any] = field(default_factory=_empty_map, repr=False, compare=False)  # YAML view only
    uid: str = ""
    resource_version: str = ""
    annotations: Mapping[str, str] = field(default_factory=_empty_map)
    deleting: bool = False  # metadata.deletionTimestamp set
    started: datetime | None = None  # status.startTime: when the kubelet picked the pod up
    spec: PodSpec = EMPTY_POD_SPEC
    conditions: tuple[PodCondition, ...] = ()
    init_container_statuses: tuple[ContainerStatus, ...] = ()
    container_statuses: tuple[ContainerStatus, ...] = ()

    kind: ClassVar[str] = "Pod"  # so a bare pod is checked like a workload

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def template(self) -> PodTemplate:
        return PodTemplate(self.labels, self.annotations, self.spec)

    def condition(self, kind: str) -> PodCondition | None:
        return next((c for c in self.conditions if c.type == kind), None)


@dataclass(frozen=True)
class Workload:
    kind: str  # Deployment | DaemonSet | StatefulSet
    namespace: str
    name: str
    replicas: int  # desired (DaemonSet: desiredNumberScheduled)
    ready: int
    raw: Mapping[str, Any] = field(default_factory=_empty_map, repr=False, compare=False)  # YAML view only
    template: PodTemplate = EMPTY_POD_TEMPLATE
    claim_templates: tuple[ClaimTemplate, ...] = ()  # StatefulSet volumeClaimTemplates
    resource_version: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Event:
    namespace: str
    kind: str  # involved object kind
    name: str  # involved object name
    reason: str
    type: str  # Normal | Warning
    message: str
    component: str
    count: int
    last_seen: datetime | None
    raw: Mapping[str, Any] = field(default_factory=_empty_map, repr=False, compare=False)  # YAML view only
    first_seen: datetime | None = None  # None: only last_seen is known
    object_uid: str = ""  # the involved object's uid, when the event names it


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    type: str  # ClusterIP | NodePort | LoadBalancer | ExternalName
    raw: Mapping[str, Any] = field(default_factory=_empty_map, repr=False, compare=False)  # YAML view only
    selector: Mapping[str, str] = field(default_factory=_empty_map)
    annotations: Mapping[str, str] = field(default_factory=_empty_map)
    load_balancer_class: str = ""
    resource_version: str = ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Ingress:
    namespace: str
    name: str
    hostname: str  # status.loadBalancer.ingress[0].hostname or ""
    class_name: str  # spec.ingressClassName or the legacy kubernetes.io/ingress.class annotation
    target_type: str  # alb.ingress.kubernetes.io/target-type ("instance" when absent: the LBC default)
    raw: Mapping[str, Any] = field(default_factory=_empty_map, repr=False, compare=False)  # YAML view only
    annotations: Mapping[str, str] = field(default_factory=_empty_map)
    backend_services: tuple[str, ...] = ()  # Service names it routes to, in order, without repeats
    created: datetime | None = None
    resource_version: str = ""


@dataclass(frozen=True)
class VolumeClaim:
    """A PersistentVolumeClaim: Fargate mounts only claims bound to a static EFS CSI volume."""
    namespace: str
    name: str
    phase: str  # Pending | Bound | Lost
    volume_name: str  # the bound PersistentVolume, "" while unbound
    storage_class: str
    raw: Mapping[str, Any] = field(default_factory=_empty_map, repr=False, compare=False)  # YAML view only
    resource_version: str = ""


@dataclass(frozen=True)
class Volume:
    """A PersistentVolume (cluster-scoped)."""
    name: str
    csi_driver: str  # spec.csi.driver ("ebs.csi.aws.com", "efs.csi.aws.com") or "" when not CSI
    raw: Mapping[str, Any] = field(default_factory=_empty_map, repr=False, compare=False)


@dataclass(frozen=True)
class TargetGroupBinding:
    namespace: str
    name: str
    target_group_arn: str
    target_type: str
    service_name: str
    service_port: str  # a port number or name, as written in spec.serviceRef.port


# --------------------------------------------------------------------------------------------
# Health of the data itself
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceState:
    """How fresh one data source (a watch or an AWS poll) is. A failing source keeps its last
    data in the snapshot; ``stale_since`` says from when it stopped being current, ``error`` why."""

    name: str
    ok: bool
    last_success: datetime | None = None
    error: str = ""
    stale_since: datetime | None = None
    # Polled sources: seconds between reads at the current pace (None: a watch, streamed), and the
    # AWS call budget a minute when that budget, not the wanted interval, set the pace.
    every: float | None = None
    budget_per_minute: int | None = None


@dataclass(frozen=True)
class ConnectionState:
    context: str  # kubeconfig context name, or "eks:<cluster>" when built from AWS
    server: str
    auth_kind: AuthKind
    token_expires_at: datetime | None = None
    read_only: bool = False
    # Whether this API server is the EKS cluster's (None: not compared yet, the cluster unread);
    # mismatch says which context points where, for the header and `status`.
    matches_cluster: bool | None = None
    mismatch: str = ""


# --------------------------------------------------------------------------------------------
# The snapshot
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    taken_at: datetime
    cluster: ClusterInfo | None
    connection: ConnectionState | None
    profiles: tuple[FargateProfile, ...] = ()
    nodegroups: tuple[NodeGroup, ...] = ()
    nodes: tuple[Node, ...] = ()
    pods: tuple[Pod, ...] = ()
    workloads: tuple[Workload, ...] = ()
    events: tuple[Event, ...] = ()
    addons: tuple[Addon, ...] = ()
    load_balancers: tuple[LoadBalancer, ...] = ()
    target_groups: tuple[TargetGroup, ...] = ()
    ingresses: tuple[Ingress, ...] = ()
    tgbs: tuple[TargetGroupBinding, ...] = ()
    sources: Mapping[str, SourceState] = field(default_factory=_empty_map)
    version: int = 0  # increases with every published snapshot of one monitor
    services: tuple[Service, ...] = ()
    # IAM GetRole results (AssumeRolePolicyDocument as a dict) for the profiles' pod execution roles
    pod_execution_roles: tuple[Mapping[str, Any], ...] = ()
    volume_claims: tuple[VolumeClaim, ...] = ()
    volumes: tuple[Volume, ...] = ()
    # insights.usage.UsageSummary: metrics-server usage sampled over a window (right-sizing);
    # None when nobody sampled. Typed loosely: the model sits below insights.
    usage: Any = None

    # -- lookups --------------------------------------------------------------------------
    def pod(self, namespace: str, name: str) -> Pod | None:
        return next((p for p in self.pods if p.namespace == namespace and p.name == name), None)

    def node(self, name: str) -> Node | None:
        return next((n for n in self.nodes if n.name == name), None)

    def profile(self, name: str) -> FargateProfile | None:
        return next((p for p in self.profiles if p.name == name), None)

    def addon(self, name: str) -> Addon | None:
        return next((a for a in self.addons if a.name == name), None)

    def pods_by_namespace(self) -> Mapping[str, tuple[Pod, ...]]:
        grouped: dict[str, list[Pod]] = {}
        for pod in self.pods:
            grouped.setdefault(pod.namespace, []).append(pod)
        return MappingProxyType({ns: tuple(pods) for ns, pods in sorted(grouped.items())})

    def coredns_pods(self) -> tuple[Pod, ...]:
        key, value = COREDNS_LABEL
        return tuple(p for p in self.pods if p.namespace == "kube-system" and p.labels.get(key) == value)

    def fargate_pods(self) -> tuple[Pod, ...]:
        return tuple(p for p in self.pods if p.compute_type == "fargate")

    def fargate_nodes(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.compute_type == "fargate")

    def events_for(self, kind: str, namespace: str, name: str) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.kind == kind and e.namespace == namespace and e.name == name)

    def stale_sources(self) -> tuple[SourceState, ...]:
        return tuple(s for s in self.sources.values() if not s.ok)

    def in_transition(self) -> bool:
        """True while anything AWS-side is changing: the monitor polls fast then."""
        return (
            any(p.in_transition for p in self.profiles)
            or any(a.in_transition for a in self.addons)
            or any(g.in_transition for g in self.nodegroups)
            or any(t.in_transition for tg in self.target_groups for t in tg.targets)
            or any(lb.state == "provisioning" for lb in self.load_balancers)
        )


def sorted_tuple(items: Iterable[Any], key: Any) -> tuple[Any, ...]:
    """Stable ordering for snapshot collections, so consecutive snapshots diff cleanly."""
    return tuple(sorted(items, key=key))
