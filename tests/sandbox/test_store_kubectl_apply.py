"""The strategic merge patches that kubectl itself computes, applied by the store.

The patch tests next door hand-write kubectl-shaped patches; here kubectl (v1.32) generates them
from last-applied-configuration, so a difference in how it encodes $setElementOrder, $retainKeys or
deletions would show. The expected live objects are what a real API server keeps: the manifest's
fields, server defaults, and what other writers added that the manifest never owned.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from iagent_sandbox.kube.resources import rt
from tests.sandbox.kube_api_harness import ApiServerThread

from tests.conftest import requires_kubectl

pytestmark = requires_kubectl

DEPLOY = rt("deploy")


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = ApiServerThread(tmp_path_factory.mktemp("store-apply"))
    yield server
    server.stop()


def kubectl(api, *args: str, stdin: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env["KUBECONFIG"] = str(api.kubeconfig)
    env["HOME"] = str(api.tmp)
    proc = subprocess.run(["kubectl", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def manifest(containers: list[dict], strategy: dict, labels: dict) -> str:
    return yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "shop", "namespace": "default", "labels": labels},
        "spec": {"replicas": 2, "strategy": strategy,
                 "selector": {"matchLabels": {"app": "shop"}},
                 "template": {"metadata": {"labels": {"app": "shop"}},
                              "spec": {"containers": containers}}},
    })


def live(api) -> dict:
    return api.on_loop(lambda: api.store.get(DEPLOY, "default", "shop"))


def test_kubectl_apply_round_trips_through_strategic_merge(api):
    first = manifest(
        containers=[{"name": "web", "image": "nginx:1.27",
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                     "ports": [{"containerPort": 80}]},
                    {"name": "log", "image": "fluent-bit:3"}],
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
        labels={"app": "shop", "tier": "front"})
    kubectl(api, "apply", "-f", "-", stdin=first)
    # Another writer (not in the manifest) adds an annotation on the pod template.
    kubectl(api, "patch", "deployment", "shop", "-p",
            '{"spec":{"template":{"metadata":{"annotations":{"team":"payments"}}}}}')
    generation = live(api)["metadata"]["generation"]

    second = manifest(
        containers=[{"name": "proxy", "image": "envoy:1.30"},
                    {"name": "web", "image": "nginx:1.28", "env": [{"name": "B", "value": "2"}],
                     "ports": [{"containerPort": 80}]}],
        strategy={"type": "Recreate"},
        labels={"app": "shop"})
    kubectl(api, "apply", "-f", "-", stdin=second)

    obj = live(api)
    spec = obj["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["proxy", "web"]
    web = spec["containers"][1]
    assert web["image"] == "nginx:1.28" and web["env"] == [{"name": "B", "value": "2"}]
    assert web["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert obj["spec"]["strategy"] == {"type": "Recreate"}  # $retainKeys dropped rollingUpdate
    assert obj["metadata"]["labels"] == {"app": "shop"}
    assert obj["spec"]["template"]["metadata"]["annotations"] == {"team": "payments"}
    assert obj["metadata"]["generation"] == generation + 1

    # Unchanged manifest: kubectl sends an empty-ish patch and nothing is written.
    rv = obj["metadata"]["resourceVersion"]
    kubectl(api, "apply", "-f", "-", stdin=second)
    assert live(api)["metadata"]["resourceVersion"] == rv


def test_kubectl_scale_and_rollout_restart(api):
    kubectl(api, "scale", "deployment", "shop", "--replicas=4")
    assert live(api)["spec"]["replicas"] == 4
    kubectl(api, "rollout", "restart", "deployment", "shop")
    annotations = live(api)["spec"]["template"]["metadata"]["annotations"]
    assert set(annotations) == {"team", "kubectl.kubernetes.io/restartedAt"}
