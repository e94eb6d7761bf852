"""`iagent-tui status --json` loads only what it uses (issue 10): a real run against the sandbox, in
a fresh interpreter, then a look at sys.modules. Not the dashboard (Textual), not the sandbox or
moto, not the actions framework of the change commands, and not kubernetes_asyncio, whose client
package loads every generated model on import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOT_FOR_STATUS = ("textual", "moto", "iagent_sandbox", "kubernetes_asyncio", "kubernetes", "actions", "boto3")

PROBE = """
import json, sys
from iagent_tui.cli import main
try:
    main.main(["status", "--json"], prog_name="iagent-tui")
except SystemExit as done:
    code = done.code
loaded = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


def test_status_json_loads_neither_the_ui_nor_the_sandbox_nor_kubernetes_asyncio(sandbox, sandbox_files, tmp_path):
    kubeconfig, _ = sandbox_files
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAGENT_", "KUBECONFIG"))}
    env.update(sandbox.info.env(kubeconfig))
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)
    result = json.loads(done.stderr.strip().splitlines()[-1])
    doc = json.loads(done.stdout)
    assert result["code"] == 0 and doc["cluster"]["name"] == sandbox.info.cluster_name
    assert [m for m in NOT_FOR_STATUS if m in result["loaded"]] == []
