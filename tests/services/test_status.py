"""`iagent-tui status`: one snapshot as JSON/text, checked against boto3 and the official kubernetes
client; an unreachable cluster is a clear message and exit code 2."""

from __future__ import annotations

import asyncio
import json
import socket
import threading

import boto3
import pytest
import yaml
from click.testing import CliRunner

from iagent_tui.commands.status import status_command

from .conftest import CLUSTER, KUBE_TOKEN, REGION, seed_aws, seed_kube


@pytest.fixture
def threaded_kube():
    """The sandbox's API server on a loop of its own, since the command runs asyncio.run()."""
    from iagent_sandbox.clock import SandboxClock
    from iagent_sandbox.kube.server import KubeApiServer
    from iagent_sandbox.kube.store import ObjectStore

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    clock = SandboxClock(speed=100, seed=7)
    store = ObjectStore(clock)
    server = KubeApiServer(store, clock, KUBE_TOKEN)
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)

    def on_loop(fn):
        async def call():
            return fn()
        return asyncio.run_coroutine_threadsafe(call(), loop).result(10)

    server.on_loop = on_loop
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def write_kubeconfig(path, server_url: str, ca_pem: bytes) -> str:
    import base64

    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "t",
        "clusters": [{"name": "t", "cluster": {"server": server_url, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": "t", "user": {"token": KUBE_TOKEN}}],
        "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
    }))
    return str(path)


def run_status(args, env):
    return CliRunner().invoke(status_command, args, env=env, catch_exceptions=False)


def test_status_json_agrees_with_official_clients(moto, threaded_kube, tmp_path, monkeypatch):
    seeded = seed_aws(moto)
    threaded_kube.on_loop(lambda: seed_kube(threaded_kube.store))
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", threaded_kube.url, threaded_kube.ca_pem)
    monkeypatch.chdir(tmp_path)
    result = run_status(["--json", "--kubeconfig", kubeconfig, "--cluster", CLUSTER, "--region", REGION], {"AWS_ENDPOINT_URL": moto})
    doc = json.loads(result.stdout)
    assert result.exit_code == 1, result.output  # moto has no add-ons API: reported, not hidden
    assert doc["sources"]["addons"]["ok"] is False and doc["sources"]["pods"]["ok"] is True

    eks = boto3.client("eks", region_name=REGION, endpoint_url=moto)
    cluster = eks.describe_cluster(name=CLUSTER)["cluster"]
    assert doc["cluster"] == {"name": CLUSTER, "region": REGION, "status": cluster["status"], "version": cluster["version"], "endpoint": cluster["endpoint"]}
    profiles = {n: eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName=n)["fargateProfile"]
                for n in eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"]}
    assert [p["name"] for p in doc["fargate_profiles"]] == sorted(profiles)
    for p in doc["fargate_profiles"]:
        assert p["status"] == profiles[p["name"]]["status"] and p["subnets"] == profiles[p["name"]]["subnets"] == seeded["subnets"][:1]
        assert p["selectors"] == [{"namespace": s["namespace"], "labels": s.get("labels", {})} for s in profiles[p["name"]]["selectors"]]

    from kubernetes import client, config

    api = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    nodes = api.list_node().items
    assert sorted(n["name"] for n in doc["nodes"]) == sorted(n.metadata.name for n in nodes)
    assert {n["name"]: n["compute_type"] for n in doc["nodes"]} == {
        n.metadata.name: "fargate" if (n.metadata.labels or {}).get("eks.amazonaws.com/compute-type") == "fargate" else "ec2" for n in nodes}
    pods = api.list_pod_for_all_namespaces().items
    assert sorted((p["namespace"], p["name"], p["node"]) for p in doc["pods"]) == sorted(
        (p.metadata.namespace, p.metadata.name, p.spec.node_name) for p in pods)
    web = next(p for p in doc["pods"] if p["name"] == "web-1")
    assert web["capacity_provisioned"] == "0.25vCPU 0.5GB" and web["compute_type"] == "fargate"
    # 0.25 vCPU * 0.04656 + 0.5 GB * 0.00511 (eu-central-1, DOMAIN.md 2.2)
    assert web["hourly_cost_usd"] == pytest.approx(0.25 * 0.04656 + 0.5 * 0.00511)
    assert doc["cost"]["fargate_hourly_usd"] == pytest.approx(web["hourly_cost_usd"])
    assert doc["cost"]["fargate_monthly_usd"] == pytest.approx(web["hourly_cost_usd"] * 730, abs=0.01)
    assert doc["coredns"]["pods"] == [{"name": "coredns-abc", "node": "ip-10-0-0-10.eu-central-1.compute.internal", "compute_type": "ec2", "ready": False}]
    assert all({"code", "severity", "object", "message"} <= set(f) for f in doc["findings"])


def test_status_text_summary(moto, threaded_kube, tmp_path, monkeypatch):
    seed_aws(moto)
    threaded_kube.on_loop(lambda: seed_kube(threaded_kube.store))
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", threaded_kube.url, threaded_kube.ca_pem)
    monkeypatch.chdir(tmp_path)
    result = run_status(["--kubeconfig", kubeconfig], {"AWS_ENDPOINT_URL": moto})
    text = result.stdout
    assert f"Cluster {CLUSTER} ({REGION}): ACTIVE" in text
    assert "fp-default" in text and "fp-prod" in text
    assert "Nodes: 2 (1 Fargate, 1 EC2)" in text
    assert "Fargate cost: $0.0142/hour" in text
    assert "addons:" in text  # the failing source is named, with its reason


def test_unreachable_cluster_exits_2_without_traceback(aws_env, tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "t",
        "clusters": [{"name": "t", "cluster": {"server": f"https://127.0.0.1:{dead}", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "t", "user": {"token": "x"}}],
        "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
    }))
    monkeypatch.chdir(tmp_path)
    result = run_status(["--kubeconfig", str(kubeconfig)], {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{dead}"})
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"127.0.0.1:{dead}" in result.stderr and "unreachable" in result.stderr


def test_bad_config_exits_2_with_the_reason(tmp_path, monkeypatch):
    (tmp_path / "iagent.yaml").write_text("region: mars-1\n")
    monkeypatch.chdir(tmp_path)
    result = run_status([], {})
    assert result.exit_code == 2 and "region" in result.stderr and "eu-central-1" in result.stderr


def test_unreachable_aws_with_reachable_kubernetes_exits_2(aws_env, threaded_kube, tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", threaded_kube.url, threaded_kube.ca_pem)
    monkeypatch.chdir(tmp_path)
    result = run_status(["--kubeconfig", kubeconfig], {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{dead}"})
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Could not describe the EKS cluster (iagent-cluster): endpoint unreachable" in result.stderr
