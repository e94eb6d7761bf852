"""`iagent-tui --read-only deploy --yes`: the group's read-only flag reaches the action runner just
like the command's own flag (k9s' leaking read-only mode is the failure this guards against)."""

from __future__ import annotations

import subprocess
import sys

from ..conftest import REPO


def test_read_only_before_the_command_changes_nothing(sandbox, sandbox_env, aws, k8s, tmp_path):
    from kubernetes import client

    iam, eks = aws("iam"), aws("eks")
    roles_before = sorted(r["RoleName"] for r in iam.list_roles()["Roles"])
    sas_before = sorted(s.metadata.name for s in client.CoreV1Api(k8s).list_namespaced_service_account("kube-system").items)

    result = subprocess.run([sys.executable, "-m", "iagent_tui", "--read-only", "deploy", "--yes",
                             "--journal-dir", str(tmp_path)],
                            cwd=REPO, env=sandbox_env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Read-only mode" in result.stdout and "nothing was changed" in result.stdout
    assert sorted(r["RoleName"] for r in iam.list_roles()["Roles"]) == roles_before
    assert eks.list_fargate_profiles(clusterName=sandbox.info.cluster_name)["fargateProfileNames"] == []
    assert sorted(s.metadata.name for s in
                  client.CoreV1Api(k8s).list_namespaced_service_account("kube-system").items) == sas_before
