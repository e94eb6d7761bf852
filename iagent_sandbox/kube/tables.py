"""Server-side table printing: what `kubectl get` shows, column for column.

kubectl asks for ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints whatever
columns the server sends (priority 1 columns only with ``-o wide``). The printers follow
kubernetes/pkg/printers/internalversion/printers.go so the sandbox prints what a real cluster
prints; AGE is measured against the sandbox clock (simulated time), like everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from ..clock import parse_rfc3339

Cell = Any
NONE = "<none>"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    cell: Callable[[dict, datetime], Cell]
    priority: int = 0
    description: str = ""
    format: str = ""

    def definition(self) -> dict:
        d = {"name": self.name, "type": self.type, "format": self.format,
             "description": self.description, "priority": self.priority}
        return d


# -- formatting helpers (apimachinery/pkg/util/duration, printers.go) ------------------------------

def human_duration(seconds: float) -> str:
    """duration.HumanDuration: 5s, 2m30s, 15m, 5h10m, 20h, 3d4h, 30d, 2y5d."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def since(timestamp: str | None, now: datetime) -> str:
    if not timestamp:
        return "<unknown>"
    try:
        then = parse_rfc3339(timestamp)
    except ValueError:
        return "<unknown>"
    return human_duration((now - then).total_seconds())


def _age(obj: dict, now: datetime) -> str:
    return since(obj.get("metadata", {}).get("creationTimestamp"), now)


def _name(obj: dict, now: datetime) -> str:
    return obj.get("metadata", {}).get("name", "")


def format_labels(labels: dict | None) -> str:
    if not labels:
        return NONE
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def format_label_selector(selector: dict | None) -> str:
    """metav1.FormatLabelSelector: matchLabels then expressions, '<none>' when empty."""
    if not selector:
        return NONE
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op, key, values = expr.get("operator", ""), expr.get("key", ""), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) if parts else NONE


def _template_containers(obj: dict) -> list[dict]:
    return obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []


def _containers(obj: dict, now: datetime) -> str:
    return ",".join(c.get("name", "") for c in _template_containers(obj))


def _images(obj: dict, now: datetime) -> str:
    return ",".join(c.get("image", "") for c in _template_containers(obj))


def _selector(obj: dict, now: datetime) -> str:
    return format_label_selector(obj.get("spec", {}).get("selector"))


def _path(*keys: str, default: Cell = "") -> Callable[[dict, datetime], Cell]:
    def get(obj: dict, now: datetime) -> Cell:
        cur: Any = obj
        for key in keys:
            if not isinstance(cur, dict) or key not in cur:
                return default
            cur = cur[key]
        return default if cur is None else cur
    return get


def _lb_ingress(status: dict) -> str:
    entries = (status.get("loadBalancer") or {}).get("ingress") or []
    return ",".join(e.get("ip") or e.get("hostname") or "" for e in entries if e.get("ip") or e.get("hostname"))


NAME = Column("Name", "string", _name, format="name",
              description="Name must be unique within a namespace.")
AGE = Column("Age", "string", _age,
             description="CreationTimestamp is a timestamp representing the server time when this object was created.")


# -- pods ---------------------------------------------------------------------------------------

def _pod_summary(pod: dict, now: datetime) -> dict:
    """printPod's READY / STATUS / RESTARTS logic."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    restarts = 0
    last_restart: str | None = None
    ready = 0
    total = len(spec.get("containers") or [])
    reason = status.get("reason") or status.get("phase") or ""

    def note_restart(cs: dict) -> None:
        nonlocal restarts, last_restart
        restarts += int(cs.get("restartCount") or 0)
        finished = ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        if finished and (last_restart is None or finished > last_restart):
            last_restart = finished

    initializing = False
    init_specs = spec.get("initContainers") or []
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        note_restart(cs)
        state = cs.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting")
        if term is not None and int(term.get("exitCode") or 0) == 0:
            continue
        if term is not None:
            if term.get("reason"):
                reason = "Init:" + term["reason"]
            elif term.get("signal"):
                reason = f"Init:Signal:{term['signal']}"
            else:
                reason = f"Init:ExitCode:{term.get('exitCode', 0)}"
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True"
                      for c in status.get("conditions") or [])
    if not initializing or initialized:
        restarts, last_restart = 0, None
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            note_restart(cs)
            state = cs.get("state") or {}
            waiting, term, running = state.get("waiting"), state.get("terminated"), state.get("running")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif term is not None and term.get("reason"):
                reason = term["reason"]
            elif term is not None:
                reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode', 0)}"
            elif cs.get("ready") and running is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            has_ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                            for c in status.get("conditions") or [])
            reason = "Running" if has_ready else "NotReady"

    if pod.get("metadata", {}).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif status.get("phase") not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last_restart:
        restarts_text = f"{restarts} ({since(last_restart, now)} ago)"
    return {"ready": f"{ready}/{total}", "status": reason, "restarts": restarts_text}


def _pod_ip(pod: dict, now: datetime) -> str:
    status = pod.get("status") or {}
    ips = status.get("podIPs") or []
    ip = (ips[0].get("ip") if ips else None) or status.get("podIP")
    return ip or NONE


def _readiness_gates(pod: dict, now: datetime) -> str:
    gates = (pod.get("spec") or {}).get("readinessGates") or []
    if not gates:
        return NONE
    conditions = {c.get("type"): c.get("status") for c in (pod.get("status") or {}).get("conditions") or []}
    true = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
    return f"{true}/{len(gates)}"


POD_COLUMNS = (
    NAME,
    Column("Ready", "string", lambda p, n: _pod_summary(p, n)["ready"],
           description="The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", "string", lambda p, n: _pod_summary(p, n)["status"],
           description="The aggregate status of the containers in this pod."),
    Column("Restarts", "string", lambda p, n: _pod_summary(p, n)["restarts"],
           description="The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
    AGE,
    Column("IP", "string", _pod_ip, priority=1, description="IP address allocated to the pod."),
    Column("Node", "string", _path("spec", "nodeName", default=NONE) , priority=1,
           description="Name of the Node this pod is scheduled to."),
    Column("Nominated Node", "string", _path("status", "nominatedNodeName", default=NONE), priority=1,
           description="Name of the node that the pod is nominated to run on."),
    Column("Readiness Gates", "string", _readiness_gates, priority=1,
           description="Pod readiness gates."),
)


# -- nodes --------------------------------------------------------------------------------------

def _node_status(node: dict, now: datetime) -> str:
    parts = []
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            parts.append("Ready" if c.get("status") == "True" else "NotReady")
    if not parts:
        parts.append("Unknown")
    if (node.get("spec") or {}).get("unschedulable"):
        parts.append("SchedulingDisabled")
    return ",".join(parts)


def _node_roles(node: dict, now: datetime) -> str:
    roles = set()
    for key, value in (node.get("metadata", {}).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/"):
            roles.add(key.split("/", 1)[1])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(r for r in roles if r)) or NONE


def _node_address(kind: str) -> Callable[[dict, datetime], str]:
    def get(node: dict, now: datetime) -> str:
        for a in (node.get("status") or {}).get("addresses") or []:
            if a.get("type") == kind:
                return a.get("address") or NONE
        return NONE
    return get


def _node_info(key: str) -> Callable[[dict, datetime], str]:
    return lambda node, now: ((node.get("status") or {}).get("nodeInfo") or {}).get(key) or "<unknown>"


NODE_COLUMNS = (
    NAME,
    Column("Status", "string", _node_status, description="The status of the node"),
    Column("Roles", "string", _node_roles, description="The roles of the node"),
    AGE,
    Column("Version", "string", lambda n, t: ((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", ""),
           description="Kubelet Version reported by the node."),
    Column("Internal-IP", "string", _node_address("InternalIP"), priority=1,
           description="List of addresses reachable to the node. Queried from cloud provider, if available."),
    Column("External-IP", "string", _node_address("ExternalIP"), priority=1,
           description="List of addresses reachable to the node. Queried from cloud provider, if available."),
    Column("OS-Image", "string", _node_info("osImage"), priority=1,
           description="OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
    Column("Kernel-Version", "string", _node_info("kernelVersion"), priority=1,
           description="Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
    Column("Container-Runtime", "string", _node_info("containerRuntimeVersion"), priority=1,
           description="ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2)."),
)


# -- workloads ----------------------------------------------------------------------------------

def _replicas_ready(obj: dict, now: datetime) -> str:
    ready = (obj.get("status") or {}).get("readyReplicas") or 0
    desired = (obj.get("spec") or {}).get("replicas")
    return f"{ready}/{1 if desired is None else desired}"


CONTAINERS = Column("Containers", "string", _containers, priority=1,
                    description="Names of each container in the template.")
IMAGES = Column("Images", "string", _images, priority=1,
                description="Images referenced by each container in the template.")
SELECTOR = Column("Selector", "string", _selector, priority=1,
                  description="Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.")

DEPLOYMENT_COLUMNS = (
    NAME,
    Column("Ready", "string", _replicas_ready, description="Number of the pod with ready state"),
    Column("Up-to-date", "integer", _path("status", "updatedReplicas", default=0),
           description="Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
    Column("Available", "integer", _path("status", "availableReplicas", default=0),
           description="Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
    AGE, CONTAINERS, IMAGES, SELECTOR,
)

REPLICASET_COLUMNS = (
    NAME,
    Column("Desired", "integer", _path("spec", "replicas", default=1),
           description="Replicas is the number of desired replicas."),
    Column("Current", "integer", _path("status", "replicas", default=0),
           description="Replicas is the most recently observed number of replicas."),
    Column("Ready", "integer", _path("status", "readyReplicas", default=0),
           description="The number of ready replicas for this replica set."),
    AGE, CONTAINERS, IMAGES, SELECTOR,
)

DAEMONSET_COLUMNS = (
    NAME,
    Column("Desired", "integer", _path("status", "desiredNumberScheduled", default=0),
           description="The total number of nodes that should be running the daemon pod."),
    Column("Current", "integer", _path("status", "currentNumberScheduled", default=0),
           description="The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod."),
    Column("Ready", "integer", _path("status", "numberReady", default=0),
           description="The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready."),
    Column("Up-to-date", "integer", _path("status", "updatedNumberScheduled", default=0),
           description="The total number of nodes that are running updated daemon pod"),
    Column("Available", "integer", _path("status", "numberAvailable", default=0),
           description="The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available."),
    Column("Node Selector", "string",
           lambda o, n: format_labels(((o.get("spec") or {}).get("template") or {}).get("spec", {}).get("nodeSelector")),
           description="NodeSelector is a selector which must be true for the pod to fit on a node."),
    AGE, CONTAINERS, IMAGES, SELECTOR,
)

STATEFULSET_COLUMNS = (
    NAME,
    Column("Ready", "string", _replicas_ready, description="Number of the pod with ready state"),
    AGE, CONTAINERS, IMAGES,
)


# -- services and networking --------------------------------------------------------------------

def _service_external_ip(svc: dict, now: datetime) -> str:
    spec, status = svc.get("spec") or {}, svc.get("status") or {}
    external = spec.get("externalIPs") or []
    kind = spec.get("type") or "ClusterIP"
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else NONE
    if kind == "LoadBalancer":
        lb = _lb_ingress(status)
        if external:
            return ",".join(([lb] if lb else []) + external)
        return lb or "<pending>"
    if kind == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def _service_ports(svc: dict, now: datetime) -> str:
    parts = []
    for p in (svc.get("spec") or {}).get("ports") or []:
        proto = p.get("protocol") or "TCP"
        if p.get("nodePort"):
            parts.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            parts.append(f"{p.get('port')}/{proto}")
    return ",".join(parts) or NONE


SERVICE_COLUMNS = (
    NAME,
    Column("Type", "string", _path("spec", "type", default="ClusterIP"),
           description="type determines how the Service is exposed."),
    Column("Cluster-IP", "string", _path("spec", "clusterIP", default=NONE),
           description="clusterIP is the IP address of the service and is usually assigned randomly."),
    Column("External-IP", "string", _service_external_ip,
           description="externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
    Column("Port(s)", "string", _service_ports,
           description="The list of ports that are exposed by this service."),
    AGE,
    Column("Selector", "string", lambda s, n: format_labels((s.get("spec") or {}).get("selector")), priority=1,
           description="Route service traffic to pods with label keys and values matching this selector."),
)


def _ingress_hosts(ing: dict, now: datetime) -> str:
    rules = (ing.get("spec") or {}).get("rules") or []
    hosts = [r["host"] for r in rules[:3] if r.get("host")]
    if not hosts:
        return "*"
    text = ",".join(hosts)
    return f"{text} + {len(rules) - 3} more..." if len(rules) > 3 else text


INGRESS_COLUMNS = (
    NAME,
    Column("Class", "string", _path("spec", "ingressClassName", default=NONE),
           description="ingressClassName is the name of an IngressClass cluster resource."),
    Column("Hosts", "string", _ingress_hosts, description="Hosts that incoming requests are matched against before the ingress rule"),
    Column("Address", "string", lambda i, n: _lb_ingress(i.get("status") or {}),
           description="Address is a list containing ingress points for the load-balancer"),
    Column("Ports", "string", lambda i, n: "80, 443" if (i.get("spec") or {}).get("tls") else "80",
           description="Ports of TLS configurations that open"),
    AGE,
)

INGRESSCLASS_COLUMNS = (
    NAME,
    Column("Controller", "string", _path("spec", "controller"),
           description="Controller that is responsible for handling this class"),
    Column("Parameters", "string",
           lambda o, n: _ingressclass_params((o.get("spec") or {}).get("parameters")),
           description="A reference to a resource with additional parameters"),
    AGE,
)


def _ingressclass_params(params: dict | None) -> str:
    if not params:
        return NONE
    group = params.get("apiGroup")
    kind = f"{params.get('kind')}.{group}" if group else params.get("kind", "")
    return f"{kind}/{params.get('name', '')}"


# -- events -------------------------------------------------------------------------------------

def _event_first(ev: dict, now: datetime) -> str:
    return since(ev.get("firstTimestamp") or ev.get("eventTime"), now)


def _event_last(ev: dict, now: datetime) -> str:
    series = ev.get("series")
    if series and series.get("lastObservedTime"):
        return since(series["lastObservedTime"], now)
    return since(ev["lastTimestamp"], now) if ev.get("lastTimestamp") else _event_first(ev, now)


def _event_object(ev: dict, now: datetime) -> str:
    inv = ev.get("involvedObject") or {}
    kind = (inv.get("kind") or "").lower()
    return f"{kind}/{inv['name']}" if inv.get("name") else kind


def _event_source(ev: dict, now: datetime) -> str:
    src = ev.get("source") or {}
    component = src.get("component") or ev.get("reportingComponent") or ""
    instance = src.get("host") or ev.get("reportingInstance") or ""
    if not component:
        return ""
    return f"{component}, {instance}" if instance else component


def _event_count(ev: dict, now: datetime) -> int:
    series = ev.get("series")
    if series and series.get("count"):
        return int(series["count"])
    return int(ev.get("count") or 1)


EVENT_COLUMNS = (
    Column("Last Seen", "string", _event_last, description="The time at which the most recent occurrence of this event was recorded."),
    Column("Type", "string", _path("type"), description="Type of this event (Normal, Warning), new types could be added in the future."),
    Column("Reason", "string", _path("reason"), description="This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    Column("Object", "string", _event_object, description="The object that this event is about."),
    Column("Subobject", "string", _path("involvedObject", "fieldPath"), priority=1,
           description="The field of the object that this event is about."),
    Column("Source", "string", _event_source, priority=1, description="The component reporting this event."),
    Column("Message", "string", lambda e, n: (e.get("message") or "").strip(),
           description="A human-readable description of the status of this operation."),
    Column("First Seen", "string", _event_first, priority=1,
           description="The time at which the event was first recorded."),
    Column("Count", "integer", _event_count, priority=1, description="The number of times this event has occurred."),
    Column("Name", "string", _name, priority=1, description="Name must be unique within a namespace."),
)


# -- the simpler core kinds ---------------------------------------------------------------------

NAMESPACE_COLUMNS = (
    NAME,
    Column("Status", "string", _path("status", "phase"), description="The status of the namespace"),
    AGE,
)

CONFIGMAP_COLUMNS = (
    NAME,
    Column("Data", "integer", lambda o, n: len(o.get("data") or {}) + len(o.get("binaryData") or {}),
           description="Data contains the configuration data."),
    AGE,
)

SECRET_COLUMNS = (
    NAME,
    Column("Type", "string", _path("type", default="Opaque"), description="Used to facilitate programmatic handling of secret data."),
    Column("Data", "integer", lambda o, n: len(o.get("data") or {}) + len(o.get("stringData") or {}),
           description="Contains the secret data."),
    AGE,
)

SERVICEACCOUNT_COLUMNS = (
    NAME,
    Column("Secrets", "integer", lambda o, n: len(o.get("secrets") or []),
           description="Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."),
    AGE,
)


def _endpoints(ep: dict, now: datetime) -> str:
    found = []
    for subset in ep.get("subsets") or []:
        ports = subset.get("ports") or []
        for addr in subset.get("addresses") or []:
            if ports:
                found.extend(f"{addr.get('ip')}:{p.get('port')}" for p in ports)
            else:
                found.append(addr.get("ip", ""))
    if not found:
        return NONE
    text = ",".join(found[:3])
    return f"{text} + {len(found) - 3} more..." if len(found) > 3 else text


ENDPOINTS_COLUMNS = (
    NAME,
    Column("Endpoints", "string", _endpoints, description="Endpoints of the service"),
    AGE,
)

_ACCESS_MODES = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
                 ("ReadWriteOncePod", "RWOP"))


def access_modes(modes: list[str] | None) -> str:
    """GetAccessModesAsString: the short forms, in a fixed order."""
    modes = modes or []
    return ",".join(short for long, short in _ACCESS_MODES if long in modes)


def _pvc_status(pvc: dict, now: datetime) -> str:
    if pvc.get("metadata", {}).get("deletionTimestamp"):
        return "Terminating"
    return (pvc.get("status") or {}).get("phase", "")


def _pvc_capacity(pvc: dict, now: datetime) -> str:
    if not (pvc.get("spec") or {}).get("volumeName"):
        return ""
    return ((pvc.get("status") or {}).get("capacity") or {}).get("storage", "")


def _storage_class(obj: dict, now: datetime) -> str:
    return (obj.get("spec") or {}).get("storageClassName") or \
        (obj.get("metadata", {}).get("annotations") or {}).get("volume.beta.kubernetes.io/storage-class", "")


def _pv_claim(pv: dict, now: datetime) -> str:
    ref = (pv.get("spec") or {}).get("claimRef")
    return f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else ""


VOLUME_ATTRIBUTES_CLASS = Column("VolumeAttributesClass", "string",
                                 _path("spec", "volumeAttributesClassName", default="<unset>"),
                                 description="The VolumeAttributesClass this claim or volume uses.")
VOLUME_MODE = Column("VolumeMode", "string", _path("spec", "volumeMode", default="<unset>"), priority=1,
                     description="volumeMode defines what type of volume is required.")

PVC_COLUMNS = (
    NAME,
    Column("Status", "string", _pvc_status, description="The phase of the claim."),
    Column("Volume", "string", _path("spec", "volumeName"), description="The binding reference to the PersistentVolume backing this claim."),
    Column("Capacity", "string", _pvc_capacity, description="The actual resources of the underlying volume."),
    Column("Access Modes", "string", lambda o, n: access_modes((o.get("status") or {}).get("accessModes")),
           description="The access modes of the underlying volume."),
    Column("StorageClass", "string", _storage_class, description="The name of the StorageClass required by the claim."),
    VOLUME_ATTRIBUTES_CLASS, AGE, VOLUME_MODE,
)

PV_COLUMNS = (
    NAME,
    Column("Capacity", "string", lambda o, n: ((o.get("spec") or {}).get("capacity") or {}).get("storage", ""),
           description="capacity is the description of the persistent volume's resources and capacity."),
    Column("Access Modes", "string", lambda o, n: access_modes((o.get("spec") or {}).get("accessModes")),
           description="accessModes contains all ways the volume can be mounted."),
    Column("Reclaim Policy", "string", _path("spec", "persistentVolumeReclaimPolicy"),
           description="persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."),
    Column("Status", "string", lambda o, n: "Terminating" if o.get("metadata", {}).get("deletionTimestamp")
           else (o.get("status") or {}).get("phase", ""), description="phase indicates if a volume is available, bound to a claim, or released by a claim."),
    Column("Claim", "string", _pv_claim, description="claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."),
    Column("StorageClass", "string", _storage_class, description="storageClassName is the name of StorageClass to which this persistent volume belongs."),
    VOLUME_ATTRIBUTES_CLASS,
    Column("Reason", "string", _path("status", "reason"), description="reason is a brief CamelCase string that describes any failure."),
    AGE, VOLUME_MODE,
)

TARGETGROUPBINDING_COLUMNS = (
    NAME,
    Column("Service-Name", "string", _path("spec", "serviceRef", "name"), description="The Kubernetes Service's name"),
    Column("Service-Port", "string", lambda o, n: str(((o.get("spec") or {}).get("serviceRef") or {}).get("port", "")),
           description="The Kubernetes Service's port"),
    Column("Target-Type", "string", _path("spec", "targetType"), description="The AWS TargetGroup's TargetType"),
    Column("ARN", "string", _path("spec", "targetGroupARN"), priority=1, description="The AWS TargetGroup's Amazon Resource Name"),
    Column("Age", "date", _age, description="CreationTimestamp is a timestamp representing the server time when this object was created."),
)

# printers.go printLease: the holder is spec.holderIdentity, empty while nobody holds it.
LEASE_COLUMNS = (
    NAME,
    Column("Holder", "string", _path("spec", "holderIdentity"),
           description="HolderIdentity contains the identity of the holder of a current lease."),
    AGE,
)

GENERIC_COLUMNS = (NAME, AGE)

COLUMNS_BY_PLURAL: dict[str, tuple[Column, ...]] = {
    "pods": POD_COLUMNS,
    "nodes": NODE_COLUMNS,
    "deployments": DEPLOYMENT_COLUMNS,
    "replicasets": REPLICASET_COLUMNS,
    "daemonsets": DAEMONSET_COLUMNS,
    "statefulsets": STATEFULSET_COLUMNS,
    "services": SERVICE_COLUMNS,
    "ingresses": INGRESS_COLUMNS,
    "ingressclasses": INGRESSCLASS_COLUMNS,
    "events": EVENT_COLUMNS,
    "namespaces": NAMESPACE_COLUMNS,
    "configmaps": CONFIGMAP_COLUMNS,
    "secrets": SECRET_COLUMNS,
    "serviceaccounts": SERVICEACCOUNT_COLUMNS,
    "endpoints": ENDPOINTS_COLUMNS,
    "targetgroupbindings": TARGETGROUPBINDING_COLUMNS,
    "persistentvolumeclaims": PVC_COLUMNS,
    "persistentvolumes": PV_COLUMNS,
    "leases": LEASE_COLUMNS,
}

# Registered here, defined apart (tables_batch imports the shared columns defined above).
from .tables_batch import BATCH_POLICY_RBAC_COLUMNS  # noqa: E402

COLUMNS_BY_PLURAL.update(BATCH_POLICY_RBAC_COLUMNS)
from .tables_rc_apiservices import RC_APISERVICE_COLUMNS  # noqa: E402

COLUMNS_BY_PLURAL.update(RC_APISERVICE_COLUMNS)


# -- the Table object ---------------------------------------------------------------------------

def wants_table(accept: str) -> bool:
    """True when the client asked for meta.k8s.io Table (v1 or v1beta1) before plain JSON."""
    for part in accept.split(","):
        params = {}
        for item in part.split(";")[1:]:
            if "=" in item:
                k, v = item.split("=", 1)
                params[k.strip()] = v.strip()
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            return True
    return False


def table_api_version(accept: str) -> str:
    return "meta.k8s.io/v1beta1" if "v=v1beta1" in accept and "v=v1;" not in accept + ";" else "meta.k8s.io/v1"


def partial_metadata(obj: dict) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata", {})}


def columns_for(plural: str) -> tuple[Column, ...]:
    return COLUMNS_BY_PLURAL.get(plural, GENERIC_COLUMNS)


def table_row(plural: str, obj: dict, now: datetime, include_object: str = "Metadata") -> dict:
    row: dict = {"cells": [col.cell(obj, now) for col in columns_for(plural)]}
    if include_object == "Object":
        row["object"] = obj
    elif include_object != "None":
        row["object"] = partial_metadata(obj)
    return row


def build_table(plural: str, objects: list[dict], now: datetime, *, resource_version: str = "",
                include_object: str = "Metadata", with_columns: bool = True,
                api_version: str = "meta.k8s.io/v1") -> dict:
    table: dict = {"kind": "Table", "apiVersion": api_version,
                   "metadata": {"resourceVersion": resource_version} if resource_version else {}}
    table["columnDefinitions"] = [c.definition() for c in columns_for(plural)] if with_columns else None
    table["rows"] = [table_row(plural, o, now, include_object) for o in objects]
    return table
