"""`iagent-tui sandbox` as a user runs it: a process that writes a kubeconfig and an env file once
every endpoint answers, serves kubectl and the aws CLI through them, and on SIGTERM removes the files
and frees its ports. The brief's and the issue's commands are run exactly as typed after `source`."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from .conftest import REPO, wait_for


def _shell(env_file: Path, command: str) -> subprocess.CompletedProcess:
    # a clean login-like environment: only what the env file exports points anywhere
    return subprocess.run(["bash", "-c", f"unset AWS_PROFILE KUBECONFIG; source {env_file} && {command}"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def _port_open(url: str) -> bool:
    parsed = urlparse(url)
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((parsed.hostname, parsed.port)) == 0


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    d = tmp_path_factory.mktemp("sandbox-cli")
    kubeconfig, env_file = d / "kubeconfig", d / "env"
    proc = subprocess.Popen([sys.executable, "-m", "iagent_tui", "sandbox", "--speed", "50", "--seed", "3",
                             "--kubeconfig", str(kubeconfig), "--env-file", str(env_file)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: env_file.exists() or proc.poll() is not None, timeout=120, message="the env file")
        assert proc.poll() is None, proc.stderr.read()
        yield proc, kubeconfig, env_file
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_files_point_every_client_at_the_sandbox(running):
    proc, kubeconfig, env_file = running
    config = yaml.safe_load(kubeconfig.read_text())
    assert [c["name"] for c in config["contexts"]] == ["iagent-sandbox"]
    assert config["current-context"] == "iagent-sandbox"
    assert config["users"][0]["user"]["token"]
    assert kubeconfig.stat().st_mode & 0o077 == 0  # holds a token: owner only
    exports = {line.split("=", 1)[0].removeprefix("export ") for line in env_file.read_text().splitlines()
               if line.startswith("export ")}
    assert {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION",
            "KUBECONFIG", "IAGENT_CLUSTER"} <= exports
    for url in (config["clusters"][0]["cluster"]["server"],):
        assert urlparse(url).hostname == "127.0.0.1"


def test_the_issues_commands_work_as_typed(running):
    _, _, env_file = running
    nodes = _shell(env_file, "kubectl get nodes")
    assert nodes.returncode == 0, nodes.stderr
    assert nodes.stdout.split()[:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert nodes.stdout.count(" Ready ") == 2
    wide = _shell(env_file, "kubectl get pods -A -o wide")
    assert wide.returncode == 0 and "NOMINATED NODE" in wide.stdout and "iagent-api" in wide.stdout
    dns = _shell(env_file, "kubectl get pods -n kube-system -l k8s-app=kube-dns -o wide")
    assert dns.returncode == 0 and dns.stdout.count("coredns-") == 2 and "fargate-ip-" not in dns.stdout
    events = _shell(env_file, "kubectl get events -A")
    assert events.returncode == 0 and "Scheduled" in events.stdout
    applied = _shell(env_file, "kubectl apply -f manifests/sample-app.yaml")
    assert applied.returncode == 0, applied.stderr
    assert "deployment.apps/iagent-sample created" in applied.stdout
    deleted = _shell(env_file, "kubectl delete -f manifests/sample-app.yaml")
    assert deleted.returncode == 0, deleted.stderr
    cluster = _shell(env_file, "aws eks describe-cluster --name iagent-cluster")
    assert cluster.returncode == 0, cluster.stderr
    assert json.loads(cluster.stdout)["cluster"]["status"] == "ACTIVE"
    profiles = _shell(env_file, "aws eks list-fargate-profiles --cluster-name iagent-cluster")
    assert json.loads(profiles.stdout) == {"fargateProfileNames": []}
    addon = _shell(env_file, "aws eks describe-addon --cluster-name iagent-cluster --addon-name coredns")
    assert json.loads(addon.stdout)["addon"]["status"] == "ACTIVE"
    subnets = _shell(env_file, "aws ec2 describe-subnets")
    tags = [{t["Key"]: t["Value"] for t in s.get("Tags", [])} for s in json.loads(subnets.stdout)["Subnets"]]
    assert sum("kubernetes.io/role/internal-elb" in t for t in tags) == 2
    assert sum("kubernetes.io/role/elb" in t for t in tags) == 2


def test_the_banners_iagent_tui_status_works_after_sourcing_the_env_file(running):
    """The banner suggests `iagent-tui status`: the env file puts this installation's iagent-tui
    on PATH (the virtualenv is not activated after `make sandbox`)."""
    _, _, env_file = running
    found = _shell(env_file, "command -v iagent-tui")
    assert found.stdout.strip() == str(env_file.parent / "bin" / "iagent-tui")
    status = _shell(env_file, "iagent-tui status --json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["cluster"]["name"] == "iagent-cluster"


def test_sigterm_removes_the_files_and_frees_the_ports(running):
    proc, kubeconfig, env_file = running
    server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    aws = next(line.split("=", 1)[1] for line in env_file.read_text().splitlines()
               if line.startswith("export AWS_ENDPOINT_URL="))
    assert _port_open(server) and _port_open(aws)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert not kubeconfig.exists() and not env_file.exists()
    assert not _port_open(server) and not _port_open(aws)


@pytest.mark.parametrize("args, message", [
    (["--scenario", "nope"], "Invalid value for '--scenario'"),
    (["--speed", "0"], "--speed"),
    ([], "Missing option '--kubeconfig'"),
])
def test_bad_input_is_refused_without_a_traceback(tmp_path, args, message):
    files = [] if not args else ["--kubeconfig", str(tmp_path / "k"), "--env-file", str(tmp_path / "e")]
    result = subprocess.run([sys.executable, "-m", "iagent_tui", "sandbox", *args, *files],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "k").exists() and not (tmp_path / "e").exists()
