"""The ``large`` scenario: the pre-migration cluster (iAgent and CoreDNS on EC2) with the load
balancer controller installed, plus ten tenant namespaces on Fargate, each through
its own profile (fp-tenant-00 … fp-tenant-09), 5,000 pods by default, behind ten ALBs with fifty
target groups and 500 ip targets, and a steady churn of rolling updates.

Running every controller step for 5,000 pods takes minutes, so the scenario comes up in two parts:
1. every tenant Deployment is created with one replica and brought up by the real controllers
   (admission, fargate-scheduler, kubelet, load balancer controller), like any other scenario;
2. ``scale_out`` then copies each Deployment's one pod to its full replica count directly in the
   store: a fresh name, uid and address for each copy, its own ``fargate-ip-…`` node, and the
   events that the template pod got (Scheduled, LoggingDisabled, Pulling, Pulled, Created,
   Started), rewritten for the copy. The ReplicaSet and Deployment are scaled to match, so the
   controllers, which see every copy through their watches, find nothing left to do, and the load
   balancer controller registers the copies behind the web services on its own.

Web Deployments (10 replicas at 5,000 pods) are exposed; workers fill the rest. Churn: ``churn``
keeps a few worker Deployments in a rolling update (``kubectl rollout restart``: the template's
restartedAt annotation) with maxSurge 2 / maxUnavailable 0, which replaces a few pods a second.
"""

from __future__ import annotations

import asyncio
import itertools

from .clock import rfc3339
from .controllers import ipam
from .controllers import kubeutil as ku
from .controllers.fargate import fargate_node
from .eks_rules.profiles import PROFILE_LABEL
from .eks_rules.sizing import fargate_size
from .kube.bulk import load, new_uid
from .kube.clone import clone
from .kube.resources import rt

TENANTS = 10
WEB_SERVICES = 5       # per tenant namespace, all behind the namespace's one ALB ingress
WORKERS = 5            # worker Deployments per tenant namespace
DEFAULT_PODS = 5000
CHURN_ROLLOUTS = 3     # worker Deployments kept rolling at once
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
DEPLOYMENTS, REPLICASETS, EVENTS = rt("deployments"), rt("replicasets"), rt("events")
WEB_IMAGE = "public.ecr.aws/nginx/nginx:1.27-alpine"
WORKER_IMAGE = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/iagent/worker:1.8.2"


def tenant_namespaces() -> list[str]:
    return [f"tenant-{i:02d}" for i in range(TENANTS)]


def profile_names() -> list[str]:
    return [f"fp-{ns}" for ns in tenant_namespaces()]


def shape(pods: int) -> dict[tuple[str, str], int]:
    """(namespace, deployment) -> replicas, adding up to ``pods`` (at least one per Deployment)."""
    per_ns = max(WEB_SERVICES + WORKERS, pods // TENANTS)
    web = max(1, per_ns // 50)  # 10 at 5,000 pods: 50 target groups x 10 = 500 targets
    rest = per_ns - WEB_SERVICES * web
    wanted: dict[tuple[str, str], int] = {}
    for ns in tenant_namespaces():
        for i in range(WEB_SERVICES):
            wanted[(ns, f"web-{i}")] = web
        for i in range(WORKERS):
            wanted[(ns, f"worker-{i}")] = rest // WORKERS + (1 if i < rest % WORKERS else 0)
    return wanted


def _deployment(name: str, namespace: str, image: str, cpu: str, memory: str, port: int | None) -> dict:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "iagent-tenant"}
    container = {"name": name.split("-")[0], "image": image,
                 "resources": {"requests": {"cpu": cpu, "memory": memory},
                               "limits": {"cpu": cpu, "memory": memory}}}
    if port:
        container["ports"] = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        container["readinessProbe"] = {"httpGet": {"path": "/", "port": "http"},
                                       "initialDelaySeconds": 2, "periodSeconds": 5}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}}


def tenant_objects() -> list[tuple[str, dict]]:
    """What the scenario creates through the API before scaling out: one replica each."""
    objs: list[tuple[str, dict]] = []
    for ns in tenant_namespaces():
        objs.append(("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
        paths = []
        for i in range(WEB_SERVICES):
            name = f"web-{i}"
            objs.append(("deployments", _deployment(name, ns, WEB_IMAGE, "250m", "512Mi", 80)))
            objs.append(("services", {
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/name": name}},
                "spec": {"type": "ClusterIP", "selector": {"app.kubernetes.io/name": name},
                         "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}}))
            paths.append({"path": f"/{name}", "pathType": "Exact",
                          "backend": {"service": {"name": name, "port": {"number": 80}}}})
        for i in range(WORKERS):
            objs.append(("deployments", _deployment(f"worker-{i}", ns, WORKER_IMAGE, "500m", "1Gi", None)))
        objs.append(("ingresses", {
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "tenant", "namespace": ns, "annotations": {
                "alb.ingress.kubernetes.io/scheme": "internet-facing",
                "alb.ingress.kubernetes.io/target-type": "ip",
                "alb.ingress.kubernetes.io/healthcheck-path": "/"}},
            "spec": {"ingressClassName": "alb", "rules": [{"http": {"paths": paths}}]}}))
    return objs


# -- scaling out in bulk ---------------------------------------------------------------------------
def _owned(store, rtype, namespace: str, owner_uid: str) -> list[dict]:
    return [o for o in store._iter(rtype, namespace)
            if any(r.get("uid") == owner_uid for r in o["metadata"].get("ownerReferences") or ())]


def _container_id(store) -> str:
    return "containerd://" + f"{store._rng.getrandbits(256):064x}"


def scale_out(world, wanted: dict[tuple[str, str], int]) -> int:
    """Copy each tenant Deployment's settled pod up to its wanted replicas; returns pods added."""
    store = world.store
    used = ipam.used_ips(world)
    subnets_of = {p["fargateProfileName"]: p["subnets"] for p in world.aws.fargate_profiles(world.cluster_name)}
    added = 0
    for (namespace, name), replicas in wanted.items():
        deployment = store._objects[DEPLOYMENTS][(namespace, name)]
        rs = next(r for r in _owned(store, REPLICASETS, namespace, deployment["metadata"]["uid"])
                  if int(r["spec"].get("replicas", 0)) > 0)
        pods = [p for p in _owned(store, ku.PODS, namespace, rs["metadata"]["uid"]) if ku.is_active(p)]
        template = pods[0]
        node = store._objects[ku.NODES][("", template["spec"]["nodeName"])]
        events = [e for e in store._iter(EVENTS, namespace)
                  if (e.get("involvedObject") or {}).get("uid") == template["metadata"]["uid"]]
        size = fargate_size(template["spec"])
        subnets = subnets_of[template["metadata"]["labels"][PROFILE_LABEL]]
        for _ in range(replicas - len(pods)):
            _copy_pod(world, template, node, events, rs, size, subnets, used)
            added += 1
        _scale(store, REPLICASETS, rs, replicas)
        _scale(store, DEPLOYMENTS, deployment, replicas)
    return added


def _copy_pod(world, template: dict, node: dict, events: list[dict], rs: dict, size,
              subnets: list[str], used: set[str]) -> None:
    store = world.store
    namespace = template["metadata"]["namespace"]
    name = store._generated_name(ku.PODS, namespace, rs["metadata"]["name"] + "-")
    uid = new_uid(store)
    subnet = subnets[world.clock.rng(f"fargate-subnet:{uid}").randrange(len(subnets))]
    cidr, az = ipam.subnet_info(world, subnet)
    ip = ipam.allocate_ip(world, cidr, uid, used)
    used.add(ip)
    fresh = fargate_node(world, ip, az, uid, size)
    new_node = clone(node)
    new_node["metadata"].update(name=fresh["metadata"]["name"], uid=new_uid(store),
                                labels=fresh["metadata"]["labels"])
    new_node["spec"]["providerID"] = fresh["spec"]["providerID"]
    new_node["status"]["addresses"] = fresh["status"]["addresses"]
    new_node["status"]["nodeInfo"] = fresh["status"]["nodeInfo"]
    load(store, ku.NODES, new_node)
    pod = clone(template)
    meta, status = pod["metadata"], pod["status"]
    meta.update(name=name, uid=uid)
    pod["spec"]["nodeName"] = new_node["metadata"]["name"]
    status.update(hostIP=ip, podIP=ip, hostIPs=[{"ip": ip}], podIPs=[{"ip": ip}])
    for container in status.get("containerStatuses") or ():
        if container.get("containerID"):
            container["containerID"] = _container_id(store)
    load(store, ku.PODS, pod)
    old_name, old_node = template["metadata"]["name"], node["metadata"]["name"]
    for event in events:
        ev = clone(event)
        ev["metadata"].update(name=name + ev["metadata"]["name"][len(old_name):], uid=new_uid(store))
        ev["involvedObject"].update(name=name, uid=uid)
        ev["involvedObject"].pop("resourceVersion", None)
        ev["message"] = ev["message"].replace(old_name, name).replace(old_node, new_node["metadata"]["name"])
        if ev.get("source", {}).get("host") == old_node:
            ev["source"]["host"] = new_node["metadata"]["name"]
        if ev.get("reportingInstance") == old_node:
            ev["reportingInstance"] = new_node["metadata"]["name"]
        load(store, EVENTS, ev)


def _scale(store, rtype, obj: dict, replicas: int) -> None:
    def apply(o: dict) -> None:
        o["spec"]["replicas"] = replicas
        if rtype is REPLICASETS:
            o["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/desired-replicas"] = str(replicas)
    meta = obj["metadata"]
    store.mutate(rtype, meta["namespace"], meta["name"], apply)


# -- churn -----------------------------------------------------------------------------------------
def _rolling(deployment: dict) -> bool:
    status = deployment.get("status") or {}
    want = deployment["spec"].get("replicas", 1)
    return (status.get("observedGeneration") != deployment["metadata"].get("generation")
            or status.get("updatedReplicas", 0) != want or status.get("replicas", 0) != want
            or status.get("availableReplicas", 0) != want)


async def churn(world, rollouts: int = CHURN_ROLLOUTS, period_s: float = 1.0) -> None:
    """Keep ``rollouts`` worker Deployments in a rolling restart, one after another, for ever."""
    if rollouts <= 0:
        return
    store = world.store
    order = itertools.cycle([(ns, f"worker-{i}") for i in range(WORKERS) for ns in tenant_namespaces()])
    active: set[tuple[str, str]] = set()
    while True:
        for key in list(active):
            deployment = store._objects[DEPLOYMENTS].get(key)
            if deployment is None or not _rolling(deployment):
                active.discard(key)
        while len(active) < rollouts:
            key = next(order)
            if key in active or key not in store._objects[DEPLOYMENTS]:
                continue
            stamp = rfc3339(world.clock.now())

            def restart(d: dict, stamp=stamp) -> None:
                meta = d["spec"]["template"].setdefault("metadata", {})
                meta.setdefault("annotations", {})[RESTARTED_AT] = stamp
            store.mutate(DEPLOYMENTS, key[0], key[1], restart)
            active.add(key)
        await asyncio.sleep(period_s)
