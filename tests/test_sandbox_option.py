"""`--sandbox` and `iagent-tui sandbox` from the product's side: the connection reaches the command
through the click context (the process environment is left as it was), and without the sandbox
extra both say in one line how to install it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from iagent_tui.cli import main
from iagent_tui.commands.sandbox import HELM_SHIM, INSTALL_HINT, SCENARIOS

from .conftest import REPO, TEST_SPEED


def test_the_command_lines_scenarios_are_the_sandboxs():
    from iagent_sandbox.runtime import SCENARIOS as SANDBOX_SCENARIOS

    assert SCENARIOS == SANDBOX_SCENARIOS


def test_the_helm_shim_runs_the_sandbox_package():
    assert "-m iagent_sandbox.helm_shim" in HELM_SHIM


def test_sandbox_option_leaves_the_process_environment_alone(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)  # no iagent.yaml of the checkout's
    monkeypatch.setenv("IAGENT_SANDBOX_SPEED", str(TEST_SPEED))
    for name in ("KUBECONFIG", "AWS_ENDPOINT_URL", "IAGENT_CLUSTER"):
        monkeypatch.delenv(name, raising=False)
    before = dict(os.environ)

    code = main.main(["--sandbox", "status", "--json"], prog_name="iagent-tui", standalone_mode=False)

    assert dict(os.environ) == before
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert code in (0, 1), out
    assert doc["cluster"]["name"] == "iagent-cluster" and doc["cluster"]["status"] == "ACTIVE"
    assert doc["nodes"] and doc["pods"]  # read from the sandbox, not from whatever the shell points at


def _without_moto(args: list[str]) -> subprocess.CompletedProcess:
    # A None entry in sys.modules makes `import moto` fail and find_spec() report it absent, as in
    # an environment installed without the sandbox extra.
    code = ("import sys\nsys.modules['moto'] = None\nfrom iagent_tui.cli import main\n"
            f"sys.argv = ['iagent-tui', *{args!r}]\nmain()\n")
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args", [["--sandbox", "status"], ["status", "--sandbox"],
                                  ["sandbox", "--kubeconfig", "k", "--env-file", "e"]])
def test_without_the_sandbox_extra_one_line_says_how_to_install_it(args, tmp_path):
    result = _without_moto(args)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"Error: {INSTALL_HINT}"]
    assert "Traceback" not in result.stderr and result.stdout == ""
