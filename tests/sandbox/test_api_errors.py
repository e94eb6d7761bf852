"""Bad input and bad credentials get a clear Status with the right code, and nothing is stored."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import aiohttp
import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.rest import ApiException

from iagent_sandbox.kube.resources import rt
from tests.sandbox.kube_api_harness import async_client, running_server


async def _raw(api, method: str, path: str, *, body: bytes | str | None = None,
               content_type: str = "application/json", token: str | None = "default",
               accept: str = "application/json") -> tuple[int, dict | str, dict]:
    headers = {"Accept": accept}
    if body is not None:
        headers["Content-Type"] = content_type
    if token is not None:
        headers.update(api.headers() if token == "default" else api.headers(token))
    async with aiohttp.ClientSession() as s:
        async with s.request(method, api.url + path, data=body, headers=headers, ssl=api.ssl) as r:
            text = await r.text()
            try:
                payload = json.loads(text)
            except ValueError:
                payload = text
            return r.status, payload, dict(r.headers)


def _assert_status(payload: dict, code: int, reason: str, message_part: str) -> None:
    assert payload["kind"] == "Status" and payload["apiVersion"] == "v1"
    assert payload["status"] == "Failure"
    assert payload["code"] == code
    assert payload["reason"] == reason
    assert message_part in payload["message"], payload["message"]


POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
       "spec": {"containers": [{"name": "web", "image": "nginx"}]}}


# -- authentication ---------------------------------------------------------------------------------

async def test_missing_and_wrong_token_are_401_status(tmp_path):
    async with running_server(tmp_path) as api:
        status, payload, _ = await _raw(api, "GET", "/api/v1/namespaces", token=None)
        assert status == 401
        _assert_status(payload, 401, "Unauthorized", "Unauthorized")

        api_client = await async_client(api.server, api.ca_file, token="not-the-token")
        async with api_client:
            with pytest.raises(ApiException) as err:
                await client.CoreV1Api(api_client).list_namespace()
        assert err.value.status == 401
        _assert_status(json.loads(err.value.body), 401, "Unauthorized", "Unauthorized")


async def test_extra_authenticator_is_accepted(tmp_path):
    async with running_server(tmp_path, authenticators=[lambda t: t == "k8s-aws-v1.good"]) as api:
        assert (await _raw(api, "GET", "/version", token="k8s-aws-v1.good"))[0] == 200
        assert (await _raw(api, "GET", "/version", token="k8s-aws-v1.bad"))[0] == 401


async def test_expired_token_then_rotated_token(tmp_path):
    async with running_server(tmp_path) as api:
        assert (await _raw(api, "GET", "/api/v1/namespaces"))[0] == 200
        api.server.expire_token()
        status, payload, _ = await _raw(api, "GET", "/api/v1/namespaces")
        assert status == 401 and payload["reason"] == "Unauthorized"
        api.server.set_token("fresh-token")
        assert (await _raw(api, "GET", "/api/v1/namespaces", token="fresh-token"))[0] == 200
        assert (await _raw(api, "GET", "/api/v1/namespaces"))[0] == 401


async def test_date_header_is_simulated_time(tmp_path):
    start = datetime(2031, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    async with running_server(tmp_path, start=start) as api:
        _, _, headers = await _raw(api, "GET", "/version")
        served = parsedate_to_datetime(headers["Date"])
        # Simulated time runs from `start` (speed 1): within the test's own runtime of it.
        assert start <= served <= api.clock.now()


# -- bad bodies -------------------------------------------------------------------------------------

def _stored_pods(api) -> list[dict]:
    return api.store.list(rt("pods"), "default")[0]


async def test_malformed_json_is_400_and_stores_nothing(tmp_path):
    async with running_server(tmp_path) as api:
        rv = api.store.resource_version
        status, payload, _ = await _raw(api, "POST", "/api/v1/namespaces/default/pods",
                                        body=b'{"apiVersion": "v1", "kind": "Pod", "metadata": {')
        assert status == 400
        _assert_status(payload, 400, "BadRequest", "json parse error")
        status, payload, _ = await _raw(api, "POST", "/api/v1/namespaces/default/pods", body=b"[1, 2]")
        assert status == 400 and payload["reason"] == "BadRequest"
        assert _stored_pods(api) == [] and api.store.resource_version == rv


async def test_bad_name_is_422_invalid_and_stores_nothing(tmp_path):
    async with running_server(tmp_path) as api:
        api_client = await async_client(api.server, api.ca_file)
        async with api_client:
            body = dict(POD, metadata={"name": "Not_A_Valid_Name"})
            with pytest.raises(ApiException) as err:
                await client.CoreV1Api(api_client).create_namespaced_pod("default", body)
        assert err.value.status == 422
        payload = json.loads(err.value.body)
        _assert_status(payload, 422, "Invalid", 'Pod "Not_A_Valid_Name" is invalid')
        assert payload["details"]["causes"][0]["field"] == "metadata.name"
        assert _stored_pods(api) == []


async def test_wrong_kind_or_api_version_is_400(tmp_path):
    async with running_server(tmp_path) as api:
        wrong_kind = dict(POD, kind="Service")
        status, payload, _ = await _raw(api, "POST", "/api/v1/namespaces/default/pods",
                                        body=json.dumps(wrong_kind))
        assert status == 400
        _assert_status(payload, 400, "BadRequest", "does not match the expected kind (Pod)")
        wrong_version = dict(POD, apiVersion="apps/v1")
        status, payload, _ = await _raw(api, "POST", "/api/v1/namespaces/default/pods",
                                        body=json.dumps(wrong_version))
        assert status == 400
        _assert_status(payload, 400, "BadRequest", "does not match the expected API version (v1)")
        assert _stored_pods(api) == []


async def test_namespace_mismatch_and_missing_namespace(tmp_path):
    async with running_server(tmp_path) as api:
        body = dict(POD, metadata={"name": "web", "namespace": "other"})
        status, payload, _ = await _raw(api, "POST", "/api/v1/namespaces/default/pods",
                                        body=json.dumps(body))
        assert status == 400 and "does not match the namespace" in payload["message"]
        status, payload, _ = await _raw(api, "POST", "/api/v1/namespaces/nowhere/pods",
                                        body=json.dumps(POD))
        assert status == 404
        _assert_status(payload, 404, "NotFound", 'namespaces "nowhere" not found')
        assert api.store.list(rt("pods"))[0] == []


async def test_unknown_resources_and_paths_are_404(tmp_path):
    async with running_server(tmp_path) as api:
        for path in ("/api/v1/namespaces/default/widgets", "/apis/apps/v1/gadgets",
                     "/apis/nosuch.group/v1/things", "/api/v2/pods", "/nonsense",
                     "/api/v1/namespaces/default/pods/web/nosuchsubresource"):
            status, payload, _ = await _raw(api, "GET", path)
            assert status == 404, path
            _assert_status(payload, 404, "NotFound", "the server could not find the requested resource")
        status, payload, _ = await _raw(api, "GET", "/api/v1/namespaces/default/pods/absent")
        assert status == 404
        _assert_status(payload, 404, "NotFound", 'pods "absent" not found')
        assert payload["details"] == {"name": "absent", "kind": "pods"}


async def test_unsupported_methods_and_media_types(tmp_path):
    async with running_server(tmp_path) as api:
        status, payload, _ = await _raw(api, "POST", "/api/v1/namespaces/default/pods/web",
                                        body=json.dumps(POD))
        assert status == 405 and payload["reason"] == "MethodNotAllowed"
        status, payload, _ = await _raw(api, "POST", "/api/v1/namespaces/default/pods",
                                        body="<pod/>", content_type="application/xml")
        assert status == 415 and payload["reason"] == "UnsupportedMediaType"
        assert (await _raw(api, "POST", "/api/v1/namespaces/default/pods", body=json.dumps(POD)))[0] == 201
        status, payload, _ = await _raw(api, "PATCH", "/api/v1/namespaces/default/pods/web",
                                        body="metadata: {labels: {a: b}}",
                                        content_type="application/apply-patch+yaml")
        # Server-side apply is served; without a fieldManager it is refused as the API server does.
        _assert_status(payload, 422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: '
                                                "fieldManager: Required value: is required for apply patch")
        status, payload, _ = await _raw(api, "PATCH", "/api/v1/namespaces/default/pods/web",
                                        body="{not json", content_type="application/merge-patch+json")
        assert status == 400 and payload["reason"] == "BadRequest"
        pod = api.store.get(rt("pods"), "default", "web")
        assert "labels" not in pod["metadata"]


async def test_strict_field_validation_rejects_unknown_fields(tmp_path):
    async with running_server(tmp_path) as api:
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                "dta": {"a": "b"}}
        status, payload, _ = await _raw(api, "POST", "/api/v1/namespaces/default/configmaps"
                                        "?fieldValidation=Strict", body=json.dumps(body))
        assert status == 400
        _assert_status(payload, 400, "BadRequest", 'strict decoding error: unknown field "dta"')
        assert api.store.get(rt("configmaps"), "default", "cfg") is None
        # Warn (the default): stored without the field, with a Warning header naming it.
        status, payload, headers = await _raw(api, "POST", "/api/v1/namespaces/default/configmaps",
                                              body=json.dumps(body))
        assert status == 201 and 'unknown field \\"dta\\"' in headers["Warning"]
        assert "dta" not in payload and "dta" not in api.store.get(rt("configmaps"), "default", "cfg")

        # Patches are validated on their result, before anything is stored.
        path = "/api/v1/namespaces/default/configmaps/cfg"
        rv = api.store.resource_version
        status, payload, _ = await _raw(api, "PATCH", path + "?fieldValidation=Strict",
                                        body=json.dumps({"data": {"a": "1"}, "spec": {"x": 1}}),
                                        content_type="application/strategic-merge-patch+json")
        assert status == 400 and 'unknown field "spec"' in payload["message"]
        assert api.store.resource_version == rv
        status, payload, headers = await _raw(api, "PATCH", path,
                                              body=json.dumps({"data": {"a": "1"}, "spec": {"x": 1}}),
                                              content_type="application/merge-patch+json")
        assert status == 200 and 'unknown field \\"spec\\"' in headers["Warning"]
        stored = api.store.get(rt("configmaps"), "default", "cfg")
        assert stored["data"] == {"a": "1"} and "spec" not in stored


async def test_put_name_mismatch_and_invalid_delete_options(tmp_path):
    async with running_server(tmp_path) as api:
        await _raw(api, "POST", "/api/v1/namespaces/default/pods", body=json.dumps(POD))
        other = dict(POD, metadata={"name": "other"})
        status, payload, _ = await _raw(api, "PUT", "/api/v1/namespaces/default/pods/web",
                                        body=json.dumps(other))
        assert status == 400 and "does not match the name on the URL" in payload["message"]
        status, payload, _ = await _raw(api, "DELETE", "/api/v1/namespaces/default/pods/web",
                                        body=json.dumps({"propagationPolicy": "Sideways"}))
        assert status == 400 and "propagationPolicy" in payload["message"]
        status, payload, _ = await _raw(api, "GET", "/api/v1/pods?labelSelector=a%20in%20(")
        assert status == 400 and payload["reason"] == "BadRequest"
        assert api.store.get(rt("pods"), "default", "web") is not None
