"""Watch over HTTP with the official async client: initial state, resume, 410 Gone, bookmarks,
selectors, timeouts, tables, and the server dropping watches."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.rest import ApiException

from iagent_sandbox.kube.resources import rt
from tests.sandbox.kube_api_harness import async_client, running_server

TIMEOUT = 10.0


def _cm(name: str, **labels: str) -> dict:
    return {"metadata": {"name": name, "labels": labels}, "data": {"k": name}}


async def _collect(stream, count: int) -> list[tuple[str, str]]:
    """The first `count` events as (type, name), failing after TIMEOUT instead of hanging."""
    out: list[tuple[str, str]] = []

    async def read():
        async for event in stream:
            out.append((event["type"], event["raw_object"]["metadata"].get("name", "")))
            if len(out) == count:
                return

    await asyncio.wait_for(read(), TIMEOUT)
    return out


async def test_watch_without_resource_version_starts_with_added(tmp_path):
    async with running_server(tmp_path) as api:
        store, cms = api.store, rt("configmaps")
        store.create(cms, _cm("a"), "default")
        store.create(cms, _cm("b"), "default")
        async with await async_client(api.server, api.ca_file) as c:
            v1 = client.CoreV1Api(c)
            w = watch.Watch()
            stream = w.stream(v1.list_namespaced_config_map, "default", timeout_seconds=30)
            first = await _collect(stream, 2)
            assert first == [("ADDED", "a"), ("ADDED", "b")]
            store.create(cms, _cm("c"), "default")
            store.mutate(cms, "default", "a", lambda o: o["data"].update(k="changed"))
            store.delete(cms, "default", "b")
            assert await _collect(stream, 3) == [("ADDED", "c"), ("MODIFIED", "a"), ("DELETED", "b")]
            w.stop()
            await w.close()


async def test_watch_resumes_after_a_list_resource_version(tmp_path):
    async with running_server(tmp_path) as api:
        store, cms = api.store, rt("configmaps")
        store.create(cms, _cm("before"), "default")
        async with await async_client(api.server, api.ca_file) as c:
            v1 = client.CoreV1Api(c)
            listed = await v1.list_namespaced_config_map("default")
            rv = listed.metadata.resource_version
            assert [i.metadata.name for i in listed.items] == ["before"]
            # Changes made while nobody watches are replayed after rv, and only those.
            store.create(cms, _cm("missed-1"), "default")
            store.delete(cms, "default", "before")
            store.create(cms, _cm("missed-2"), "default")
            w = watch.Watch()
            stream = w.stream(v1.list_namespaced_config_map, "default", resource_version=rv,
                              timeout_seconds=30)
            got = await _collect(stream, 3)
            assert got == [("ADDED", "missed-1"), ("DELETED", "before"), ("ADDED", "missed-2")]
            await w.close()


async def test_expired_resource_version_is_410_gone(tmp_path):
    async with running_server(tmp_path, history=3) as api:
        store, cms = api.store, rt("configmaps")
        old_rv = store.resource_version
        for i in range(6):  # push old_rv out of a 3-change history
            store.create(cms, _cm(f"cm-{i}"), "default")
        async with await async_client(api.server, api.ca_file) as c:
            v1 = client.CoreV1Api(c)
            w = watch.Watch()
            with pytest.raises(ApiException) as err:
                async for _ in w.stream(v1.list_namespaced_config_map, "default",
                                        resource_version=old_rv, timeout_seconds=5):
                    pass
            assert err.value.status == 410
            await w.close()
        # On the wire: 200 with one ERROR event carrying a 410 Status, as a real API server.
        async with aiohttp.ClientSession() as s:
            url = f"{api.url}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={old_rv}"
            async with s.get(url, headers=api.headers(), ssl=api.ssl) as r:
                assert r.status == 200
                event = json.loads((await r.content.readline()).decode())
        assert event["type"] == "ERROR"
        status = event["object"]
        assert status["kind"] == "Status" and status["code"] == 410
        assert status["message"].startswith(f"too old resource version: {old_rv}")


async def test_label_and_field_selectors_filter_watch_events(tmp_path):
    async with running_server(tmp_path) as api:
        store, cms = api.store, rt("configmaps")
        async with await async_client(api.server, api.ca_file) as c:
            v1 = client.CoreV1Api(c)
            w = watch.Watch()
            stream = w.stream(v1.list_config_map_for_all_namespaces, label_selector="tier in (web,api)",
                              field_selector="metadata.namespace=default", timeout_seconds=30)
            # Start the request before writing, so the changes arrive as events.
            pending = asyncio.ensure_future(_collect(stream, 2))
            await asyncio.sleep(0)
            await _wait(lambda: store.open_watches >= 1)
            store.create(cms, _cm("skip-db", tier="db"), "default")
            store.create(cms, _cm("web", tier="web"), "default")
            store.create(cms, _cm("other-ns", tier="web"), "kube-system")
            store.create(cms, _cm("api", tier="api"), "default")
            assert await pending == [("ADDED", "web"), ("ADDED", "api")]
            await w.close()


async def _wait(predicate, timeout: float = TIMEOUT) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def _lines(api, query: str, count: int, accept: str = "application/json") -> list[dict]:
    async with aiohttp.ClientSession() as s:
        url = f"{api.url}/api/v1/namespaces/default/configmaps?{query}"
        async with s.get(url, headers=api.headers(Accept=accept), ssl=api.ssl) as r:
            assert r.status == 200
            out = []
            while len(out) < count:
                line = await asyncio.wait_for(r.content.readline(), TIMEOUT)
                if not line:
                    break
                out.append(json.loads(line))
            return out


async def test_bookmarks_carry_the_current_resource_version(tmp_path):
    # speed 600: a simulated minute between bookmarks is 0.1 s of wall time.
    async with running_server(tmp_path, speed=600) as api:
        api.store.create(rt("configmaps"), _cm("a"), "default")
        events = await _lines(api, "watch=1&allowWatchBookmarks=true", 2)
        assert events[0]["type"] == "ADDED"
        assert events[1]["type"] == "BOOKMARK"
        assert events[1]["object"]["metadata"]["resourceVersion"] == api.store.resource_version
        assert events[1]["object"]["kind"] == "ConfigMap"


async def test_streaming_list_ends_initial_events_with_an_annotated_bookmark(tmp_path):
    async with running_server(tmp_path) as api:
        api.store.create(rt("configmaps"), _cm("a"), "default")
        api.store.create(rt("configmaps"), _cm("b"), "default")
        query = ("watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                 "&allowWatchBookmarks=true")
        events = await _lines(api, query, 3)
        assert [e["type"] for e in events] == ["ADDED", "ADDED", "BOOKMARK"]
        end = events[2]["object"]["metadata"]
        assert end["annotations"] == {"k8s.io/initial-events-end": "true"}
        assert end["resourceVersion"] == api.store.resource_version
        async with aiohttp.ClientSession() as s:
            url = f"{api.url}/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true"
            async with s.get(url, headers=api.headers(), ssl=api.ssl) as r:
                assert r.status == 422 and "resourceVersionMatch" in (await r.json())["message"]


async def test_timeout_seconds_ends_the_stream(tmp_path):
    async with running_server(tmp_path) as api:
        events = await _lines(api, "watch=true&timeoutSeconds=1", 5)
        assert events == []  # nothing happened; the server closed the stream itself


async def test_legacy_watch_path_and_single_object(tmp_path):
    async with running_server(tmp_path) as api:
        api.store.create(rt("configmaps"), _cm("one"), "default")
        api.store.create(rt("configmaps"), _cm("two"), "default")
        async with aiohttp.ClientSession() as s:
            url = f"{api.url}/api/v1/watch/namespaces/default/configmaps/two?timeoutSeconds=1"
            async with s.get(url, headers=api.headers(), ssl=api.ssl) as r:
                body = await asyncio.wait_for(r.read(), TIMEOUT)
        events = [json.loads(line) for line in body.splitlines()]
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "two")]


async def test_watch_as_table_for_kubectl_get_w(tmp_path):
    async with running_server(tmp_path) as api:
        api.store.create(rt("configmaps"), _cm("a"), "default")
        accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        task = asyncio.ensure_future(_lines(api, "watch=1", 2, accept=accept))
        await _wait(lambda: api.store.open_watches >= 1)
        api.store.create(rt("configmaps"), _cm("b"), "default")
        first, second = await task
        assert first["object"]["kind"] == "Table"
        assert [c["name"] for c in first["object"]["columnDefinitions"]] == ["Name", "Data", "Age"]
        assert first["object"]["rows"][0]["cells"][:2] == ["a", 1]
        assert second["object"]["rows"][0]["cells"][:2] == ["b", 1]
        assert second["object"]["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


async def test_drop_watches_ends_open_streams_and_stop_frees_the_port(tmp_path):
    async with running_server(tmp_path) as api:
        async with await async_client(api.server, api.ca_file) as c:
            v1 = client.CoreV1Api(c)
            w = watch.Watch()
            stream = w.stream(v1.list_namespaced_config_map, "default", timeout_seconds=60)

            async def drain():
                return [e async for e in stream]

            task = asyncio.ensure_future(drain())
            await _wait(lambda: api.store.open_watches >= 1)
            api.server.drop_watches()
            assert await asyncio.wait_for(task, TIMEOUT) == []
            await w.close()
        assert api.store.open_watches == 0
        url = api.url
    # After stop, nothing listens on the port any more.
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as s:
            await s.get(url + "/version", ssl=api.ssl)


async def test_a_client_that_leaves_does_not_leak_its_watch(tmp_path):
    async with running_server(tmp_path) as api:
        api.store.create(rt("configmaps"), _cm("a"), "default")
        async with aiohttp.ClientSession() as s:
            url = f"{api.url}/api/v1/namespaces/default/configmaps?watch=1"
            r = await s.get(url, headers=api.headers(), ssl=api.ssl)
            assert json.loads(await asyncio.wait_for(r.content.readline(), TIMEOUT))["type"] == "ADDED"
            assert api.store.open_watches == 1
            r.close()  # drop the connection mid-stream
        await _wait(lambda: api.store.open_watches == 0)
