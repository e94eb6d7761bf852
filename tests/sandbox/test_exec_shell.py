"""The simulated container shell and the SPDY framer on their own: shell semantics, files, DNS
answers that depend on CoreDNS, tar round trips, and SPDY frames as spdystream writes them."""

from __future__ import annotations

import asyncio
import io
import struct
import tarfile
import zlib

import pytest

from iagent_sandbox.controllers.pod_apps import SandboxApps
from iagent_sandbox.kube import spdy
from iagent_sandbox.kube.container import Containers
from iagent_sandbox.kube.container_env import container_env
from iagent_sandbox.kube.resources import rt
from iagent_sandbox.kube.shell import Io, Stdin
from iagent_sandbox.kube.shell_session import ShellSession
from tests.sandbox.store_fixtures import new_store, pod_body

NODE = "ip-10-0-1-10.eu-central-1.compute.internal"


def _set_running(store, ns: str, name: str, ready: bool = True) -> None:
    def running(pod: dict) -> None:
        pod["status"].update(phase="Running", podIP="10.0.1.50", conditions=[
            {"type": "Ready", "status": "True" if ready else "False"}])
    store.mutate(rt("pods"), ns, name, running, status=True)


@pytest.fixture
def world():
    store, clock = new_store()
    store.create(rt("services"), {"metadata": {"name": "kube-dns"},
                                  "spec": {"clusterIP": "10.100.0.10", "selector": {"k8s-app": "kube-dns"},
                                           "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}},
                 "kube-system")
    store.create(rt("services"), {"metadata": {"name": "web"},
                                  "spec": {"clusterIP": "10.100.20.30", "selector": {"app": "web"},
                                           "ports": [{"name": "http", "port": 80, "targetPort": 80}]}},
                 "default")
    store.create(rt("pods"), pod_body("web-1", node=NODE, containers=[
        {"name": "web", "image": "nginx:1.27", "env": [
            {"name": "GREETING", "value": "hi"},
            {"name": "MY_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}]), "default")
    _set_running(store, "default", "web-1")
    return store, clock, Containers(store, clock, SandboxApps())


def run(world, *lines: str, stdin: bytes = b"", argv=None) -> tuple[int, str, str]:
    store, _, containers = world
    pod = store.get(rt("pods"), "default", "web-1")
    container = pod["spec"]["containers"][0]
    session = ShellSession(containers, containers.instance(pod, container, 0),
                           container_env(store, pod, container))
    out, err = bytearray(), bytearray()

    async def w_out(data: bytes) -> None:
        out.extend(data)

    async def w_err(data: bytes) -> None:
        err.extend(data)

    chunks = [stdin, None]

    async def source():
        return chunks.pop(0)

    async def go():
        return await session.run_argv(argv or ["sh", "-c", "\n".join(lines)],
                                      Io(Stdin(source), w_out, w_err))
    code = asyncio.run(go())
    return code, out.decode(errors="replace"), err.decode(errors="replace")


def test_quoting_variables_and_exit_codes(world):
    assert run(world, "echo \"$GREETING $MY_POD\" '$GREETING'; false; echo $?") == (0, "hi web-1 $GREETING\n1\n", "")
    assert run(world, "true && echo yes || echo no; false && echo yes || echo no") == (0, "yes\nno\n", "")
    assert run(world, "nope") == (127, "", "sh: nope: not found\n")
    assert run(world, "echo 'unterminated")[0] == 2
    assert run(world, "exit 300") == (44, "", "")


def test_pipes_redirections_and_files(world):
    code, out, _ = run(world, "env | grep GREETING", "echo a > /tmp/f; echo b >> /tmp/f; cat /tmp/f",
                       "cd /tmp && pwd && test -d /tmp && test ! -f /nope && echo tests-ok",
                       "cat /nope 2>&1 | wc -l")
    assert code == 0
    assert out == "GREETING=hi\na\nb\n/tmp\ntests-ok\n1\n"


def test_stdin_is_read_as_a_script_and_by_commands(world):
    assert run(world, stdin=b"echo one\ncat\n", argv=["sh"])[1] == "one\n"
    assert run(world, stdin=b"x\ny\n", argv=["grep", "y"]) == (0, "y\n", "")


def test_dns_needs_a_ready_coredns_pod(world):
    store = world[0]
    code, out, _ = run(world, "nslookup web")
    assert code == 1 and "no servers could be reached" in out
    store.create(rt("pods"), pod_body("coredns-1", labels={"k8s-app": "kube-dns"}, node=NODE), "kube-system")
    _set_running(store, "kube-system", "coredns-1")
    code, out, _ = run(world, "nslookup web")
    assert code == 0
    assert "Address 1: 10.100.20.30 web.default.svc.cluster.local" in out
    assert run(world, "nslookup web.nowhere")[0] == 1
    assert run(world, "wget -qO- http://web/")[1].startswith("<!DOCTYPE html>")  # through the Service


def test_wget_to_the_pods_own_port(world):
    code, out, _ = run(world, "wget -qO- http://localhost/")
    assert code == 0 and "Welcome to nginx!" in out
    code, _, err = run(world, "wget -qO- http://localhost:81/")
    assert code == 1 and "Connection refused" in err


def test_tar_round_trip(world):
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        data = b"payload\n"
        info = tarfile.TarInfo("dir/file.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    # kubectl cp's command for copying into the pod, then back out
    assert run(world, stdin=archive.getvalue(),
               argv=["tar", "--no-same-permissions", "--no-same-owner", "-xmf", "-", "-C", "/tmp"])[0] == 0
    store, _, containers = world
    pod = store.get(rt("pods"), "default", "web-1")
    fs = containers.instance(pod, pod["spec"]["containers"][0], 0).fs
    out, _ = fs.tar_create(["/tmp/dir"])
    with tarfile.open(fileobj=io.BytesIO(out)) as tar:
        assert tar.extractfile("tmp/dir/file.txt").read() == b"payload\n"


def _client_syn_stream(deflate, stream_id: int, headers: dict[str, str]) -> bytes:
    raw = struct.pack(">I", len(headers)) + b"".join(
        struct.pack(">I", len(k)) + k.encode() + struct.pack(">I", len(v)) + v.encode()
        for k, v in headers.items())
    block = deflate.compress(raw) + deflate.flush(zlib.Z_SYNC_FLUSH)
    payload = struct.pack(">IIBB", stream_id, 0, 0, 0) + block
    return struct.pack(">HHB", 0x8003, spdy.SYN_STREAM, 0) + len(payload).to_bytes(3, "big") + payload


def test_spdy_frames():
    server = spdy.SpdyServer()
    deflate = zlib.compressobj(9, zlib.DEFLATED, 15, zdict=spdy.DICTIONARY)
    first = _client_syn_stream(deflate, 1, {"streamtype": "error", "port": "8080", "requestid": "0"})
    second = _client_syn_stream(deflate, 3, {"streamtype": "data", "port": "8080", "requestid": "0"})
    data = struct.pack(">IB", 3, spdy.FLAG_FIN) + (5).to_bytes(3, "big") + b"hello"
    blob = first + second + data
    frames = server.feed(blob[:7]) + server.feed(blob[7:])  # frames split across messages
    assert [(f.kind, f.stream_id) for f in frames] == [("control", 1), ("control", 3), ("data", 3)]
    assert frames[1].headers == {"streamtype": "data", "port": "8080", "requestid": "0"}
    assert frames[2].payload == b"hello" and frames[2].flags & spdy.FLAG_FIN
    reply = server.syn_reply(3)
    inflate = zlib.decompressobj(zdict=spdy.DICTIONARY)
    assert reply[:4] == struct.pack(">HH", 0x8003, spdy.SYN_REPLY)
    assert inflate.decompress(reply[12:]) == b"\x00\x00\x00\x00"  # no headers
    assert spdy.SpdyServer.data(3, b"", fin=True) == b"\x00\x00\x00\x03\x01\x00\x00\x00"
