"""The dashboard's `s` key against the sandbox: the exact command the key runs (PodShell, with the
dashboard's kubeconfig and context) opens a shell in the pod. The app itself cannot hand a
terminal over inside a test, so the command is run here: once on a pseudo-terminal as a user's
terminal would run it, once with its input piped."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from types import SimpleNamespace

import pytest
from kubernetes import client

from iagent_tui.wiring import PodShell

from tests.conftest import requires_kubectl

pytestmark = requires_kubectl


@pytest.fixture(scope="module")
def shell_command(sandbox_files, k8s) -> tuple[list[str], str]:
    kubeconfig, _ = sandbox_files
    pods = client.CoreV1Api(k8s).list_namespaced_pod(
        "prod", label_selector="app.kubernetes.io/name=iagent-api").items
    pod = sorted(p.metadata.name for p in pods if p.status.phase == "Running")[0]
    settings = SimpleNamespace(kubeconfig=str(kubeconfig), kube_context=None)
    connection = SimpleNamespace(kube=SimpleNamespace(context="iagent-sandbox"))
    return PodShell.for_connection(settings, connection).command("prod", pod), pod


def _env() -> dict[str, str]:
    # Only the command's own flags point kubectl at the sandbox, as in the dashboard.
    return {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}


def test_the_shell_key_command_on_a_terminal(shell_command):
    command, pod = shell_command
    assert command[-6:] == ["-it", "-n", "prod", pod, "--", "sh"]
    master, slave = pty.openpty()
    proc = subprocess.Popen(command, env=_env(), stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        sent = False
        while proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
            if not sent and b"/ # " in seen:
                os.write(master, b"echo ok-$HOSTNAME; exit\r")
                sent = True
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert f"ok-{pod}\r\n".encode() in seen


def test_the_shell_key_command_with_piped_input(shell_command):
    command, pod = shell_command
    proc = subprocess.run(command, env=_env(), input=b"echo ok; cat /etc/hostname\n",
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.replace(b"\r\n", b"\n").endswith(f"ok\n{pod}\n".encode())
    # kubectl says why it did not allocate a terminal, as it does for any piped `exec -it`
    assert b"Unable to use a TTY" in proc.stderr
