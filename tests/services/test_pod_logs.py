"""KubeClient.pod_logs against the whole sandbox (EKS token, HTTPS, the simulated kubelet's logs),
checked against what the official kubernetes client reads from the same pods."""

from __future__ import annotations

import pytest
from kubernetes import client

from iagent_tui.config import Settings
from iagent_tui.services.connection import AwsTarget, from_kubeconfig
from iagent_tui.services.errors import ServiceError
from iagent_tui.services.kube import KubeClient
from iagent_tui.wiring import PodLogs
from tests.conftest import wait_for


@pytest.fixture
async def connection(sandbox, sandbox_files):
    info = sandbox.info
    kubeconfig, _ = sandbox_files
    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig))
    return await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))


def running_pod(k8s, namespace: str = "default") -> client.V1Pod:
    def find():
        pods = client.CoreV1Api(k8s).list_namespaced_pod(namespace).items
        return next((p for p in pods if p.status.container_statuses
                     and all(cs.state.running for cs in p.status.container_statuses)), None)
    return wait_for(find, message=f"a running pod in {namespace}")


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


async def test_pod_logs_tail_and_container_agree_with_the_official_client(connection, k8s):
    pod = running_pod(k8s)
    name, namespace, container = pod.metadata.name, pod.metadata.namespace, pod.spec.containers[0].name
    core = client.CoreV1Api(k8s)
    async with KubeClient(connection) as kube:
        # The log grows while the sandbox runs: what we read must be in what is read afterwards.
        wait_for(lambda: core.read_namespaced_pod_log(name, namespace), message=f"log lines of {name}")
        tail = lines(await kube.pod_logs(namespace, name, tail_lines=3))
        whole = lines(await kube.pod_logs(namespace, name, container, tail_lines=None))
    later = lines(core.read_namespaced_pod_log(name, namespace, container=container))
    assert 0 < len(tail) <= 3 and set(tail) <= set(later)
    assert whole and set(whole) <= set(later)


async def test_pod_logs_errors_name_the_pod_and_the_reason(connection, k8s):
    pod = running_pod(k8s)
    name, namespace = pod.metadata.name, pod.metadata.namespace
    async with KubeClient(connection) as kube:
        with pytest.raises(ServiceError) as missing:
            await kube.pod_logs(namespace, "no-such-pod")
        with pytest.raises(ServiceError) as first_run:
            await kube.pod_logs(namespace, name, previous=True)  # it never restarted
    assert missing.value.kind == "not_found" and f"{namespace}/no-such-pod" in missing.value.message
    assert first_run.value.status == 400 and "previous terminated container" in first_run.value.message


async def test_detail_views_read_logs_through_the_service(connection, k8s):
    pod = running_pod(k8s)
    fetch = PodLogs(connection, tail_lines=2)
    try:
        text = await fetch(pod.metadata.namespace, pod.metadata.name)
    finally:
        await fetch.close()
    assert 0 < len(lines(text)) <= 2
