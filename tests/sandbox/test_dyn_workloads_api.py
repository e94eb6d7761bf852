"""The workload dynamics seen the way a user sees them: the official kubernetes client (and
kubectl) against a running sandbox in the "migrated" scenario."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone

import pytest
from kubernetes import client

from tests.conftest import wait_for

pytestmark = pytest.mark.scenario("migrated")


def _deployment(name: str) -> dict:
    labels = {"app.kubernetes.io/name": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                         "name": "web", "image": "public.ecr.aws/nginx/nginx:1.27-alpine",
                         "ports": [{"containerPort": 80}],
                         "resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                                       "limits": {"cpu": "500m", "memory": "1Gi"}},
                         "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5}}]}}}}


def _ready_pods(core, name):
    pods = core.list_namespaced_pod("default", label_selector=f"app.kubernetes.io/name={name}").items
    return [p for p in pods if not p.metadata.deletion_timestamp and any(
        c.type == "Ready" and c.status == "True" for c in p.status.conditions or ())]


def test_deployment_on_fargate_through_the_official_client(k8s, sandbox_env):
    apps, core = client.AppsV1Api(k8s), client.CoreV1Api(k8s)
    apps.create_namespaced_deployment("default", _deployment("api-demo"))
    pods = wait_for(lambda: len(p := _ready_pods(core, "api-demo")) == 2 and p, message="2 ready pods")
    for pod in pods:
        # 0.5 vCPU / 1 GiB + 256 MiB -> 0.5vCPU 2GB (DOMAIN 1.1/1.2).
        assert pod.metadata.annotations["CapacityProvisioned"] == "0.5vCPU 2GB"
        assert pod.metadata.labels["eks.amazonaws.com/fargate-profile"] == "fp-default"
        node = core.read_node(pod.spec.node_name)
        assert node.metadata.labels["eks.amazonaws.com/compute-type"] == "fargate"
        assert [(t.key, t.value, t.effect) for t in node.spec.taints] == [
            ("eks.amazonaws.com/compute-type", "fargate", "NoSchedule")]
        assert pod.status.host_ip == pod.status.pod_ip
        events = core.list_namespaced_event("default", field_selector=f"involvedObject.name={pod.metadata.name}").items
        assert {"Scheduled", "LoggingDisabled", "Pulling", "Pulled", "Created", "Started"} <= {e.reason for e in events}
        log = core.read_namespaced_pod_log(pod.metadata.name, "default")
        assert "Configuration complete; ready for start up" in log

    old = {p.metadata.name for p in pods}
    restarted = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    apps.patch_namespaced_deployment("api-demo", "default", {"spec": {"template": {"metadata": {
        "annotations": {"kubectl.kubernetes.io/restartedAt": restarted}}}}})
    out = subprocess.run(["kubectl", "rollout", "status", "deployment/api-demo", "-n", "default", "--timeout=60s"],
                         env=sandbox_env, capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    assert 'deployment "api-demo" successfully rolled out' in out.stdout
    new = wait_for(lambda: len(p := _ready_pods(core, "api-demo")) == 2 and p, message="restarted pods")
    assert not old & {p.metadata.name for p in new}
    # Every old pod's Fargate node went away with it.
    wait_for(lambda: not {p.spec.node_name for p in pods} & {n.metadata.name for n in core.list_node().items},
             message="old Fargate nodes removed")
    apps.delete_namespaced_deployment("api-demo", "default")
