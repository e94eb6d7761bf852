"""limit/continue over HTTP with real clients: the official `kubernetes` client and kubectl's
--chunk-size page through 1,000 pods while another task creates and deletes pods, and get every
pod present at the first page's resourceVersion exactly once."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess

import pytest

from iagent_sandbox.kube.resources import rt
from iagent_sandbox.kube.store import CONTINUE_EXPIRED

from .kube_api_harness import ApiServerThread
from tests.conftest import requires_kubectl

PODS = rt("pods")
COUNT = 1000


def _pod(name: str) -> dict:
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


@pytest.fixture()
def api(tmp_path):
    server = ApiServerThread(tmp_path, history=20000)

    def seed():
        for n in range(3):
            server.store.create(rt("namespaces"), {"metadata": {"name": f"ns-{n}"}})
        for i in range(COUNT):
            server.store.create(PODS, _pod(f"pod-{i:04d}"), namespace=f"ns-{i % 3}")
    server.on_loop(seed)
    yield server
    server.stop()


class Churn:
    """Creates a pod and deletes one of the seeded ones every few milliseconds, on the server's
    loop, logging (resourceVersion after the write, ADDED/DELETED, key)."""

    def __init__(self, api: ApiServerThread) -> None:
        self.api, self.log, self.running = api, [], True
        self.future = asyncio.run_coroutine_threadsafe(self._run(), api.loop)

    async def _run(self) -> None:
        store, i = self.api.store, 0
        while self.running:
            ns = f"ns-{i % 3}"
            store.create(PODS, _pod(f"pod-{(i * 7) % COUNT:04d}-late{i}"), namespace=ns)
            self.log.append((int(store.resource_version), "ADDED", (ns, f"pod-{(i * 7) % COUNT:04d}-late{i}")))
            victim = (f"ns-{(i * 11) % COUNT % 3}", f"pod-{(i * 11) % COUNT:04d}")
            if store.get(PODS, *victim) is not None:
                store.delete(PODS, *victim, grace_period_seconds=0)
                self.log.append((int(store.resource_version), "DELETED", victim))
            i += 1
            await asyncio.sleep(0.002)

    def stop(self) -> None:
        self.running = False
        self.future.result(timeout=10)

    def present_at(self, rv: int) -> set[tuple[str, str]]:
        keys = {(f"ns-{i % 3}", f"pod-{i:04d}") for i in range(COUNT)}
        for at, kind, key in self.log:
            if at <= rv:
                (keys.add if kind == "ADDED" else keys.discard)(key)
        return keys


def test_official_client_pages_consistently_under_churn(api):
    core = __import__("kubernetes").client.CoreV1Api(api.sync_client())
    churn = Churn(api)
    try:
        page = core.list_pod_for_all_namespaces(limit=100)
        rv, seen, pages = int(page.metadata.resource_version), [], 1
        seen += [(p.metadata.namespace, p.metadata.name) for p in page.items]
        counts = [(len(seen), page.metadata.remaining_item_count)]
        while page.metadata._continue:
            page = core.list_pod_for_all_namespaces(limit=100, _continue=page.metadata._continue)
            assert int(page.metadata.resource_version) == rv and len(page.items) <= 100
            seen += [(p.metadata.namespace, p.metadata.name) for p in page.items]
            counts.append((len(seen), page.metadata.remaining_item_count or 0))
            pages += 1
    finally:
        churn.stop()
    assert pages >= 10
    assert any(at > rv for at, _, _ in churn.log), "no write happened during the listing"
    assert len(seen) == len(set(seen))
    assert set(seen) == churn.present_at(rv)
    assert all(done + remaining == len(seen) for done, remaining in counts)  # remainingItemCount


@requires_kubectl
def test_kubectl_chunked_get_counts_every_pod(api):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(KUBECONFIG=str(api.kubeconfig), HOME=str(api.tmp))
    proc = subprocess.run(["kubectl", "get", "pods", "-A", "--chunk-size=100", "-o", "name", "-v=6"],
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    names = proc.stdout.split()
    assert proc.stderr.count("limit=100") == COUNT // 100  # it really paged
    assert len(names) == COUNT == len(set(names))
    assert api.on_loop(lambda: len(api.store.list(PODS)[0])) == COUNT


def test_an_expired_token_gets_410_with_a_token_to_go_on_with(tmp_path):
    api = ApiServerThread(tmp_path, history=30)
    try:
        api.on_loop(lambda: [api.store.create(PODS, _pod(f"p{i}"), namespace="default")
                             for i in range(10)])
        core = __import__("kubernetes").client.CoreV1Api(api.sync_client())
        first = core.list_namespaced_pod("default", limit=4)
        api.on_loop(lambda: [api.store.create(PODS, _pod(f"q{i}"), namespace="default")
                             for i in range(40)])
        from kubernetes.client.rest import ApiException
        with pytest.raises(ApiException) as err:
            core.list_namespaced_pod("default", limit=4, _continue=first.metadata._continue)
        status = json.loads(err.value.body)
        assert (err.value.status, status["reason"], status["message"]) == (410, "Expired", CONTINUE_EXPIRED)
        rest = core.list_namespaced_pod("default", _continue=status["metadata"]["continue"])
        assert [p.metadata.name for p in rest.items][:1] == ["p4"]  # goes on after the last one
        with pytest.raises(ApiException) as err:
            core.list_namespaced_pod("default", _continue=base64.b64encode(b"{}").decode())
        assert err.value.status == 400
    finally:
        api.stop()
