"""kubectl itself against the sandbox API server: get, apply, patch, rollout restart, logs, top,
delete, and what it prints for errors."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from iagent_sandbox.clock import rfc3339
from iagent_sandbox.kube.resources import rt
from tests.sandbox.kube_api_harness import ApiServerThread, kubeconfig_text

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "manifests" / "sample-app.yaml"

from tests.conftest import requires_kubectl

pytestmark = requires_kubectl


class Logs:
    def pod_log(self, pod, container):
        start = datetime(2030, 1, 1, tzinfo=timezone.utc)
        return [(start + timedelta(seconds=i), f"{container} says {i}") for i in range(3)]


class Metrics:
    def pod_usage(self, pod):
        return {c["name"]: {"cpu": "12m", "memory": "34Mi"} for c in pod["spec"]["containers"]}

    def node_usage(self, node):
        return {"cpu": "250m", "memory": "1200Mi"}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = ApiServerThread(tmp_path_factory.mktemp("kube-api"), logs=Logs(), metrics=Metrics())
    yield server
    server.stop()


def kubectl(api, *args: str, check: bool = True, stdin: str | None = None,
            kubeconfig: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env["KUBECONFIG"] = str(kubeconfig or api.kubeconfig)
    env["HOME"] = str(api.tmp)  # its discovery cache stays in the test's directory
    proc = subprocess.run(["kubectl", *args], env=env, input=stdin, capture_output=True, text=True,
                          timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr}")
    return proc


def header(output: str) -> list[str]:
    """Column titles of kubectl's first line (titles may contain one space: 'NOMINATED NODE')."""
    return [h.strip() for h in output.splitlines()[0].split("  ") if h.strip()]


def test_get_namespaces_and_api_resources(api):
    out = kubectl(api, "get", "namespaces").stdout
    assert header(out) == ["NAME", "STATUS", "AGE"]
    assert {line.split()[0] for line in out.splitlines()[1:]} == {
        "default", "kube-node-lease", "kube-public", "kube-system"}
    resources = kubectl(api, "api-resources", "-o", "name").stdout.split()
    assert {"pods", "deployments.apps", "ingresses.networking.k8s.io",
            "targetgroupbindings.elbv2.k8s.aws"} <= set(resources)


def test_apply_configure_patch_restart_delete_sample_app(api, tmp_path):
    out = kubectl(api, "apply", "-f", str(SAMPLE)).stdout
    assert "deployment.apps/iagent-sample created" in out
    assert "service/iagent-sample created" in out
    assert "ingress.networking.k8s.io/iagent-sample created" in out

    docs = list(yaml.safe_load_all(SAMPLE.read_text()))
    dep = next(d for d in docs if d and d["kind"] == "Deployment")
    dep["spec"]["replicas"] = 3
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump_all(docs))
    out = kubectl(api, "apply", "-f", str(changed)).stdout
    assert "deployment.apps/iagent-sample configured" in out
    assert "service/iagent-sample unchanged" in out
    stored = api.on_loop(lambda: api.store.get(rt("deployments"), "default", "iagent-sample"))
    assert stored["spec"]["replicas"] == 3

    wide = kubectl(api, "get", "deploy", "iagent-sample", "-o", "wide").stdout
    assert header(wide) == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide.splitlines()[1].split()[:2] == ["iagent-sample", "0/3"]

    # kubectl patch defaults to a strategic merge: the container list merges by name.
    kubectl(api, "patch", "deployment", "iagent-sample", "-p",
            '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"MODE","value":"x"}]}]}}}}')
    stored = api.on_loop(lambda: api.store.get(rt("deployments"), "default", "iagent-sample"))
    web = stored["spec"]["template"]["spec"]["containers"][0]
    assert web["env"] == [{"name": "MODE", "value": "x"}] and web["image"].startswith("public.ecr.aws/")
    kubectl(api, "patch", "deployment", "iagent-sample", "--type=json",
            "-p", '[{"op":"replace","path":"/spec/replicas","value":1}]')
    kubectl(api, "scale", "deployment", "iagent-sample", "--replicas=2")
    assert "restarted" in kubectl(api, "rollout", "restart", "deployment/iagent-sample").stdout
    stored = api.on_loop(lambda: api.store.get(rt("deployments"), "default", "iagent-sample"))
    assert stored["spec"]["replicas"] == 2
    assert "kubectl.kubernetes.io/restartedAt" in stored["spec"]["template"]["metadata"]["annotations"]

    out = kubectl(api, "delete", "-f", str(SAMPLE)).stdout
    assert 'deployment.apps "iagent-sample" deleted' in out
    assert api.on_loop(lambda: api.store.get(rt("ingresses"), "default", "iagent-sample")) is None


def test_apply_with_a_typo_is_refused_by_server_side_validation(api):
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\ndta:\n  a: b\n"
    proc = kubectl(api, "apply", "-f", "-", stdin=manifest, check=False)
    assert proc.returncode != 0
    assert 'strict decoding error: unknown field "dta"' in proc.stderr
    assert api.on_loop(lambda: api.store.get(rt("configmaps"), "default", "typo")) is None


def _seed_pods(api) -> None:
    def seed():
        store = api.store
        store.create(rt("nodes"), {"metadata": {"name": "ip-10-0-1-5.eu-central-1.compute.internal"},
                                   "status": {"conditions": [{"type": "Ready", "status": "True"}],
                                              "nodeInfo": {"kubeletVersion": "v1.31.2-eks-7f9249a"}}})
        store.create(rt("pods"), {"metadata": {"name": "logger", "labels": {"app": "logger"}},
                                  "spec": {"nodeName": "ip-10-0-1-5.eu-central-1.compute.internal",
                                           "containers": [{"name": "app", "image": "busybox"}]}},
                     "default")

        def running(pod):
            pod["status"].update(phase="Running", podIP="10.0.1.44", containerStatuses=[{
                "name": "app", "ready": True, "restartCount": 0,
                "state": {"running": {"startedAt": rfc3339(store.clock.now())}}}])
        store.mutate(rt("pods"), "default", "logger", running, status=True)
        store.record_event(store.get(rt("pods"), "default", "logger"), "Started",
                           "Started container app", component="kubelet")
    api.on_loop(seed)


def test_get_pods_wide_events_logs_and_top(api):
    _seed_pods(api)
    out = kubectl(api, "get", "pods", "-A", "-o", "wide").stdout
    assert header(out) == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                           "NOMINATED NODE", "READINESS GATES"]
    row = out.splitlines()[1].split()
    assert row[:5] == ["default", "logger", "1/1", "Running", "0"]
    assert row[6:8] == ["10.0.1.44", "ip-10-0-1-5.eu-central-1.compute.internal"]

    events = kubectl(api, "get", "events", "-A").stdout
    assert header(events) == ["NAMESPACE", "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "pod/logger" in events and "Started container app" in events

    nodes = kubectl(api, "get", "nodes").stdout
    assert header(nodes) == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert nodes.splitlines()[1].split()[1:3] == ["Ready", "<none>"]

    assert kubectl(api, "logs", "logger", "--tail=2").stdout == "app says 1\napp says 2\n"
    stamped = kubectl(api, "logs", "logger", "-c", "app", "--timestamps", "--tail=1").stdout
    assert stamped == "2030-01-01T00:00:02.000000000Z app says 2\n"
    bad = kubectl(api, "logs", "logger", "-c", "nope", check=False)
    assert bad.returncode != 0 and "container nope is not valid for pod logger" in bad.stderr

    top = kubectl(api, "top", "pod", "logger").stdout
    assert header(top)[:3] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert top.splitlines()[1].split() == ["logger", "12m", "34Mi"]
    top_nodes = kubectl(api, "top", "nodes").stdout
    assert top_nodes.splitlines()[1].split()[:2] == ["ip-10-0-1-5.eu-central-1.compute.internal", "250m"]


def test_wrong_token_and_unknown_resource_messages(api, tmp_path):
    bad = tmp_path / "bad-kubeconfig"
    bad.write_text(kubeconfig_text(api.url, api.server.ca_pem, token="wrong"))
    proc = kubectl(api, "get", "pods", check=False, kubeconfig=bad)
    assert proc.returncode != 0
    assert "You must be logged in to the server (Unauthorized)" in proc.stderr
    proc = kubectl(api, "get", "widgets", check=False)
    assert proc.returncode != 0
    assert 'the server doesn\'t have a resource type "widgets"' in proc.stderr
    proc = kubectl(api, "get", "pod", "ghost", check=False)
    assert 'pods "ghost" not found' in proc.stderr


def test_reapplying_a_custom_resource_uses_a_merge_patch(api):
    tgb = ("apiVersion: elbv2.k8s.aws/v1beta1\nkind: TargetGroupBinding\nmetadata:\n  name: tgb\n"
           "spec:\n  targetGroupARN: arn:aws:elasticloadbalancing:eu-central-1:123456789012:"
           "targetgroup/k8s-default-web/0123456789abcdef\n  targetType: {}\n"
           "  serviceRef: {{name: web, port: 80}}\n")
    assert "created" in kubectl(api, "apply", "-f", "-", stdin=tgb.format("ip")).stdout
    # Strategic merge is refused for custom resources; kubectl learns that from /openapi/v3.
    assert "configured" in kubectl(api, "apply", "-f", "-", stdin=tgb.format("instance")).stdout
    out = kubectl(api, "get", "targetgroupbindings", "-o", "wide").stdout
    assert header(out) == ["NAME", "SERVICE-NAME", "SERVICE-PORT", "TARGET-TYPE", "ARN", "AGE"]
    assert out.splitlines()[1].split()[1:4] == ["web", "80", "instance"]
    kubectl(api, "delete", "targetgroupbinding", "tgb")
