"""The product with partial permissions, end to end: the sandbox's read-only kubeconfig (ClusterRole
view) and restricted IAM user (describe/list only), as `iagent-tui sandbox --read-only-kubeconfig
--read-only-env-file` writes them. `status` and `doctor` run and say what they could not read
("not evaluated", never "passed"); `deploy --yes` stops at its first write with a sentence and
changes nothing, as the admin's boto3 and kubernetes clients confirm."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import REPO

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/bash") and not os.path.exists("/bin/bash"),
                                reason="needs bash to source the env files")


@pytest.fixture(scope="module")
def read_only_files(sandbox, tmp_path_factory):
    from iagent_sandbox.runtime import write_connection_files
    d = tmp_path_factory.mktemp("read-only")
    write_connection_files(sandbox.info, d / "ro.kubeconfig", d / "ro.env", read_only=True)
    write_connection_files(sandbox.info, d / "admin.kubeconfig", d / "admin.env")
    return d


def run(env_file, command: str, extra: str = "") -> subprocess.CompletedProcess:
    """As a user types it after `source`, with nothing else in the environment pointing anywhere."""
    command = command.replace("iagent-tui ", f"{sys.executable} -m iagent_tui ")
    script = f"unset AWS_PROFILE KUBECONFIG; source {env_file} && {extra} {command}"
    return subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=180,
                          env={k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAGENT_"))})


def cluster_state(sandbox, aws, k8s) -> dict:
    """What a deploy would change, read with the admin's own clients."""
    from kubernetes import client
    eks, iam = aws("eks"), aws("iam")
    core, coord = client.CoreV1Api(k8s), client.CoordinationV1Api(k8s)
    apps = client.AppsV1Api(k8s)
    name = sandbox.info.cluster_name
    return {
        "profiles": eks.list_fargate_profiles(clusterName=name)["fargateProfileNames"],
        "coredns": eks.describe_addon(clusterName=name, addonName="coredns")["addon"].get("configurationValues"),
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
        "policies": sorted(p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]),
        "oidc": iam.list_open_id_connect_providers()["OpenIDConnectProviderList"],
        "leases": sorted(lease.metadata.name for lease in coord.list_lease_for_all_namespaces().items),
        "service_accounts": sorted(s.metadata.name for s in core.list_namespaced_service_account("kube-system").items),
        "deployments": sorted((d.metadata.namespace, d.metadata.name, d.metadata.generation)
                              for d in apps.list_deployment_for_all_namespaces().items),
    }


def test_read_only_files_hold_the_read_only_identities(sandbox, read_only_files):
    import yaml
    config = yaml.safe_load((read_only_files / "ro.kubeconfig").read_text())
    assert config["current-context"] == "iagent-sandbox-readonly"
    assert config["users"][0]["user"]["token"] != sandbox.info.token
    assert (read_only_files / "ro.kubeconfig").stat().st_mode & 0o077 == 0
    assert (read_only_files / "ro.env").stat().st_mode & 0o077 == 0
    who = run(read_only_files / "ro.env", "kubectl auth whoami -o json && aws sts get-caller-identity")
    assert who.returncode == 0, who.stderr
    decoder = json.JSONDecoder()
    review, end = decoder.raw_decode(who.stdout)
    identity = json.loads(who.stdout[end:])
    assert review["status"]["userInfo"]["username"] == "iagent-readonly"
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/iagent-readonly"


def test_status_reports_what_was_not_permitted(read_only_files):
    out = run(read_only_files / "ro.env", "iagent-tui status --json")
    assert out.returncode == 1, out.stderr  # 1: read with gaps
    assert "Traceback" not in out.stderr
    doc = json.loads(out.stdout)
    failed = {name: s["error"] for name, s in doc["sources"].items() if not s["ok"]}
    assert "nodes" in failed and "not permitted" in failed["nodes"]
    assert 'User "iagent-readonly" cannot list resource "nodes"' in failed["nodes"]
    assert "nodes" in doc["not_evaluated"]
    assert doc["sources"]["pods"]["ok"] and doc["sources"]["deployments"]["ok"]
    text = run(read_only_files / "ro.env", "iagent-tui status")
    assert "not evaluated (data missing): " in text.stdout and "not permitted" in text.stdout
    # Unread is not empty: no "Nodes: 0" for a viewer who may not list nodes.
    assert "Nodes: not read (see Problems reading the cluster below)" in text.stdout
    assert "Problems reading the cluster" in text.stdout


def test_doctor_says_not_evaluated_never_passed(read_only_files):
    out = run(read_only_files / "ro.env", "iagent-tui doctor")
    assert "Traceback" not in out.stderr and out.returncode in (1, 2), out.stderr
    assert "Not evaluated (a source could not be read):" in out.stdout
    assert "nodes failed" in out.stdout
    junit = run(read_only_files / "ro.env", "iagent-tui doctor --format junit")
    assert "not evaluated: a source it reads could not be read" in junit.stdout


def test_eks_tokens_of_the_restricted_iam_user_are_the_read_only_group(sandbox, read_only_files):
    # What an `aws eks update-kubeconfig` user with these keys would send: an EKS token.
    token = run(read_only_files / "ro.env", f"aws eks get-token --cluster-name {sandbox.info.cluster_name}")
    assert token.returncode == 0, token.stderr
    bearer = json.loads(token.stdout)["status"]["token"]
    from kubernetes import client
    cfg = client.Configuration()
    cfg.host = sandbox.info.kube_url
    ca = read_only_files / "ca.crt"
    ca.write_bytes(sandbox.info.ca_pem)
    cfg.ssl_ca_cert = str(ca)
    cfg.api_key = {"BearerToken": bearer}
    cfg.api_key_prefix = {"BearerToken": "Bearer"}
    with client.ApiClient(cfg) as api:
        who = client.AuthenticationV1Api(api).create_self_subject_review({}).status.user_info
        assert who.username == "arn:aws:iam::123456789012:user/iagent-readonly"
        assert who.groups == ["iagent:readonly", "system:authenticated"]
        assert client.CoreV1Api(api).list_namespaced_pod("prod").items
        with pytest.raises(client.ApiException) as denied:
            client.CoreV1Api(api).list_node()
        assert denied.value.status == 403


def test_deploy_stops_at_its_first_write_and_changes_nothing(sandbox, read_only_files, aws, k8s, tmp_path):
    before = cluster_state(sandbox, aws, k8s)
    out = run(read_only_files / "ro.env", f"iagent-tui deploy --yes --journal-dir {tmp_path}")
    assert out.returncode != 0
    assert "Traceback" not in out.stdout + out.stderr
    said = out.stdout + out.stderr
    assert "deploy failed at step" in said and "not permitted" in said
    assert 'User "iagent-readonly" cannot create resource "leases"' in said
    assert cluster_state(sandbox, aws, k8s) == before
    for secret in (sandbox.info.readonly_secret_access_key, sandbox.info.readonly_token):
        assert secret not in said


def test_deploy_with_admin_kubernetes_but_restricted_aws_is_denied_at_the_first_aws_write(
        sandbox, read_only_files, aws, k8s, tmp_path):
    before = cluster_state(sandbox, aws, k8s)
    # The restricted IAM user's keys, with the admin's kubeconfig.
    out = run(read_only_files / "ro.env", f"iagent-tui deploy --yes --journal-dir {tmp_path}",
              extra=f"export KUBECONFIG={read_only_files / 'admin.kubeconfig'};")
    said = out.stdout + out.stderr
    assert out.returncode != 0 and "Traceback" not in said
    assert "deploy failed at step" in said and "not permitted" in said
    assert "arn:aws:iam::123456789012:user/iagent-readonly is not authorized to perform: " in said
    after = cluster_state(sandbox, aws, k8s)
    assert {k: v for k, v in after.items() if k != "leases"} == {k: v for k, v in before.items() if k != "leases"}
