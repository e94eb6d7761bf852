"""`iagent-tui sandbox` refuses bad options before it starts: one click usage error (exit 2), no
traceback, no file written."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from iagent_tui.commands.sandbox import sandbox_command


@pytest.fixture
def paths(tmp_path):
    return tmp_path / "out" / "kubeconfig", tmp_path / "out" / "env"


def run(args):
    return CliRunner().invoke(sandbox_command, args, catch_exceptions=False)


@pytest.mark.parametrize("flags, says", [
    (["--aws-error-rate", "0.7", "--aws-throttle-rate", "0.5"], "together they must be at most 1"),
    (["--aws-error-rate", "nan"], "--aws-error-rate"),
    (["--aws-latency", "inf"], "--aws-latency"),
    (["--aws-latency", "-1"], "--aws-latency"),
    (["--speed", "0"], "--speed"),
    (["--speed", "nan"], "--speed"),
])
def test_bad_fault_and_speed_flags(paths, flags, says):
    kubeconfig, env = paths
    result = run(["--kubeconfig", str(kubeconfig), "--env-file", str(env), *flags])
    assert result.exit_code == 2, result.output
    assert says in result.output and "Traceback" not in result.output
    assert not kubeconfig.parent.exists()


def test_unwritable_output_paths(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    ok = tmp_path / "ok"
    for args, hint in ((["--kubeconfig", str(blocker / "kubeconfig"), "--env-file", str(ok / "env")], "--kubeconfig"),
                       (["--kubeconfig", str(ok / "kubeconfig"), "--env-file", str(blocker / "env")], "--env-file"),
                       (["--kubeconfig", str(ok / "same"), "--env-file", str(ok / "same")], "--kubeconfig")):
        result = run(args)
        assert result.exit_code == 2, result.output
        assert hint in result.output and "Traceback" not in result.output
    (tmp_path / "bin").write_text("")  # where the env file's helm would go
    result = run(["--kubeconfig", str(ok / "kubeconfig"), "--env-file", str(tmp_path / "env")])
    assert result.exit_code == 2 and "helm" in result.output
    assert not ok.exists() and not (tmp_path / "env").exists()
