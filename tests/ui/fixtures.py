"""A fixed cluster in the middle of a migration, as a Snapshot: fixed names, fixed times.

Ages on screen are measured against Snapshot.taken_at, so this data renders identically on every
run (snapshot tests) without freezing any clock.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from iagent_tui.model import (Addon, ClusterInfo, ConnectionState, Event, FargateProfile, HealthIssue,
                              LoadBalancer, Node, NodeGroup, Pod, Selector, Snapshot, SourceState,
                              Target, TargetGroup, Workload, frozen_map)
from iagent_tui.services.convert import pod_from_raw, workload_from_raw

T0 = datetime(2026, 11, 26, 10, 0, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(minutes=30)
REGION = "eu-central-1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def rfc(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_raw(namespace: str, name: str, node: str, *, fargate_profile: str = "", capacity: str = "",
            cpu: str = "250m", memory: str = "256Mi", labels: dict | None = None,
            created: datetime = T0, ready_after: float | None = 50.0) -> dict:
    annotations = {"CapacityProvisioned": capacity} if capacity else {}
    all_labels = dict(labels or {})
    if fargate_profile:
        all_labels["eks.amazonaws.com/fargate-profile"] = fargate_profile
    conditions = []
    if node:
        conditions.append({"type": "PodScheduled", "status": "True",
                           "lastTransitionTime": rfc(created + timedelta(seconds=40))})
    if ready_after is not None:
        conditions.append({"type": "Ready", "status": "True",
                           "lastTransitionTime": rfc(created + timedelta(seconds=ready_after))})
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": all_labels,
                     "annotations": annotations, "creationTimestamp": rfc(created),
                     "uid": f"uid-{namespace}-{name}"},
        "spec": {"nodeName": node, "containers": [{
            "name": "app", "image": "nginx:1.27",
            "resources": {"requests": {"cpu": cpu, "memory": memory},
                          "limits": {"cpu": cpu, "memory": memory}}}]},
        "status": {"phase": "Running" if node else "Pending", "conditions": conditions,
                   "startTime": rfc(created + timedelta(seconds=41)) if node else None},
    }


def make_pod(namespace: str, name: str, node: str, compute: str, *, fargate_profile: str = "",
             capacity: str = "", ready: bool = True, reason: str = "Running", labels: dict | None = None,
             created: datetime = T0, ready_after: float | None = 50.0, ip: str = "") -> Pod:
    raw = pod_raw(namespace, name, node, fargate_profile=fargate_profile, capacity=capacity, labels=labels,
                  created=created, ready_after=ready_after if ready else None)
    # The converter parses spec and status; the fields a panel shows are pinned here.
    return replace(pod_from_raw(raw), node=node, compute_type=compute,
                   phase="Running" if node else "Pending", ready=ready, reason=reason, restarts=0, ip=ip,
                   owner_kind="ReplicaSet", owner_name=name.rsplit("-", 2)[0],
                   capacity_provisioned=capacity, fargate_profile=fargate_profile, created=created)


FARGATE_NODE_1 = "fargate-ip-10-0-1-17.eu-central-1.compute.internal"
FARGATE_NODE_2 = "fargate-ip-10-0-2-33.eu-central-1.compute.internal"
EC2_NODE_1 = "ip-10-0-1-100.eu-central-1.compute.internal"
EC2_NODE_2 = "ip-10-0-2-200.eu-central-1.compute.internal"


def workload(kind: str, namespace: str, name: str, container: dict, replicas: int = 1) -> Workload:
    raw = {"apiVersion": "apps/v1", "kind": kind,
           "metadata": {"name": name, "namespace": namespace, "resourceVersion": "100"},
           "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": {"containers": [container]}}}}
    return replace(workload_from_raw(raw), replicas=replicas, ready=replicas)


SIZED = {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "250m", "memory": "256Mi"}}
WORKLOADS = (
    workload("Deployment", "default", "api", {"name": "app", "image": "nginx:1.27", "resources": SIZED}, 2),
    workload("Deployment", "prod", "legacy", {"name": "app", "image": "legacy:2", "resources": SIZED,
                                              "ports": [{"containerPort": 8080, "hostPort": 8080}]}),
    workload("DaemonSet", "kube-system", "node-exporter", {"name": "exporter", "image": "prom/node-exporter",
                                                           "resources": SIZED}),
)


def mid_migration() -> Snapshot:
    kube_dns = {"k8s-app": "kube-dns"}
    pods = (
        make_pod("default", "api-7d9f8-abcde", FARGATE_NODE_1, "fargate", fargate_profile="fp-default",
                 capacity="0.25vCPU 0.5GB", ip="10.0.1.17", created=at(0), ready_after=55),
        make_pod("default", "api-7d9f8-fghij", FARGATE_NODE_2, "fargate", fargate_profile="fp-default",
                 capacity="0.25vCPU 0.5GB", ip="10.0.2.33", created=at(10), ready_after=140),
        make_pod("prod", "web-5c6b7-klmno", EC2_NODE_1, "ec2", ip="10.0.1.120", created=at(20), ready_after=8),
        make_pod("prod", "web-5c6b7-pqrst", "", "", ready=False, reason="Pending", created=at(1700)),
        make_pod("kube-system", "coredns-6b9f-aaaaa", EC2_NODE_1, "ec2", labels=kube_dns, ip="10.0.1.101"),
        make_pod("kube-system", "coredns-6b9f-bbbbb", EC2_NODE_2, "ec2", labels=kube_dns, ready=False,
                 reason="CrashLoopBackOff", ip="10.0.2.201"),
    )
    nodes = (
        Node(FARGATE_NODE_1, "fargate", True, "eu-central-1a", "", frozen_map({}), at(30)),
        Node(FARGATE_NODE_2, "fargate", True, "eu-central-1b", "", frozen_map({}), at(45)),
        Node(EC2_NODE_1, "ec2", True, "eu-central-1a", "m5.large", frozen_map({}), at(-86400)),
        Node(EC2_NODE_2, "ec2", False, "eu-central-1b", "m5.large", frozen_map({}), at(-86400)),
    )
    events = (
        Event("default", "Pod", "api-7d9f8-abcde", "Scheduled", "Normal",
              f"Successfully assigned default/api-7d9f8-abcde to {FARGATE_NODE_1}", "fargate-scheduler", 1, at(40)),
        Event("default", "Pod", "api-7d9f8-abcde", "Pulled", "Normal",
              'Successfully pulled image "nginx:1.27" in 9.2s (9.2s including waiting). Image size: 72 bytes.',
              "kubelet", 1, at(50)),
        Event("prod", "Pod", "web-5c6b7-pqrst", "FailedScheduling", "Warning",
              "0/2 nodes are available: 1 node(s) had untolerated taint {eks.amazonaws.com/compute-type: fargate}, "
              "1 node(s) were [unschedulable].", "default-scheduler", 3, at(1750)),
        Event("kube-system", "Pod", "coredns-6b9f-bbbbb", "BackOff", "Warning",
              "Back-off restarting failed container coredns", "kubelet", 12, at(1790)),
        Event("default", "Pod", "api-7d9f8-abcde", "Started", "Normal", "Started container app", "kubelet",
              1, at(52)),  # not shown: routine
    )
    tg_arn = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/k8s-default-api-0a1b2c3d4e/1234"
    target_groups = (
        TargetGroup("k8s-default-api-0a1b2c3d4e", tg_arn, "k8s-default-api-9f8e7d6c5b", "ip", (
            Target("10.0.1.17", 80, "healthy", "", "", pod="default/api-7d9f8-abcde", since=at(90)),
            Target("10.0.2.33", 80, "initial", "Elb.InitialHealthChecking", "Initial health checks in progress",
                   pod="default/api-7d9f8-fghij", since=at(1780)),
            Target("10.0.3.99", 80, "unhealthy", "Target.ResponseCodeMismatch",
                   "Health checks failed with these codes: [502]", pod=None, since=at(1500)),
        )),
    )
    return Snapshot(
        taken_at=NOW,
        cluster=ClusterInfo("iagent-cluster", REGION, "ACTIVE", "1.31",
                            "https://ABCDEF.gr7.eu-central-1.eks.amazonaws.com",
                            "https://oidc.eks.eu-central-1.amazonaws.com/id/ABCDEF",
                            "arn:aws:eks:eu-central-1:123456789012:cluster/iagent-cluster"),
        connection=ConnectionState("eks:iagent-cluster", "https://ABCDEF.gr7.eu-central-1.eks.amazonaws.com",
                                   "eks", token_expires_at=NOW + timedelta(minutes=2), read_only=False),
        profiles=(
            FargateProfile("fp-default", "ACTIVE", (Selector("default"),), ("subnet-0a1", "subnet-0b2"),
                           "arn:aws:iam::123456789012:role/AmazonEKSFargatePodExecutionRole", at(-600),
                           status_since=at(-400)),
            FargateProfile("fp-prod", "CREATING", (Selector("prod", frozen_map({"app": "web"})),),
                           ("subnet-0a1",), "arn:aws:iam::123456789012:role/AmazonEKSFargatePodExecutionRole",
                           at(1720), status_since=at(1720)),
        ),
        nodegroups=(NodeGroup("ng-default", "ACTIVE", 2, 1, 3, ("m5.large",)),),
        nodes=nodes,
        pods=pods,
        workloads=WORKLOADS,
        events=events,
        addons=(Addon("coredns", "DEGRADED", "v1.11.3-eksbuild.2", frozen_map({}), "",
                      (HealthIssue("InsufficientNumberOfReplicas",
                                   "The add-on is unhealthy because it doesn't have the desired number of replicas."),)),),
        load_balancers=(LoadBalancer("k8s-default-api-9f8e7d6c5b", "arn:lb", "k8s-default-api.elb.amazonaws.com",
                                     "active", "internet-facing"),),
        target_groups=target_groups,
        sources=frozen_map({
            "pods": SourceState("pods", True, NOW),
            "events": SourceState("events", True, NOW),
            "target_groups": SourceState("target_groups", False, at(1200),
                                         "AccessDenied: elasticloadbalancing:DescribeTargetHealth [not permitted]",
                                         stale_since=at(1260)),
        }),
        version=7,
    )


def evolve(snap: Snapshot, **changes) -> Snapshot:
    return replace(snap, version=snap.version + 1, **changes)
