"""v1 ReplicationControllers in a running sandbox: kubectl creates one, the replication manager
keeps its pods (scheduled and started by the same controllers as any pod), `kubectl get rc` prints
kubectl's columns, the scale subresource resizes it, deletion takes its pods along."""

from __future__ import annotations

import subprocess

from kubernetes import client

from ..conftest import wait_for

from tests.conftest import requires_kubectl

pytestmark = requires_kubectl

RC = """apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
"""


def kubectl(env, *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(["kubectl", *args], env=env, input=stdin, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()]


def test_replication_controller_lifecycle(sandbox_env, k8s):
    assert kubectl(sandbox_env, "apply", "-f", "-", stdin=RC) == "replicationcontroller/legacy created\n"
    core = client.CoreV1Api(k8s)
    rc = core.read_namespaced_replication_controller("legacy", "default")
    assert rc.spec.selector == {"app": "legacy"} and rc.metadata.labels == {"app": "legacy"}  # defaulted

    def ready(n: int):
        row = rows(kubectl(sandbox_env, "get", "rc", "legacy"))[1]
        return row[1:4] == [str(n)] * 3
    wait_for(lambda: ready(2), timeout=60, message="2 ready replicas")
    head, row = rows(kubectl(sandbox_env, "get", "rc", "-o", "wide"))[:2]
    assert head == ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert row[0] == "legacy" and row[5:] == ["web", "nginx:1.27", "app=legacy"]
    pods = core.list_namespaced_pod("default", label_selector="app=legacy").items
    assert len(pods) == 2
    for pod in pods:
        [owner] = pod.metadata.owner_references
        assert (owner.kind, owner.name, owner.controller) == ("ReplicationController", "legacy", True)
        assert pod.metadata.name.startswith("legacy-")

    assert kubectl(sandbox_env, "scale", "rc", "legacy", "--replicas=3") == \
        "replicationcontroller/legacy scaled\n"
    scale = core.read_namespaced_replication_controller_scale("legacy", "default")
    assert scale.spec.replicas == 3 and scale.status.selector == "app=legacy"
    wait_for(lambda: ready(3), timeout=60, message="3 ready replicas")
    events = kubectl(sandbox_env, "get", "events", "--field-selector",
                     "involvedObject.kind=ReplicationController")
    assert "SuccessfulCreate" in events and "replicationcontroller/legacy" in events

    kubectl(sandbox_env, "delete", "rc", "legacy")
    wait_for(lambda: not core.list_namespaced_pod("default", label_selector="app=legacy").items,
             timeout=60, message="the controller's pods garbage-collected")
