"""kubectl exec, exec -it and cp against the running sandbox, with the kubeconfig a user gets.

kubectl 1.32 speaks v5.channel.k8s.io over WebSocket; what it prints and its exit codes are the
evidence. The interactive session runs kubectl on a pseudo-terminal, as a user's terminal does.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

import pytest
from kubernetes import client

from tests.conftest import requires_kubectl

pytestmark = requires_kubectl


@pytest.fixture(scope="module")
def pod(web_pod) -> str:
    return web_pod


def kubectl(env, *args: str, stdin: str | bytes | None = None) -> subprocess.CompletedProcess:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run(["kubectl", *args], env=env, input=data, capture_output=True, timeout=60)


def test_exec_env_shows_the_pod_spec_and_service_variables(sandbox_env, pod, k8s):
    proc = kubectl(sandbox_env, "exec", pod, "--", "env")
    assert proc.returncode == 0, proc.stderr
    env = dict(line.split("=", 1) for line in proc.stdout.decode().splitlines())
    assert env["HOSTNAME"] == pod
    kubernetes = client.CoreV1Api(k8s).read_namespaced_service("kubernetes", "default")
    assert env["KUBERNETES_SERVICE_HOST"] == kubernetes.spec.cluster_ip
    assert env["KUBERNETES_SERVICE_PORT"] == "443"
    web = client.CoreV1Api(k8s).read_namespaced_service("iagent-web", "default")
    assert env["IAGENT_WEB_SERVICE_HOST"] == web.spec.cluster_ip
    assert env["PATH"].startswith("/usr/local/sbin:")


def test_exec_exit_code_is_kubectls_exit_code(sandbox_env, pod):
    proc = kubectl(sandbox_env, "exec", pod, "--", "sh", "-c", "echo before; exit 3")
    assert proc.returncode == 3
    assert proc.stdout == b"before\n"
    assert b"command terminated with exit code 3" in proc.stderr


def test_unknown_command_is_127_from_the_shell_and_126_from_the_runtime(sandbox_env, pod):
    proc = kubectl(sandbox_env, "exec", pod, "--", "sh", "-c", "curl http://localhost/")
    assert proc.returncode == 127
    assert b"sh: curl: not found" in proc.stderr
    proc = kubectl(sandbox_env, "exec", pod, "--", "curl")
    assert proc.returncode == 126
    assert b'exec: "curl": executable file not found in $PATH' in proc.stdout


def test_exec_with_stdin(sandbox_env, pod):
    proc = kubectl(sandbox_env, "exec", "-i", pod, "--", "sh",
                   stdin="echo one\ncat /etc/hostname\nexit 4\necho never\n")
    assert proc.returncode == 4
    assert proc.stdout.decode() == f"one\n{pod}\n"
    proc = kubectl(sandbox_env, "exec", "-i", pod, "--", "cat", stdin="through cat\n")
    assert (proc.returncode, proc.stdout) == (0, b"through cat\n")


def test_dns_from_inside_the_pod(sandbox_env, pod, k8s):
    core = client.CoreV1Api(k8s)
    dns_ip = core.read_namespaced_service("kube-dns", "kube-system").spec.cluster_ip
    kubernetes_ip = core.read_namespaced_service("kubernetes", "default").spec.cluster_ip
    resolv = kubectl(sandbox_env, "exec", pod, "--", "cat", "/etc/resolv.conf").stdout.decode()
    assert resolv == ("search default.svc.cluster.local svc.cluster.local cluster.local "
                      f"eu-central-1.compute.internal\nnameserver {dns_ip}\noptions ndots:5\n")
    proc = kubectl(sandbox_env, "exec", pod, "--", "nslookup", "kubernetes.default")
    assert proc.returncode == 0, proc.stderr
    assert f"Address 1: {kubernetes_ip} kubernetes.default.svc.cluster.local" in proc.stdout.decode()
    proc = kubectl(sandbox_env, "exec", pod, "--", "nslookup", "no-such-service")
    assert proc.returncode == 1
    assert b"nslookup: can't resolve 'no-such-service'" in proc.stderr


def test_wget_reaches_the_pods_own_server_and_a_service(sandbox_env, pod):
    own = kubectl(sandbox_env, "exec", pod, "--", "wget", "-qO-", "http://localhost:8080/")
    assert own.returncode == 0, own.stderr
    assert f'"pod": "{pod}"'.encode() in own.stdout
    via_service = kubectl(sandbox_env, "exec", pod, "--", "wget", "-qO-", "http://iagent-web/healthz")
    assert b'"status": "ok"' in via_service.stdout
    refused = kubectl(sandbox_env, "exec", pod, "--", "wget", "-qO-", "http://localhost:9999/")
    assert refused.returncode == 1
    assert b"Connection refused" in refused.stderr


def test_interactive_shell_on_a_terminal(sandbox_env, pod):
    master, slave = pty.openpty()
    proc = subprocess.Popen(["kubectl", "exec", "-it", pod, "--", "sh"], env=sandbox_env,
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    seen = b""

    def read_until(marker: bytes, timeout: float = 30.0) -> bytes:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no {marker!r} in {seen!r}"
            ready, _, _ = select.select([master], [], [], left)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        return seen

    try:
        read_until(b"/ # ")
        os.write(master, b"echo $HOSTNAME\r")
        read_until(f"{pod}\r\n/ # ".encode())  # echoed, run, CR/LF, a new prompt
        os.write(master, b"exit 5\r")
        assert proc.wait(timeout=30) == 5
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert b"echo $HOSTNAME\r\n" in seen  # the remote terminal echoes what is typed


def test_kubectl_cp_round_trip(sandbox_env, pod, tmp_path):
    src = tmp_path / "up"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha\n")
    (src / "sub" / "b.bin").write_bytes(bytes(range(256)))
    proc = kubectl(sandbox_env, "cp", str(src), f"default/{pod}:/tmp/up")
    assert proc.returncode == 0, proc.stderr
    listing = kubectl(sandbox_env, "exec", pod, "--", "sh", "-c", "cat /tmp/up/a.txt; ls /tmp/up/sub")
    assert listing.stdout == b"alpha\nb.bin\n"
    back = tmp_path / "down"
    proc = kubectl(sandbox_env, "cp", f"default/{pod}:/tmp/up", str(back))
    assert proc.returncode == 0, proc.stderr
    assert (back / "a.txt").read_text() == "alpha\n"
    assert (back / "sub" / "b.bin").read_bytes() == bytes(range(256))


def test_exec_errors_are_the_api_servers(sandbox_env, pod):
    proc = kubectl(sandbox_env, "exec", pod, "-c", "sidecar", "--", "env")
    assert proc.returncode == 1
    assert f"container sidecar is not valid for pod {pod}".encode() in proc.stderr
    proc = kubectl(sandbox_env, "exec", "no-such-pod", "--", "env")
    assert proc.returncode == 1
    assert b'pods "no-such-pod" not found' in proc.stderr
