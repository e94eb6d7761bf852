"""Preflight against the sandbox, through the headless commands: a configured subnet that does not
exist or is public, a cluster that does not exist, a kubeconfig that points at another cluster and
an unwritable journal directory are each refused with one line and exit 2 before anything changes
(checked with boto3 and the official kubernetes client). A URL written differently still matches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from kubernetes import client as k8s_client

from iagent_tui.commands.actions import EXIT_INPUT, add_namespace_command, deploy_command, rollback_command, smoke_command
from iagent_tui.commands.status import status_command

CLUSTER = "iagent-cluster"
NEW_NS = "team-preflight"


@pytest.fixture(scope="module")
def env(sandbox_env, tmp_path_factory) -> dict[str, str]:
    work = tmp_path_factory.mktemp("preflight")
    return {**sandbox_env, "IAGENT_ACTION_POLL_SECONDS": "0.05", "IAGENT_JOURNAL_DIR": str(work / "journal"),
            "HOME": str(work)}


def invoke(command, args, env):
    result = CliRunner().invoke(command, args, env=env, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def state(aws, k8s) -> dict:
    eks, iam = aws("eks"), aws("iam")
    return {
        "profiles": sorted(eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"]),
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
        "namespaces": sorted(n.metadata.name for n in k8s_client.CoreV1Api(k8s).list_namespace().items),
        "deployments": sorted((d.metadata.namespace, d.metadata.name, d.metadata.generation)
                              for d in k8s_client.AppsV1Api(k8s).list_deployment_for_all_namespaces().items),
    }


def subnets(aws, tag: str) -> list[str]:
    out = aws("ec2").describe_subnets(Filters=[{"Name": f"tag:{tag}", "Values": ["1"]}])["Subnets"]
    return sorted(s["SubnetId"] for s in out)


@pytest.mark.parametrize("command, args", [(add_namespace_command, [NEW_NS, "--yes", "--restart"]),
                                           (deploy_command, ["--yes"]), (smoke_command, ["--yes"]),
                                           (rollback_command, ["--yes"])])
def test_a_subnet_that_does_not_exist_is_refused_before_any_change(command, args, env, aws, k8s):
    before = state(aws, k8s)
    result = invoke(command, args, {**env, "IAGENT_FARGATE__SUBNETS": "subnet-0123456789abcdef0"})
    assert result.exit_code == EXIT_INPUT, result.output
    assert "fargate.subnets: subnet subnet-0123456789abcdef0 does not exist in eu-central-1" in result.output
    assert "Plan:" not in result.output
    assert state(aws, k8s) == before
    assert NEW_NS not in state(aws, k8s)["namespaces"]


def test_a_public_subnet_is_refused_naming_its_route_to_the_internet_gateway(env, aws, k8s):
    public = subnets(aws, "kubernetes.io/role/elb")[0]
    before = state(aws, k8s)
    result = invoke(add_namespace_command, [NEW_NS, "--yes"], {**env, "IAGENT_FARGATE__SUBNETS": public})
    assert result.exit_code == EXIT_INPUT, result.output
    line = result.output.strip().splitlines()[-1]
    assert f"subnet {public} is not private" in line and "internet gateway igw-" in line
    assert state(aws, k8s) == before


def test_private_subnets_pass_and_the_plan_uses_them(env, aws):
    private = subnets(aws, "kubernetes.io/role/internal-elb")
    result = invoke(add_namespace_command, [NEW_NS, "--dry-run"], {**env, "IAGENT_FARGATE__SUBNETS": ",".join(private)})
    assert result.exit_code == 0, result.output
    assert f"subnets {', '.join(private)}" in result.output


def test_a_cluster_that_does_not_exist_is_refused_with_eks_words(env, aws, k8s):
    before = state(aws, k8s)
    result = invoke(deploy_command, ["--yes", "--cluster", "other"], env)
    assert result.exit_code == EXIT_INPUT, result.output
    assert "No cluster found for name: other." in result.output
    assert state(aws, k8s) == before


@pytest.fixture(scope="module")
def second_cluster(aws):
    """Another EKS cluster in the same account and region, whose API server is not the sandbox's."""
    eks, ec2 = aws("eks"), aws("ec2")
    mine = eks.describe_cluster(name=CLUSTER)["cluster"]
    eks.create_cluster(name="second", roleArn=mine["roleArn"],
                       resourcesVpcConfig={"subnetIds": mine["resourcesVpcConfig"]["subnetIds"]})
    return eks.describe_cluster(name="second")["cluster"]


def test_a_kubeconfig_of_another_cluster_is_refused_naming_both(second_cluster, env, aws, k8s, sandbox):
    before = state(aws, k8s)
    for command, args in ((deploy_command, ["--yes"]), (add_namespace_command, [NEW_NS, "--yes"]),
                          (rollback_command, ["--yes"]), (smoke_command, ["--yes"])):
        result = invoke(command, [*args, "--cluster", "second"], env)
        assert result.exit_code == EXIT_INPUT, result.output
        line = result.output.strip().splitlines()[-1]
        assert f"points at {sandbox.info.kube_url}" in line
        assert f"EKS cluster second's endpoint is {second_cluster['endpoint']}" in line
        assert "--context" in line and "aws eks update-kubeconfig --name second" in line
    assert state(aws, k8s) == before


def test_status_shows_the_mismatch(second_cluster, env):
    result = invoke(status_command, ["--json", "--cluster", "second"], env)
    conn = json.loads(result.output)["connection"]
    assert conn["matches_cluster"] is False and "EKS cluster second's endpoint" in conn["mismatch"]
    assert "WRONG CLUSTER" in invoke(status_command, ["--cluster", "second"], env).output
    ok = json.loads(invoke(status_command, ["--json"], env).output)["connection"]
    assert ok["matches_cluster"] is True and ok["mismatch"] is None
    missing = json.loads(invoke(status_command, ["--json", "--cluster", "nope"], env).output)["connection"]
    assert missing["matches_cluster"] is False and "EKS has no cluster nope" in missing["mismatch"]


def test_the_same_server_written_differently_matches(env, sandbox_files, tmp_path_factory):
    kubeconfig, _ = sandbox_files
    config = yaml.safe_load(kubeconfig.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    config["clusters"][0]["cluster"]["server"] = server + "/"  # case and port: tests/test_cluster_match.py
    moved = tmp_path_factory.mktemp("kc") / "kubeconfig"
    moved.write_text(yaml.safe_dump(config))
    result = invoke(deploy_command, ["--dry-run", "--kubeconfig", str(moved)], env)
    assert result.exit_code == 0, result.output
    assert "Plan: deploy" in result.output


def test_an_unwritable_journal_directory_is_refused_naming_the_setting(env, aws, k8s, tmp_path_factory):
    blocker = tmp_path_factory.mktemp("jd") / "a-file"
    blocker.write_text("")  # a directory cannot be made under a file, whoever runs the test (root too)
    before = state(aws, k8s)
    result = invoke(add_namespace_command, [NEW_NS, "--yes"], {**env, "IAGENT_JOURNAL_DIR": str(blocker / "journal")})
    assert result.exit_code == EXIT_INPUT, result.output
    line = result.output.strip().splitlines()[-1]
    assert str(blocker / "journal") in line and "journal_dir" in line
    assert state(aws, k8s) == before


def test_a_missing_journal_directory_is_created(env, tmp_path_factory):
    journal = tmp_path_factory.mktemp("jd2") / "deep" / "journal"
    result = invoke(deploy_command, ["--yes", "--read-only"], {**env, "IAGENT_JOURNAL_DIR": str(journal)})
    assert result.exit_code == 1  # read-only refuses, but the refusal is journaled
    assert list(journal.glob("*-deploy.jsonl"))
