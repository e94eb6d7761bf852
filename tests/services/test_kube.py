"""KubeClient and Reflector against the sandbox's real Kubernetes API server (HTTPS, bearer auth,
resourceVersion watches), run on the test's own loop so faults can be switched exactly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from iagent_sandbox.clock import SandboxClock
from iagent_sandbox.kube.eks_token import EksTokenVerifier
from iagent_sandbox.kube.resources import rt
from iagent_sandbox.kube.server import KubeApiServer
from iagent_sandbox.kube.store import ObjectStore
from iagent_tui.services.auth import EksToken, StaticToken
from iagent_tui.services.connection import AwsTarget, Connection, KubeTarget
from iagent_tui.services.errors import ServiceError
from iagent_tui.services.kube import CONFIGMAPS, PODS, KubeClient, Reflector

TOKEN = "static-test-token"


async def eventually(predicate: Callable[[], object], timeout: float = 10.0, message: str = "condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        await asyncio.sleep(0.01)


def pod(name: str) -> dict:
    return {"metadata": {"name": name, "labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


@pytest.fixture
async def server():
    clock = SandboxClock(speed=100, seed=3)
    store = ObjectStore(clock, history=20)  # short history: 410 is easy to reach
    api = KubeApiServer(store, clock, TOKEN)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


def connect(api: KubeApiServer, token=None) -> Connection:
    kube = KubeTarget(server=api.url, token=token or StaticToken(TOKEN), ca_data=api.ca_pem, context="test")
    return Connection("iagent-cluster", AwsTarget("eu-central-1"), kube)


async def run(reflector: Reflector) -> asyncio.Task:
    task = asyncio.create_task(reflector.run())
    await reflector.wait_synced(10)
    return task


async def stop(task: asyncio.Task) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_list_get_and_paging(server):
    for i in range(7):
        server.store.create(rt("pods"), pod(f"web-{i}"), namespace="default")
    async with KubeClient(connect(server)) as kube:
        items, rv = await kube.list(PODS, "default", page_size=3)
        assert [p["metadata"]["name"] for p in items] == [f"web-{i}" for i in range(7)]
        assert items[0]["kind"] == "Pod" and rv == server.store.resource_version
        assert (await kube.list(PODS, "default", label_selector="app=other"))[0] == []
        assert (await kube.get(PODS, "default", "web-3"))["spec"]["schedulerName"] == "default-scheduler"
        assert await kube.get(PODS, "default", "missing") is None


async def test_reflector_follows_changes(server):
    server.store.create(rt("pods"), pod("a"), namespace="default")
    async with KubeClient(connect(server)) as kube:
        changes = []
        reflector = Reflector(kube, PODS, on_change=lambda: changes.append(1))
        task = await run(reflector)
        try:
            assert set(reflector.items) == {("default", "a")}
            server.store.create(rt("pods"), pod("b"), namespace="default")
            await eventually(lambda: ("default", "b") in reflector.items, message="pod b added")
            server.store.delete(rt("pods"), "default", "a")  # unbound pod: removed at once
            await eventually(lambda: ("default", "a") not in reflector.items, message="pod a deleted")
            assert reflector.lists == 1 and reflector.error is None and changes
        finally:
            await stop(task)


async def test_watch_resumes_after_dropped_streams_without_relisting(server):
    async with KubeClient(connect(server)) as kube:
        reflector = Reflector(kube, PODS)
        task = await run(reflector)
        try:
            await eventually(lambda: server.store.open_watches >= 1, message="watch open")
            server.drop_watches()  # what an API server restart does to open streams
            server.store.create(rt("pods"), pod("after-drop"), namespace="default")
            await eventually(lambda: ("default", "after-drop") in reflector.items, message="change after reconnect")
            assert reflector.watches >= 2
            assert reflector.lists == 1  # resumed from the last resourceVersion: no re-list
        finally:
            await stop(task)


async def test_too_old_resource_version_relists(server):
    async with KubeClient(connect(server)) as kube:
        reflector = Reflector(kube, PODS)
        await stop(await run(reflector))  # synced, then disconnected
        server.store.create(rt("pods"), pod("while-away"), namespace="default")
        for i in range(25):  # push the reflector's resourceVersion out of the 20-change history
            server.store.create(rt("configmaps"), {"metadata": {"name": f"cm-{i}"}}, namespace="default")
        task = asyncio.create_task(reflector.run())
        try:
            await eventually(lambda: reflector.lists == 2, message="re-list after 410 Gone")
            assert ("default", "while-away") in reflector.items
            assert reflector.error is None
        finally:
            await stop(task)


class FlakyToken(StaticToken):
    """Hands out a revoked token until the server's 401 makes the client ask again."""

    def __init__(self) -> None:
        super().__init__(TOKEN)
        self.invalidations = 0

    async def token(self) -> str:
        return TOKEN if self.invalidations else "revoked-token"

    def invalidate(self) -> None:
        self.invalidations += 1


async def test_401_fetches_a_new_token_and_retries(server):
    server.store.create(rt("pods"), pod("a"), namespace="default")
    source = FlakyToken()
    async with KubeClient(connect(server, source)) as kube:
        items, _ = await kube.list(PODS)
    assert [p["metadata"]["name"] for p in items] == ["a"]
    assert source.invalidations == 1 and kube.unauthorized_retries == 1


async def test_eks_token_authenticates_and_refreshes(server, aws_env):
    creds = {aws_env["AWS_ACCESS_KEY_ID"]: aws_env["AWS_SECRET_ACCESS_KEY"]}
    server._authenticators.append(EksTokenVerifier("iagent-cluster", creds).verify)
    server.expire_token()  # only EKS tokens open the door now
    source = EksToken(AwsTarget("eu-central-1").session(), "iagent-cluster", "eu-central-1")
    async with KubeClient(connect(server, source)) as kube:
        await kube.list(PODS)
        source.invalidate()  # as after expiry: the next request mints a new token
        await kube.list(PODS)
    assert source.minted == 2 and kube.unauthorized_retries == 0
    wrong = EksToken(AwsTarget("eu-central-1").session(), "other-cluster", "eu-central-1")
    async with KubeClient(connect(server, wrong)) as kube:
        with pytest.raises(ServiceError) as err:
            await kube.list(PODS)
    assert err.value.kind == "auth" and err.value.status == 401


async def test_rejected_credentials_mark_the_source_stale_and_keep_its_items(server):
    server.store.create(rt("configmaps"), {"metadata": {"name": "keep-me"}}, namespace="default")
    async with KubeClient(connect(server)) as kube:
        reflector = Reflector(kube, CONFIGMAPS, max_backoff=0.2)
        task = await run(reflector)
        try:
            server.expire_token()
            server.drop_watches()  # the reconnect now meets 401
            await eventually(lambda: reflector.error is not None, message="source marked failing")
            assert reflector.error.kind == "auth" and reflector.stale_since is not None
            assert ("default", "keep-me") in reflector.items  # stale, not blank
            server.set_token(TOKEN)
            server.store.create(rt("configmaps"), {"metadata": {"name": "later"}}, namespace="default")
            await eventually(lambda: ("default", "later") in reflector.items, timeout=15, message="recovery")
            assert reflector.error is None and reflector.stale_since is None
        finally:
            await stop(task)
