"""pods/log and metrics.k8s.io, fed through the LogSource and MetricsSource protocols.

The sources here are small deterministic tables standing in for the simulated kubelet (the
component behind those protocols); the thing under test is the HTTP side.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.rest import ApiException

from iagent_sandbox.clock import rfc3339
from iagent_sandbox.kube.resources import rt
from tests.sandbox.kube_api_harness import async_client, running_server

START = datetime(2030, 5, 1, 8, 0, 0, tzinfo=timezone.utc)


class TableLogs:
    def __init__(self) -> None:
        self.lines: dict[tuple[str, str], list[tuple[datetime, str]]] = {}

    def pod_log(self, pod: dict, container: str) -> list[tuple[datetime, str]]:
        return list(self.lines.get((pod["metadata"]["name"], container), []))


class TableMetrics:
    def pod_usage(self, pod: dict):
        if (pod.get("status") or {}).get("phase") != "Running":
            return None
        return {c["name"]: {"cpu": "12m", "memory": "34Mi"} for c in pod["spec"]["containers"]}

    def node_usage(self, node: dict):
        return {"cpu": "250m", "memory": "1200Mi"}


def _make_pod(store, name: str, containers=("web",), running=True, restarts=0,
              started: datetime | None = None, last_run: tuple[datetime, datetime] | None = None,
              waiting: str = "ContainerCreating") -> None:
    pods = rt("pods")
    store.create(pods, {"metadata": {"name": name, "labels": {"app": name}},
                        "spec": {"nodeName": "node-1",
                                 "containers": [{"name": c, "image": "nginx"} for c in containers]}},
                 "default")

    def set_status(pod: dict) -> None:
        state = ({"running": {"startedAt": rfc3339(started or START)}} if running
                 else {"waiting": {"reason": waiting}})
        last = ({"lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                              "startedAt": rfc3339(last_run[0]),
                                              "finishedAt": rfc3339(last_run[1])}}}
                if last_run else {})
        pod["status"].update(phase="Running" if running or last_run else "Pending", containerStatuses=[
            {"name": c, "ready": running, "restartCount": restarts, "state": state, **last}
            for c in containers])

    store.mutate(pods, "default", name, set_status, status=True)


@pytest.fixture
async def api(tmp_path):
    logs = TableLogs()
    async with running_server(tmp_path, start=START, logs=logs, metrics=TableMetrics()) as server:
        server.logs = logs
        yield server


async def test_log_options(api):
    _make_pod(api.store, "web")
    # Written 5.5 .. 1.5 simulated seconds before the sandbox clock's start.
    api.logs.lines[("web", "web")] = [(START - timedelta(seconds=5.5 - i), f"line {i}") for i in range(5)]
    async with await async_client(api.server, api.ca_file) as c:
        v1 = client.CoreV1Api(c)
        assert await v1.read_namespaced_pod_log("web", "default") == "".join(f"line {i}\n" for i in range(5))
        assert await v1.read_namespaced_pod_log("web", "default", tail_lines=2) == "line 3\nline 4\n"
        stamped = await v1.read_namespaced_pod_log("web", "default", tail_lines=1, timestamps=True)
        assert stamped == "2030-05-01T07:59:58.500000000Z line 4\n"
        # sinceSeconds counts back from the sandbox clock's now (START plus a little).
        assert await v1.read_namespaced_pod_log("web", "default", since_seconds=3) == "line 3\nline 4\n"
        assert await v1.read_namespaced_pod_log("web", "default", limit_bytes=8) == "line 0\nl"


async def test_log_errors_name_the_container_and_pod(api):
    _make_pod(api.store, "two", containers=("web", "sidecar"))
    _make_pod(api.store, "starting", running=False)
    async with await async_client(api.server, api.ca_file) as c:
        v1 = client.CoreV1Api(c)
        cases = [
            (dict(name="two", container="nope"), "container nope is not valid for pod two"),
            (dict(name="two"), "a container name must be specified for pod two, choose one of: [web sidecar]"),
            (dict(name="starting"), 'container "web" in pod "starting" is waiting to start: ContainerCreating'),
            (dict(name="two", container="web", previous=True),
             'previous terminated container "web" in pod "two" not found'),
        ]
        for kwargs, message in cases:
            name = kwargs.pop("name")
            with pytest.raises(ApiException) as err:
                await v1.read_namespaced_pod_log(name, "default", **kwargs)
            assert err.value.status == 400
            assert json.loads(err.value.body)["message"] == message
        with pytest.raises(ApiException) as err:
            await v1.read_namespaced_pod_log("ghost", "default")
        assert err.value.status == 404


async def test_previous_shows_the_terminated_instance(api):
    restarted = START + timedelta(seconds=10)
    first_run = (START - timedelta(seconds=20), START + timedelta(seconds=9))
    _make_pod(api.store, "crashy", restarts=2, started=restarted, last_run=first_run)
    _make_pod(api.store, "backoff", running=False, restarts=2, last_run=first_run,
              waiting="CrashLoopBackOff")
    runs = [(START - timedelta(seconds=30), "oldest run"), (START, "first run"),
            (START + timedelta(seconds=9), "panic"), (restarted, "second run")]
    api.logs.lines[("crashy", "web")] = runs
    api.logs.lines[("backoff", "web")] = runs[:3]
    async with await async_client(api.server, api.ca_file) as c:
        v1 = client.CoreV1Api(c)
        assert await v1.read_namespaced_pod_log("crashy", "default") == "second run\n"
        assert await v1.read_namespaced_pod_log("crashy", "default", previous=True) == "first run\npanic\n"
        # Waiting to restart after a crash: the instance that crashed is what there is to show.
        assert await v1.read_namespaced_pod_log("backoff", "default") == "first run\npanic\n"


async def test_follow_streams_new_lines(tmp_path):
    logs = TableLogs()
    # speed 100: the follower looks at the source every 10 ms of wall time.
    async with running_server(tmp_path, speed=100, start=START, logs=logs) as api:
        _make_pod(api.store, "web")
        logs.lines[("web", "web")] = [(START, "hello")]
        async with aiohttp.ClientSession() as s:
            url = f"{api.url}/api/v1/namespaces/default/pods/web/log?follow=true"
            async with s.get(url, headers=api.headers(), ssl=api.ssl) as r:
                assert await asyncio.wait_for(r.content.readline(), 10) == b"hello\n"
                logs.lines[("web", "web")].append((START + timedelta(seconds=1), "world"))
                assert await asyncio.wait_for(r.content.readline(), 10) == b"world\n"
                api.server.drop_watches()  # an API server restart ends the stream
                assert await asyncio.wait_for(r.content.read(), 10) == b""


async def test_metrics_api(api):
    _make_pod(api.store, "web")
    _make_pod(api.store, "starting", running=False)
    api.store.create(rt("nodes"), {"metadata": {"name": "node-1", "labels": {"role": "worker"}}})
    async with await async_client(api.server, api.ca_file) as c:
        custom = client.CustomObjectsApi(c)
        nodes = await custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
        assert nodes["kind"] == "NodeMetricsList"
        assert [(n["metadata"]["name"], n["usage"]) for n in nodes["items"]] == [
            ("node-1", {"cpu": "250m", "memory": "1200Mi"})]
        pods = await custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "default", "pods")
        assert [p["metadata"]["name"] for p in pods["items"]] == ["web"]  # no metrics while pending
        one = await custom.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", "default", "pods", "web")
        assert one["kind"] == "PodMetrics" and one["containers"] == [
            {"name": "web", "usage": {"cpu": "12m", "memory": "34Mi"}}]
        assert START <= datetime.fromisoformat(one["timestamp"].replace("Z", "+00:00")) <= api.clock.now()
        selected = await custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "default",
                                                              "pods", label_selector="app=other")
        assert selected["items"] == []
        with pytest.raises(ApiException) as err:
            await custom.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", "default", "pods", "starting")
        assert err.value.status == 404
        assert json.loads(err.value.body)["message"] == 'podmetrics.metrics.k8s.io "default/starting" not found'


async def test_no_metrics_source_means_no_metrics_api(tmp_path):
    async with running_server(tmp_path) as api:
        async with aiohttp.ClientSession() as s:
            async with s.get(api.url + "/apis", headers=api.headers(), ssl=api.ssl) as r:
                groups = [g["name"] for g in (await r.json())["groups"]]
            async with s.get(api.url + "/apis/metrics.k8s.io/v1beta1/nodes", headers=api.headers(),
                             ssl=api.ssl) as r:
                assert r.status == 404
        assert "metrics.k8s.io" not in groups and "apps" in groups
