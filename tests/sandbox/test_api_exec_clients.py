"""pods/exec and pods/attach through the official Python clients and each channel protocol.

The sync ``kubernetes`` client's ``stream()`` negotiates v5.channel.k8s.io (CLOSE signal for
stdin); kubernetes_asyncio's ``WsApiClient`` asks for v4.channel.k8s.io; the older
channel.k8s.io and base64.channel.k8s.io are driven with websocket-client directly, as the
kubelet still serves them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl

import pytest
import websocket
from kubernetes import client
from kubernetes.stream import stream
from kubernetes_asyncio import client as aclient
from kubernetes_asyncio import config as aconfig
from kubernetes_asyncio.stream import WsApiClient

from tests.conftest import wait_for


@pytest.fixture(scope="module")
def core(k8s) -> client.CoreV1Api:
    return client.CoreV1Api(k8s)


@pytest.fixture(scope="module")
def pod(web_pod) -> str:
    return web_pod


def test_sync_stream_separates_stdout_stderr_and_reports_the_exit_code(core, pod):
    ws = stream(core.connect_get_namespaced_pod_exec, pod, "default",
                command=["sh", "-c", "echo out; echo err >&2; exit 5"],
                stdin=False, stdout=True, stderr=True, tty=False, _preload_content=False)
    ws.run_forever(timeout=30)
    assert ws.subprotocol == "v5.channel.k8s.io"
    error = json.loads(ws.peek_channel(3))
    assert (ws.read_stdout(), ws.read_stderr(), ws.returncode) == ("out\n", "err\n", 5)
    assert error["reason"] == "NonZeroExitCode"
    assert error["details"]["causes"] == [{"reason": "ExitCode", "message": "5"}]


def test_sync_stream_stdin_ends_with_the_v5_close_signal(core, pod):
    ws = stream(core.connect_get_namespaced_pod_exec, pod, "default", command=["cat"],
                stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False)
    ws.write_stdin("first line\n")
    ws.write_stdin(b"second line\n")
    ws.close_channel(0)  # end of file on stdin: cat ends
    ws.run_forever(timeout=30)
    assert (ws.read_stdout(), ws.returncode) == ("first line\nsecond line\n", 0)


def test_sync_stream_preloaded_output(core, pod):
    out = stream(core.connect_get_namespaced_pod_exec, pod, "default",
                 command=["sh", "-c", "hostname && printenv HOME"],
                 stdin=False, stdout=True, stderr=True, tty=False)
    assert out == f"{pod}\n/root\n"


def test_async_ws_api_client_exec(sandbox_files, pod):
    kubeconfig, _ = sandbox_files

    async def run():
        await aconfig.load_kube_config(config_file=str(kubeconfig))
        async with WsApiClient() as api:
            v1 = aclient.CoreV1Api(api)
            text = await v1.connect_get_namespaced_pod_exec(
                pod, "default", command=["sh", "-c", "cat /etc/hostname; ls /var/run/secrets/kubernetes.io/serviceaccount"],
                stdin=False, stdout=True, stderr=True, tty=False)
            frames = []
            resp = await v1.connect_get_namespaced_pod_exec(
                pod, "default", command=["sh", "-c", "exit 9"], stdin=False, stdout=True,
                stderr=True, tty=False, _preload_content=False)
            async with resp as ws:
                async for msg in ws:
                    frames.append(bytes(msg.data))
            return text, frames

    text, frames = asyncio.run(run())
    assert text == f"{pod}\nnamespace\ntoken\n"
    assert frames[0] == b"\x01"  # the kubelet's empty first message on stdout
    assert WsApiClient.parse_error_data(frames[-1][1:]) == 9


def _raw_socket(sandbox, kubeconfig_token: str, path: str, protocol: str) -> websocket.WebSocket:
    info = sandbox.info
    ctx = ssl.create_default_context(cadata=info.ca_pem.decode())
    ws = websocket.WebSocket(sslopt={"context": ctx})
    ws.connect(info.kube_url.replace("https", "wss") + path, subprotocols=[protocol],
               header=[f"Authorization: Bearer {kubeconfig_token}"])
    return ws


@pytest.mark.parametrize("protocol", ["channel.k8s.io", "base64.channel.k8s.io",
                                      "v4.base64.channel.k8s.io"])
def test_older_channel_protocols(sandbox, pod, protocol):
    path = (f"/api/v1/namespaces/default/pods/{pod}/exec?command=sh&command=-c"
            f"&command=echo%20hello&stdout=true&stderr=true")
    ws = _raw_socket(sandbox, sandbox.info.token, path, protocol)
    assert ws.subprotocol == protocol
    frames = []
    try:
        while True:
            opcode, data = ws.recv_data()
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                break
            frames.append(data)
    except websocket.WebSocketConnectionClosedException:
        pass
    if "base64" in protocol:
        decoded = [(int(chr(f[0])), base64.b64decode(f[1:])) for f in frames]
    else:
        decoded = [(f[0], f[1:]) for f in frames]
    assert (1, b"hello\n") in decoded
    assert json.loads(dict(decoded)[3]) == {"metadata": {}, "status": "Success"}


def test_pod_without_a_node_is_a_400(core):
    core.create_namespaced_pod("default", {
        "metadata": {"name": "exec-unschedulable"},
        "spec": {"nodeSelector": {"no-such-label": "x"},
                 "containers": [{"name": "app", "image": "nginx"}]}})
    with pytest.raises(Exception) as err:
        stream(core.connect_get_namespaced_pod_exec, "exec-unschedulable", "default",
               command=["env"], stdin=False, stdout=True, stderr=True, tty=False)
    assert "400" in str(err.value)
    core.delete_namespaced_pod("exec-unschedulable", "default", grace_period_seconds=0)


def test_container_not_running_is_the_kubelets_container_not_found(core):
    core.create_namespaced_pod("default", {
        "metadata": {"name": "exec-no-image"},
        "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]}})

    def waiting():
        pod = core.read_namespaced_pod("exec-no-image", "default")
        statuses = pod.spec.node_name and pod.status.container_statuses
        return statuses and statuses[0].state.waiting is not None
    wait_for(waiting, timeout=60, message="exec-no-image scheduled, its image not pullable")
    ws = stream(core.connect_get_namespaced_pod_exec, "exec-no-image", "default", command=["env"],
                stdin=False, stdout=True, stderr=True, tty=False, _preload_content=False)
    ws.run_forever(timeout=30)
    status = json.loads(ws.read_channel(3))
    assert status["reason"] == "InternalError"
    assert status["message"] == ('Internal error occurred: unable to upgrade connection: '
                                 'container not found ("app")')
    core.delete_namespaced_pod("exec-no-image", "default", grace_period_seconds=0)


def test_attach_streams_what_the_container_writes_from_now_on(core, pod):
    before = core.read_namespaced_pod_log(pod, "default").splitlines()
    ws = stream(core.connect_get_namespaced_pod_attach, pod, "default",
                stdin=False, stdout=True, stderr=True, tty=False, _preload_content=False)
    got = wait_for(lambda: (ws.update(timeout=1), ws.peek_stdout())[1], timeout=60,
                   message="a line the container writes while attached")
    ws.close()
    line = got.splitlines()[0]
    assert line not in before  # attach shows new output, not the log so far
    assert line in core.read_namespaced_pod_log(pod, "default").splitlines()


def test_async_ws_api_client_portforward(sandbox_files, pod):
    """kubernetes_asyncio's WsApiClient port-forward stream (v4.channel.k8s.io): each port gets a
    data and an error channel, each opened by a frame carrying the port number (little-endian);
    the bytes written on the data channel reach the pod's HTTP server, its answer comes back."""
    kubeconfig, _ = sandbox_files

    async def run():
        await aconfig.load_kube_config(config_file=str(kubeconfig))
        async with WsApiClient() as api:
            v1 = aclient.CoreV1Api(api)
            resp = await v1.connect_get_namespaced_pod_portforward(
                pod, "default", ports="8080", _preload_content=False)
            frames: list[bytes] = []
            async with resp as ws:
                await ws.send_bytes(b"\x00GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                async for msg in ws:
                    frames.append(bytes(msg.data))
            return frames

    frames = asyncio.run(run())
    assert frames[0] == b"\x00" + (8080).to_bytes(2, "little")  # the data channel opens
    assert frames[1] == b"\x01" + (8080).to_bytes(2, "little")  # the error channel opens
    body = b"".join(f[1:] for f in frames[2:] if f[:1] == b"\x00")
    assert body.startswith(b"HTTP/1.1 200 OK")
    answer = json.loads(body.split(b"\r\n\r\n", 1)[1])
    assert answer["pod"] == pod and answer["status"] == "ok"
    assert not [f for f in frames[2:] if f[:1] == b"\x01" and len(f) > 1]  # nothing went wrong
