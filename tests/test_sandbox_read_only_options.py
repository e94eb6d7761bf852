"""`iagent-tui sandbox --read-only-kubeconfig --read-only-env-file`: the read-only identities' files
as an operator gets them (0600, own context, restricted keys), refused when given half, removed on
SIGTERM; and the admin's env file no longer carries any key from the source code."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import yaml

from .conftest import REPO, wait_for


def _exports(path) -> dict[str, str]:
    return {line.split("=", 1)[0].removeprefix("export "): line.split("=", 1)[1]
            for line in path.read_text().splitlines() if line.startswith("export ")}


@pytest.mark.parametrize("given, missing", [("--read-only-kubeconfig", "--read-only-env-file"),
                                            ("--read-only-env-file", "--read-only-kubeconfig")])
def test_half_the_read_only_files_is_refused(tmp_path, given, missing):
    result = subprocess.run([sys.executable, "-m", "iagent_tui", "sandbox", "--kubeconfig", str(tmp_path / "k"),
                             "--env-file", str(tmp_path / "e"), given, str(tmp_path / "ro")],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{given} needs {missing} too" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_read_only_file_may_not_be_another_output(tmp_path):
    result = subprocess.run([sys.executable, "-m", "iagent_tui", "sandbox", "--kubeconfig", str(tmp_path / "k"),
                             "--env-file", str(tmp_path / "e"), "--read-only-kubeconfig", str(tmp_path / "k"),
                             "--read-only-env-file", str(tmp_path / "ro.env")],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "is also the --kubeconfig" in result.stderr


def test_sandbox_writes_the_read_only_files_and_removes_them(tmp_path):
    files = {name: tmp_path / name for name in ("kubeconfig", "env", "ro.kubeconfig", "ro.env")}
    proc = subprocess.Popen([sys.executable, "-m", "iagent_tui", "sandbox", "--speed", "50", "--seed", "4",
                             "--kubeconfig", str(files["kubeconfig"]), "--env-file", str(files["env"]),
                             "--read-only-kubeconfig", str(files["ro.kubeconfig"]),
                             "--read-only-env-file", str(files["ro.env"])],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: files["ro.env"].exists() or proc.poll() is not None, timeout=120,
                 message="the read-only env file")
        assert proc.poll() is None, proc.stderr.read()
        for path in files.values():
            assert path.stat().st_mode & 0o077 == 0, path
        admin, ro = _exports(files["env"]), _exports(files["ro.env"])
        assert ro["KUBECONFIG"] == str(files["ro.kubeconfig"].resolve())
        assert ro["AWS_ENDPOINT_URL"] == admin["AWS_ENDPOINT_URL"]
        assert ro["AWS_ACCESS_KEY_ID"] != admin["AWS_ACCESS_KEY_ID"]
        assert admin["AWS_ACCESS_KEY_ID"].startswith("AKIA") and admin["AWS_ACCESS_KEY_ID"] != "AKIAIAGENTSANDBOX001"
        config = yaml.safe_load(files["ro.kubeconfig"].read_text())
        assert config["current-context"] == "iagent-sandbox-readonly"
        assert [u["name"] for u in config["users"]] == ["iagent-sandbox-readonly"]
        admin_config = yaml.safe_load(files["kubeconfig"].read_text())
        assert config["users"][0]["user"]["token"] != admin_config["users"][0]["user"]["token"]
        # The read-only kubeconfig works as written (whoami through the official client).
        from kubernetes import client, config
        with config.new_client_from_config(config_file=str(files["ro.kubeconfig"])) as api:
            who = client.AuthenticationV1Api(api).create_self_subject_review({}).status.user_info
        assert who.username == "iagent-readonly"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        assert "Read-only       kubeconfig" in out
        assert not any(path.exists() for path in files.values())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
