"""kubectl port-forward (SPDY/3.1 tunnelled in WebSocket) and the sync client's portforward
(v4.channel.k8s.io), each reaching the pod's simulated HTTP server; HTTP through them with
urllib and raw sockets."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request

import pytest
from kubernetes import client
from kubernetes.stream import portforward

from tests.conftest import requires_kubectl, wait_for

pytestmark = requires_kubectl
FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)")


@pytest.fixture(scope="module")
def core(k8s) -> client.CoreV1Api:
    return client.CoreV1Api(k8s)


@pytest.fixture(scope="module")
def pod(web_pod) -> str:
    return web_pod


class PortForward:
    """kubectl port-forward in the background; its output read line by line."""

    def __init__(self, env, target: str, ports: str) -> None:
        self.proc = subprocess.Popen(["kubectl", "port-forward", target, ports], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []

    def local_port(self) -> tuple[int, int]:
        while True:
            line = self.proc.stdout.readline()  # kubectl prints this line before it listens
            assert line, f"kubectl port-forward ended: {self.lines}"
            self.lines.append(line)
            match = FORWARDING.search(line)
            if match:
                return int(match.group(1)), int(match.group(2))

    def rest(self) -> str:
        out, _ = self.proc.communicate(timeout=30)
        return "".join(self.lines) + out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_kubectl_port_forward_to_a_pod(sandbox_env, pod):
    pf = PortForward(sandbox_env, f"pod/{pod}", ":8080")
    try:
        local, remote = pf.local_port()
        assert remote == 8080
        status, headers, body = _get(f"http://127.0.0.1:{local}/")
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert json.loads(body) == {"service": "iagent-web", "status": "ok", "pod": pod,
                                    "version": json.loads(body)["version"]}
        status, _, body = _get(f"http://127.0.0.1:{local}/no-such-page")  # a second connection
        assert status == 404 and json.loads(body)["path"] == "/no-such-page"
    finally:
        pf.stop()


def test_kubectl_port_forward_to_a_service(sandbox_env, core):
    svc = core.read_namespaced_service("iagent-web", "default")
    pf = PortForward(sandbox_env, "svc/iagent-web", f":{svc.spec.ports[0].port}")
    try:
        local, remote = pf.local_port()
        assert remote == 8080  # kubectl resolved the Service's targetPort on a pod itself
        status, _, body = _get(f"http://127.0.0.1:{local}/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
    finally:
        pf.stop()


def test_nothing_listening_is_containerds_refusal(sandbox_env, pod):
    pf = PortForward(sandbox_env, f"pod/{pod}", ":9999")
    try:
        local, _ = pf.local_port()
        with pytest.raises(Exception):
            urllib.request.urlopen(f"http://127.0.0.1:{local}/", timeout=30).read()
        out = pf.rest()
    finally:
        pf.stop()
    assert pf.proc.returncode == 1
    assert "dial tcp4 127.0.0.1:9999: connect: connection refused" in out
    assert "error: lost connection to pod" in out


def test_sync_client_portforward(core, pod):
    pf = portforward(core.connect_get_namespaced_pod_portforward, pod, "default", ports="8080")
    sock = pf.socket(8080)
    sock.setblocking(True)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
                 b"GET /ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    answers = data.split(b"HTTP/1.1 ")[1:]
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"200 OK", b"200 OK"]  # keep-alive
    assert b"Connection: close" in answers[1]
    assert pf.error(8080) is None


def test_sync_client_portforward_refused(core, pod):
    pf = portforward(core.connect_get_namespaced_pod_portforward, pod, "default", ports="9999")
    sock = pf.socket(9999)
    sock.setblocking(True)
    wait_for(lambda: pf.error(9999), timeout=30, message="the error channel's message")
    assert "connect: connection refused" in pf.error(9999)
    sock.close()
