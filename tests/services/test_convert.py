"""convert.py: raw Kubernetes JSON -> model records (pure)."""

from __future__ import annotations

from iagent_tui.services.convert import event_from_raw, ingress_from_raw, node_from_raw, pod_from_raw, pod_status_reason, workload_from_raw


def pod(**status) -> dict:
    return {"metadata": {"namespace": "prod", "name": "api-7d9c-x1", "creationTimestamp": "2026-01-01T10:00:00Z",
                         "labels": {"pod-template-hash": "7d9c", "eks.amazonaws.com/fargate-profile": "fp-prod"},
                         "annotations": {"CapacityProvisioned": "0.5vCPU 1GB"},
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "api-7d9c", "controller": True}]},
            "spec": {"nodeName": "fargate-ip-10-0-1-5.eu-central-1.compute.internal", "containers": [{"name": "c"}]},
            "status": status}


def test_pod_fields_and_deployment_owner():
    p = pod_from_raw(pod(phase="Running", podIP="10.0.1.5", conditions=[{"type": "Ready", "status": "True"}],
                         containerStatuses=[{"ready": True, "restartCount": 2, "state": {"running": {}}}]))
    assert (p.key, p.compute_type, p.phase, p.ready, p.reason, p.restarts, p.ip) == (
        "prod/api-7d9c-x1", "fargate", "Running", True, "Running", 2, "10.0.1.5")
    assert (p.owner_kind, p.owner_name) == ("Deployment", "api")
    assert (p.capacity_provisioned, p.fargate_profile) == ("0.5vCPU 1GB", "fp-prod")
    assert p.created.isoformat() == "2026-01-01T10:00:00+00:00"
    assert p.raw["metadata"]["name"] == "api-7d9c-x1"


def test_compute_type_comes_from_the_node_when_known():
    raw = pod(phase="Running")
    raw["spec"]["nodeName"] = "ip-10-0-0-1.eu-central-1.compute.internal"
    assert pod_from_raw(raw).compute_type == "ec2"
    assert pod_from_raw(raw, {"ip-10-0-0-1.eu-central-1.compute.internal": "fargate"}).compute_type == "fargate"
    raw["spec"].pop("nodeName")
    assert pod_from_raw(raw).compute_type == ""


def test_kubectl_like_status_column():
    assert pod_status_reason(pod(phase="Pending")) == "Pending"
    waiting = pod(phase="Running", containerStatuses=[{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}])
    assert pod_status_reason(waiting) == "CrashLoopBackOff"
    init = pod(phase="Pending", initContainerStatuses=[{"state": {"waiting": {"reason": "PodInitializing"}}}])
    init["spec"]["initContainers"] = [{"name": "i"}]
    assert pod_status_reason(init) == "Init:0/1"
    done = pod(phase="Succeeded", containerStatuses=[{"state": {"terminated": {"reason": "Completed", "exitCode": 0}}}])
    assert pod_status_reason(done) == "Completed"
    deleting = pod(phase="Running")
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T10:05:00Z"
    assert pod_status_reason(deleting) == "Terminating"


def test_node_workload_event_ingress():
    node = node_from_raw({"metadata": {"name": "fargate-ip-1", "labels": {"eks.amazonaws.com/compute-type": "fargate", "topology.kubernetes.io/zone": "eu-central-1b"}},
                          "status": {"conditions": [{"type": "Ready", "status": "False"}]}})
    assert (node.compute_type, node.ready, node.zone) == ("fargate", False, "eu-central-1b")
    ds = workload_from_raw({"kind": "DaemonSet", "metadata": {"namespace": "kube-system", "name": "aws-node"}, "status": {"desiredNumberScheduled": 3, "numberReady": 2}})
    assert (ds.replicas, ds.ready, ds.key) == (3, 2, "DaemonSet/kube-system/aws-node")
    ev = event_from_raw({"metadata": {"namespace": "prod"}, "involvedObject": {"kind": "Pod", "namespace": "prod", "name": "api"},
                         "reason": "FailedScheduling", "type": "Warning", "message": "no nodes available to schedule pods",
                         "source": {"component": "default-scheduler"}, "count": 3, "lastTimestamp": "2026-01-01T10:01:00Z"})
    assert (ev.kind, ev.name, ev.component, ev.count, ev.last_seen.minute) == ("Pod", "api", "default-scheduler", 3, 1)
    ing = ingress_from_raw({"metadata": {"namespace": "prod", "name": "web", "annotations": {"kubernetes.io/ingress.class": "alb"}},
                            "status": {"loadBalancer": {"ingress": [{"hostname": "k8s-prod-web-1.eu-central-1.elb.amazonaws.com"}]}}})
    assert (ing.class_name, ing.target_type, ing.hostname) == ("alb", "instance", "k8s-prod-web-1.eu-central-1.elb.amazonaws.com")
