"""Errors on the wire, byte for byte as a real API server writes them, and what kubectl makes of
them (kubectl debug reads the details of a 404 without checking them)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest

from tests.sandbox.kube_api_harness import TOKEN, ApiServerThread
from tests.sandbox.test_api_kubectl import kubectl
from tests.conftest import requires_kubectl


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = ApiServerThread(tmp_path_factory.mktemp("kube-api"))
    yield server
    server.stop()


def _raw(api, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    ctx = ssl.create_default_context(cafile=str(api.ca_file))
    req = urllib.request.Request(api.url + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {TOKEN}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_not_found_is_compact_with_details_and_newline(api):
    code, body = _raw(api, "GET", "/api/v1/namespaces/default/pods/nope")
    assert code == 404
    assert body == (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                    b'"message":"pods \\"nope\\" not found","reason":"NotFound",'
                    b'"details":{"name":"nope","kind":"pods"},"code":404}\n')


def test_unknown_path_keeps_empty_details(api):
    code, body = _raw(api, "GET", "/api/v1/namespaces/default/pods/nope/ephemeralcontainers")
    assert code == 404
    assert body == (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                    b'"message":"the server could not find the requested resource",'
                    b'"reason":"NotFound","details":{},"code":404}\n')


def test_invalid_lists_causes_in_order(api):
    code, body = _raw(api, "POST", "/api/v1/namespaces/default/configmaps",
                      {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}})
    assert code == 422
    status = json.loads(body)
    assert list(status) == ["kind", "apiVersion", "metadata", "status", "message", "reason",
                            "details", "code"]
    assert status["details"]["kind"] == "ConfigMap" and status["details"]["causes"]
    assert body.endswith(b"}\n") and b", " not in body.split(b'"message"')[0]


@requires_kubectl
def test_kubectl_debug_is_refused_as_a_real_server_refuses(api):
    kubectl(api, "run", "web", "--image=nginx")
    proc = kubectl(api, "debug", "web", "--image=busybox", check=False)
    assert proc.returncode == 1
    assert "panic" not in proc.stderr
    assert proc.stderr.strip() == (
        'error: ephemeral containers are disabled for this cluster (error from server: '
        '"the server could not find the requested resource")')
