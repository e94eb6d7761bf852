"""The Kubernetes side of the sandbox's scenarios (the AWS side is AwsSandbox.seed).

- "pre-migration": iAgent in ``default``, ``prod`` and ``staging`` on the EC2 node group, CoreDNS
  on EC2 (pod template annotated ``eks.amazonaws.com/compute-type: ec2``, as EKS ships it),
  kube-proxy and aws-node, and the workloads that cannot move to Fargate as they are:
  a logging DaemonSet (logging/fluent-bit, hostPath /var/log), a privileged pod
  (prod/netdebug), a StatefulSet whose claim is bound to an EBS volume (prod/iagent-vectordb),
  a deployment without requests (staging/iagent-batch) and one whose requests round up badly
  (prod/iagent-indexer: 0.5 vCPU / 4 GiB + 256 MiB -> 1vCPU 5GB, twice the vCPU it asked for).
- "migrated": Fargate profiles for default, prod, staging and kube-system exist before any pod
  is created, so the same workloads land on Fargate; the ones that cannot run there were moved to
  namespace ``legacy`` (no profile: they stay on EC2), staging/iagent-batch got requests, CoreDNS
  has no compute-type annotation, the load balancer controller is installed (Helm chart objects)
  and the sample app (manifests/sample-app.yaml) is applied.
- "broken": the pre-migration objects created while only fp-default and fp-prod are ACTIVE:
  prod's privileged pod and EBS-backed StatefulSet are refused by fargate-scheduler, staging
  stays on EC2, and CoreDNS runs without its annotation but with no kube-system profile.

Requests fit the two t3.large nodes of the node group (allocatable 1930m CPU each) with room to
spare, so every pod that can start does start before the scenario reports ready.
"""

from __future__ import annotations

import copy
from importlib import resources

import yaml

from .controllers import kubeutil as ku
from .kube.resources import rt

IAGENT_ECR = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/iagent"
EKS_ECR = "602401143452.dkr.ecr.eu-central-1.amazonaws.com"
LBC_ROLE = "arn:aws:iam::{account}:role/AmazonEKSLoadBalancerControllerRole"
NOT_FARGATE = {"key": "eks.amazonaws.com/compute-type", "operator": "NotIn",
               "values": ["fargate", "hybrid", "auto"]}


def _resources(cpu: str | None, memory: str | None, limit_memory: str | None = None) -> dict:
    if cpu is None and memory is None:
        return {}
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    limits = dict(requests)
    if limit_memory:
        limits["memory"] = limit_memory
    return {"requests": requests, "limits": limits}


def container(name: str, image: str, cpu: str | None, memory: str | None, port: int | None = 8080,
              probe_path: str | None = "/healthz", **extra) -> dict:
    c = {"name": name, "image": image, "resources": _resources(cpu, memory, extra.pop("limit_memory", None))}
    if port:
        c["ports"] = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    if probe_path and port:
        c["readinessProbe"] = {"httpGet": {"path": probe_path, "port": "http"},
                               "initialDelaySeconds": 3, "periodSeconds": 5}
        c["livenessProbe"] = {"httpGet": {"path": probe_path, "port": "http"},
                              "initialDelaySeconds": 15, "periodSeconds": 10}
    c.update(extra)
    return c


def deployment(name: str, namespace: str, replicas: int, containers: list[dict],
               labels: dict | None = None, pod_annotations: dict | None = None, **pod_spec) -> dict:
    selector = {"app.kubernetes.io/name": name}
    pod_labels = {**selector, "app.kubernetes.io/part-of": "iagent", **(labels or {})}
    template = {"metadata": {"labels": pod_labels}, "spec": {"containers": containers, **pod_spec}}
    if pod_annotations:
        template["metadata"]["annotations"] = pod_annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(pod_labels)},
            "spec": {"replicas": replicas, "selector": {"matchLabels": selector}, "template": template}}


def service(name: str, namespace: str, selector: dict, port: int = 80, target="http",
            cluster_ip: str | None = None, labels: dict | None = None) -> dict:
    spec = {"type": "ClusterIP", "selector": selector,
            "ports": [{"name": "http", "port": port, "targetPort": target, "protocol": "TCP"}]}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or selector}, "spec": spec}


# -- kube-system ---------------------------------------------------------------------------
def coredns(on_ec2: bool) -> list[tuple[str, dict]]:
    labels = {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"}
    c = {"name": "coredns", "image": f"{EKS_ECR}/eks/coredns:v1.11.3-eksbuild.2",
         "args": ["-conf", "/etc/coredns/Corefile"],
         "resources": {"requests": {"cpu": "100m", "memory": "70Mi"}, "limits": {"memory": "170Mi"}},
         "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                   {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                   {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}],
         "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}, "periodSeconds": 10},
         "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}, "initialDelaySeconds": 60,
                           "periodSeconds": 10, "failureThreshold": 5},
         "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True}]}
    template_meta = {"labels": dict(labels)}
    if on_ec2:
        template_meta["annotations"] = {"eks.amazonaws.com/compute-type": "ec2"}
    deploy = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system",
                     "labels": {**labels, "kubernetes.io/name": "CoreDNS"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
                 "template": {"metadata": template_meta, "spec": {
                     "containers": [c], "priorityClassName": "system-cluster-critical",
                     "serviceAccountName": "coredns", "dnsPolicy": "Default",
                     "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                     {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                     "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                         "nodeSelectorTerms": [{"matchExpressions": [
                             {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                             {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}]}},
                         "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                             "weight": 100, "podAffinityTerm": {
                                 "labelSelector": {"matchExpressions": [
                                     {"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]},
                                 "topologyKey": "kubernetes.io/hostname"}}]}},
                     "volumes": [{"name": "config-volume", "configMap": {"name": "coredns"}}]}}}}
    corefile = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "coredns", "namespace": "kube-system", "labels": labels},
                "data": {"Corefile": ".:53 {\n    errors\n    health {\n        lameduck 5s\n      }\n"
                                     "    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
                                     "      pods insecure\n      fallthrough in-addr.arpa ip6.arpa\n    }\n"
                                     "    prometheus :9153\n    forward . /etc/resolv.conf\n    cache 30\n"
                                     "    loop\n    reload\n    loadbalance\n}\n"}}
    svc = service("kube-dns", "kube-system", {"k8s-app": "kube-dns"}, port=53, target=53,
                  cluster_ip="10.100.0.10", labels={**labels, "kubernetes.io/name": "CoreDNS"})
    svc["spec"]["ports"] = [{"name": "dns", "port": 53, "targetPort": 53, "protocol": "UDP"},
                            {"name": "dns-tcp", "port": 53, "targetPort": 53, "protocol": "TCP"},
                            {"name": "metrics", "port": 9153, "targetPort": 9153, "protocol": "TCP"}]
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "coredns", "namespace": "kube-system"}}
    return [("serviceaccounts", sa), ("configmaps", corefile), ("services", svc), ("deployments", deploy)]


def node_daemonset(name: str, image: str, cpu: str, extra: dict | None = None) -> dict:
    labels = {"k8s-app": name}
    spec = {"containers": [{"name": name, "image": image,
                            "resources": {"requests": {"cpu": cpu}},
                            "securityContext": {"privileged": True}}],
            "hostNetwork": True, "priorityClassName": "system-node-critical",
            "tolerations": [{"operator": "Exists"}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]},
                    NOT_FARGATE]}]}}}}
    spec.update(extra or {})
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": "kube-system", "labels": labels},
            "spec": {"selector": {"matchLabels": labels},
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}},
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}


# -- iAgent and the workloads that cannot move -------------------------------------------------
def iagent_workloads(scenario: str) -> list[tuple[str, dict]]:
    legacy = "legacy" if scenario == "migrated" else "prod"
    batch_requests = ("250m", "512Mi") if scenario == "migrated" else (None, None)
    objs: list[tuple[str, dict]] = [
        ("deployments", deployment("iagent-web", "default", 1,
                                   [container("web", f"{IAGENT_ECR}/web:1.8.2", "100m", "512Mi", 8080)])),
        ("deployments", deployment("iagent-api", "prod", 2,
                                   [container("api", f"{IAGENT_ECR}/api:1.8.2", "250m", "512Mi")])),
        ("deployments", deployment("iagent-worker", "prod", 1,
                                   [container("worker", f"{IAGENT_ECR}/worker:1.8.2", "500m", "1Gi", None,
                                              env=[{"name": "QUEUE_URL", "value": "sqs://iagent-tasks"}])])),
        ("deployments", deployment("iagent-web", "prod", 2,
                                   [container("web", f"{IAGENT_ECR}/web:1.8.2", "100m", "256Mi", 8080)])),
        # 0.5 vCPU / 4 GiB: +256 MiB overhead no longer fits 0.5 vCPU (max 4 GB) -> 1vCPU 5GB.
        ("deployments", deployment("iagent-indexer", "prod", 1,
                                   [container("indexer", f"{IAGENT_ECR}/indexer:1.8.2", "500m", "4Gi", None)])),
        ("deployments", deployment("iagent-api", "staging", 1,
                                   [container("api", f"{IAGENT_ECR}/api:1.9.0-rc.1", "250m", "512Mi")])),
        ("deployments", deployment("iagent-batch", "staging", 1,
                                   [container("batch", f"{IAGENT_ECR}/batch:1.8.2", *batch_requests, None)])),
        ("statefulsets", vectordb(legacy)),
        ("pods", netdebug(legacy)),
    ]
    for name, ns in (("iagent-web", "default"), ("iagent-api", "prod"), ("iagent-web", "prod"),
                     ("iagent-api", "staging")):
        objs.append(("services", service(name, ns, {"app.kubernetes.io/name": name})))
    objs.append(("services", {**service("iagent-vectordb", legacy, {"app.kubernetes.io/name": "iagent-vectordb"},
                                        port=6333, target=6333),
                              }))
    return objs


def vectordb(namespace: str) -> dict:
    labels = {"app.kubernetes.io/name": "iagent-vectordb", "app.kubernetes.io/part-of": "iagent"}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "iagent-vectordb", "namespace": namespace, "labels": labels},
            "spec": {"replicas": 1, "serviceName": "iagent-vectordb",
                     "selector": {"matchLabels": {"app.kubernetes.io/name": "iagent-vectordb"}},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         container("vectordb", f"{IAGENT_ECR}/vectordb:1.12.4", "250m", "1Gi", 6333, None,
                                   volumeMounts=[{"name": "data", "mountPath": "/qdrant/storage"}])]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                         "accessModes": ["ReadWriteOnce"], "storageClassName": "gp2",
                         "resources": {"requests": {"storage": "20Gi"}}}}]}}


def netdebug(namespace: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "netdebug", "namespace": namespace,
                         "labels": {"app.kubernetes.io/name": "netdebug", "app.kubernetes.io/part-of": "iagent"}},
            "spec": {"containers": [container("netdebug", "docker.io/nicolaka/netshoot:v0.13", "100m", "128Mi",
                                              None, command=["sleep", "infinity"],
                                              securityContext={"privileged": True})]}}


def fluent_bit() -> dict:
    labels = {"app.kubernetes.io/name": "fluent-bit"}
    spec = {"containers": [{"name": "fluent-bit",
                            "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2",
                            "resources": {"requests": {"cpu": "50m", "memory": "100Mi"},
                                          "limits": {"memory": "200Mi"}},
                            "volumeMounts": [{"name": "varlog", "mountPath": "/var/log", "readOnly": True}]}],
            "volumes": [{"name": "varlog", "hostPath": {"path": "/var/log"}}],
            "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "fluent-bit", "namespace": "logging", "labels": labels},
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}


def sample_app() -> list[tuple[str, dict]]:
    text = resources.files("manifests").joinpath("sample-app.yaml").read_text()
    return [(rt(doc["kind"]).plural, doc) for doc in yaml.safe_load_all(text) if doc]


def kubernetes_service() -> list[tuple[str, dict]]:
    """default/kubernetes: every cluster has it, pointing at the API server's endpoints (on EKS, the
    control plane's cross-account ENIs in the cluster's subnets)."""
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "kubernetes", "namespace": "default",
                        "labels": {"component": "apiserver", "provider": "kubernetes"}},
           "spec": {"type": "ClusterIP", "clusterIP": "10.100.0.1", "sessionAffinity": "None",
                    "ports": [{"name": "https", "port": 443, "targetPort": 443, "protocol": "TCP"}]}}
    endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                 "metadata": {"name": "kubernetes", "namespace": "default",
                              "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                 "subsets": [{"addresses": [{"ip": "10.0.131.17"}, {"ip": "10.0.170.41"}],
                              "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}]}
    return [("services", svc), ("endpoints", endpoints)]


def instance_target_ingress() -> tuple[str, dict]:
    """The broken scenario's ALB ingress without target-type ip: on Fargate the controller's
    instance targets skip Fargate nodes, so the target group stays empty (DOMAIN 6.3)."""
    return ("ingresses", {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "iagent-web", "namespace": "prod",
                     "annotations": {"alb.ingress.kubernetes.io/scheme": "internet-facing"}},
        "spec": {"ingressClassName": "alb", "rules": [{"http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "iagent-web", "port": {"number": 80}}}}]}}]}})


def scenario_objects(scenario: str) -> list[tuple[str, dict]]:
    if scenario == "large":  # pre-migration iAgent on EC2, plus tenants that scale_out grows in bulk
        from .scenario_large import tenant_objects
        return scenario_objects("pre-migration") + tenant_objects()
    if scenario not in ("pre-migration", "migrated", "broken"):
        raise ValueError(f"unknown scenario {scenario!r}: choose pre-migration, migrated, broken or large")
    namespaces = ["prod", "staging", "logging"] + (["legacy"] if scenario == "migrated" else [])
    objs: list[tuple[str, dict]] = [
        ("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}) for ns in namespaces]
    objs += kubernetes_service()
    objs += coredns(on_ec2=scenario == "pre-migration")
    objs.append(("daemonsets", node_daemonset("kube-proxy", f"{EKS_ECR}/eks/kube-proxy:v1.31.2-minimal-eksbuild.3", "100m")))
    objs.append(("daemonsets", node_daemonset("aws-node", f"{EKS_ECR}/amazon-k8s-cni:v1.19.0-eksbuild.1", "25m")))
    objs.append(("daemonsets", fluent_bit()))
    objs += iagent_workloads(scenario)
    if scenario == "migrated":
        objs += sample_app()
    if scenario == "broken":
        objs.append(instance_target_ingress())
    return objs


def _vpc_id(world) -> str | None:
    try:
        vpcs = [v for v in world.aws.backend("ec2").describe_vpcs() if not getattr(v, "is_default", False)]
    except Exception:  # noqa: BLE001 - no AWS side in a store-only test
        return None
    return vpcs[0].id if vpcs else None


async def seed_kube(world) -> None:
    """Create the scenario's Kubernetes objects; the controllers then bring them up."""
    store = world.store
    for plural, obj in scenario_objects(world.scenario):
        store.create(rt(plural), copy.deepcopy(obj))
    if world.scenario in ("migrated", "large"):
        account = getattr(world.aws, "account_id", "123456789012")
        store.create(rt("serviceaccounts"), {
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "aws-load-balancer-controller", "namespace": "kube-system",
                         "labels": {"app.kubernetes.io/name": "aws-load-balancer-controller",
                                    "app.kubernetes.io/component": "controller"},
                         "annotations": {"eks.amazonaws.com/role-arn": LBC_ROLE.format(account=account)}}})
        from .controllers import lbc_install
        lbc_install.install(store, {"clusterName": world.cluster_name, "region": world.region,
                                    "vpcId": _vpc_id(world) or "",
                                    "serviceAccount": {"create": False, "name": "aws-load-balancer-controller"}})


# -- readiness of the whole scenario ---------------------------------------------------------------
_STUCK_WAITING = {"ErrImagePull", "ImagePullBackOff", "CrashLoopBackOff", "ErrImageNeverPull",
                  "InvalidImageName", "CreateContainerConfigError"}


def pod_settled(pod: dict, nodes: list[dict] | None = None, pods: list[dict] | None = None) -> bool:
    """Started (containers ready), or unable to start on its own (refused, unschedulable, stuck
    in a back-off) — either way nothing more will happen without someone acting. An unschedulable
    pod that would fit the current nodes is not settled: the scheduler is about to retry it."""
    if ku.is_terminating(pod):
        return False
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return True
    scheduled = ku.get_condition(pod, "PodScheduled")
    if scheduled is None:
        return False
    if scheduled.get("status") == "False":
        if scheduled.get("reason") == "Unschedulable" and nodes is not None:
            from .controllers.scheduler import choose_node
            return choose_node(pod, nodes, pods or [])[0] is None
        return True
    if ku.condition_true(pod, "ContainersReady"):
        return True
    for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        if (cs.get("state") or {}).get("waiting", {}).get("reason") in _STUCK_WAITING:
            return True
    return False


def _nodes_joined(world) -> bool:
    try:
        from .controllers.nodegroup import NODEGROUP_LABEL  # type: ignore[attr-defined]
    except ImportError:
        NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup"
    try:
        groups = world.aws.backend("eks").clusters[world.cluster_name].nodegroups
    except Exception:  # noqa: BLE001 - no AWS side: nothing to wait for
        return True
    nodes = world.store.scan(ku.NODES)
    for name in groups:
        wanted = world.aws.nodegroup(world.cluster_name, name)["scalingConfig"]["desiredSize"]
        joined = sum(1 for n in nodes if (n["metadata"].get("labels") or {}).get(NODEGROUP_LABEL) == name
                     and ku.node_ready(n))
        if joined < wanted:
            return False
    return True


def _controllers_caught_up(world) -> bool:
    store = world.store
    for plural in ("deployments", "daemonsets", "statefulsets", "replicasets"):
        items = store.scan(rt(plural))
        for obj in items:
            status = obj.get("status") or {}
            if status.get("observedGeneration") != obj["metadata"].get("generation"):
                return False
            if plural == "deployments":
                want = obj["spec"].get("replicas", 1)
                if status.get("updatedReplicas", 0) != want or status.get("replicas", 0) != want:
                    return False
            if plural == "daemonsets" and status.get("currentNumberScheduled", 0) != status.get("desiredNumberScheduled", 0):
                return False
    return True


def settled(world) -> bool:
    """True once every pod that can start has started (and the controllers have created every
    pod they will), so a scenario is ready to be looked at."""
    if not _nodes_joined(world) or not _controllers_caught_up(world):
        return False
    pods = world.store.scan(ku.PODS)
    nodes = world.store.scan(ku.NODES)
    return bool(pods) and all(pod_settled(p, nodes, pods) for p in pods)
