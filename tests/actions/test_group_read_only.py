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


def test_add_namespace_plan_warns_when_deploy_has_not_run(sandbox, sandbox_env, aws, tmp_path):
    """Before deploy there is no pod execution role: the plan says so up front instead of letting
    the run stop at the profile step, and a dry run changes nothing."""
    result = subprocess.run([sys.executable, "-m", "iagent_tui", "add-namespace", "team-y", "--dry-run",
                             "--journal-dir", str(tmp_path)],
                            cwd=REPO, env=sandbox_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "AmazonEKSFargatePodExecutionRole does not exist yet" in result.stdout
    assert aws("eks").list_fargate_profiles(clusterName=sandbox.info.cluster_name)["fargateProfileNames"] == []
