"""End to end against the sandbox, through the headless commands: bad input and read-only change
nothing; deploy interrupted after its first profile resumes; a repeated deploy is a no-op; smoke
gets HTTP 200 from the ALB; add-namespace moves a namespace's pods; rollback puts everything back
on EC2. Every effect is checked with boto3 and the official kubernetes client, not the product's
services. The tests share one sandbox and run in order (each builds on the cluster the previous
one left)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from kubernetes import client as k8s_client

from iagent_tui.commands.actions import (EXIT_FAILED, EXIT_INPUT, add_namespace_command, deploy_command,
                                         rollback_command, smoke_command)
from tests.conftest import wait_for

CLUSTER = "iagent-cluster"
PROFILES = {"fp-default", "fp-prod", "fp-staging", "fp-kube-system"}
POD_ROLE = "AmazonEKSFargatePodExecutionRole"
LBC_ROLE = "AmazonEKSLoadBalancerControllerRole"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("actions")


@pytest.fixture(scope="module")
def env(sandbox_env, workdir) -> dict[str, str]:
    """The sandbox's env plus the helm shim on PATH (as `iagent-tui sandbox`'s env file sets up)
    and a fast poll for the sped-up clock."""
    from iagent_tui.commands.sandbox import _write_helm_shim

    _write_helm_shim(workdir / "bin")
    return {**sandbox_env, "PATH": f"{workdir / 'bin'}:{sandbox_env['PATH']}", "IAGENT_ACTION_POLL_SECONDS": "0.05",
            "IAGENT_JOURNAL_DIR": str(workdir / "journal"), "HOME": str(workdir)}


def invoke(command, args: list[str], env: dict[str, str], input: str | None = None):
    result = CliRunner().invoke(command, args, env=env, input=input, catch_exceptions=False)
    return result


def cluster_state(aws, k8s) -> dict:
    """What the actions may change, read with boto3 and the kubernetes client."""
    eks, iam = aws("eks"), aws("iam")
    profiles = {}
    for name in eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"]:
        p = eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName=name)["fargateProfile"]
        profiles[name] = (p["status"], json.dumps(p["selectors"], sort_keys=True), tuple(p["subnets"]))
    roles = {}
    for role in iam.list_roles()["Roles"]:
        attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
        roles[role["RoleName"]] = (json.dumps(role["AssumeRolePolicyDocument"], sort_keys=True),
                                   tuple(sorted(a["PolicyArn"] for a in attached)))
    addon = eks.describe_addon(clusterName=CLUSTER, addonName="coredns")["addon"]
    core, apps = k8s_client.CoreV1Api(k8s), k8s_client.AppsV1Api(k8s)
    return {
        "profiles": profiles,
        "roles": roles,
        "oidc": sorted(p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]),
        "policies": sorted(p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]),
        "coredns": (addon.get("configurationValues"), addon["status"]),
        "namespaces": sorted(n.metadata.name for n in core.list_namespace().items),
        "service_accounts": sorted((s.metadata.name, json.dumps(s.metadata.annotations or {}, sort_keys=True))
                                   for s in core.list_namespaced_service_account("kube-system").items),
        "deployments": sorted((d.metadata.namespace, d.metadata.name, d.metadata.generation)
                              for d in apps.list_deployment_for_all_namespaces().items),
    }


def pods_of(k8s, namespace: str, selector: str) -> list:
    return [p for p in k8s_client.CoreV1Api(k8s).list_namespaced_pod(namespace, label_selector=selector).items
            if p.metadata.deletion_timestamp is None]


def all_on(pods: list, fargate: bool) -> bool:
    return bool(pods) and all((p.spec.node_name or "").startswith("fargate-ip-") == fargate
                              and p.status.phase == "Running" for p in pods)


def journals(env: dict[str, str], action: str) -> list[list[dict]]:
    from actions.journal import read
    return [read(p) for p in sorted(Path(env["IAGENT_JOURNAL_DIR"]).glob(f"*-{action}.jsonl"))]


# -- bad input and read-only: nothing changes -------------------------------------------------------

@pytest.mark.parametrize("name", ["Team_X", "kube-extra", "a" * 64, "-lead", "trail-"])
def test_invalid_namespace_names_are_refused_before_any_call(name, env, aws, k8s):
    before = cluster_state(aws, k8s)
    result = invoke(add_namespace_command, [name, "--yes"], env)
    assert result.exit_code == EXIT_INPUT, result.output
    assert "namespace" in result.output.lower()
    assert cluster_state(aws, k8s) == before


def test_invalid_config_is_refused_with_exit_2(env, aws, k8s):
    before = cluster_state(aws, k8s)
    result = invoke(deploy_command, ["--yes"], {**env, "IAGENT_FARGATE__NAMESPACES": "prod,Not_A_Namespace"})
    assert result.exit_code == EXIT_INPUT
    assert "IAGENT_FARGATE__NAMESPACES" in result.output and "Not_A_Namespace" in result.output
    assert cluster_state(aws, k8s) == before


def test_read_only_refuses_every_change_but_shows_the_plan(env, aws, k8s):
    before = cluster_state(aws, k8s)
    result = invoke(deploy_command, ["--yes", "--read-only"], env)
    assert result.exit_code == EXIT_FAILED
    assert "Create Fargate profile fp-prod" in result.output  # the plan is shown
    assert "Read-only mode: refused to create Fargate profile fp-prod" in result.output
    assert cluster_state(aws, k8s) == before
    (record,) = [j[-1] for j in journals(env, "deploy")]
    assert record["result"] == "refused"


def test_unconfirmed_deploy_changes_nothing(env, aws, k8s):
    before = cluster_state(aws, k8s)
    result = invoke(deploy_command, [], env, input="n\n")
    assert "Apply this plan?" in result.output and "nothing was changed" in result.output
    assert result.exit_code == EXIT_FAILED
    assert cluster_state(aws, k8s) == before


def test_dry_run_prints_the_plan_only(env, aws, k8s):
    before = cluster_state(aws, k8s)
    result = invoke(deploy_command, ["--dry-run"], env)
    assert result.exit_code == 0
    assert "helm upgrade --install aws-load-balancer-controller eks/aws-load-balancer-controller" in result.output
    assert cluster_state(aws, k8s) == before


# -- deploy: interrupted, resumed, repeated -----------------------------------------------------------

def test_interrupted_deploy_stops_between_steps_and_the_next_run_finishes(env, aws, k8s, monkeypatch, sandbox_files):
    """Cancel the run (what Ctrl-C does to asyncio.run) right after the first profile is ACTIVE."""
    from actions.context import PollPolicy, open_context
    from actions.deploy import DeployAction
    from actions.runner import ActionRunner
    from iagent_tui.config import load_settings
    from iagent_tui.services.connection import build_connection

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings(overrides={"kubeconfig": str(sandbox_files[0])}, env=env)

    async def run_until_first_profile() -> ActionRunner:
        connection = await build_connection(settings)
        async with open_context(settings, connection, PollPolicy(0.05, 0.25, 60), env) as ctx:
            action = DeployAction(ctx)
            plan = await action.plan()
            runner = ActionRunner(settings.journal_dir, False, CLUSTER)

            async def consume() -> None:
                async for event in runner.run(action, plan):
                    if event.kind == "step_finished" and event.step_id == "profile:fp-default":
                        task.cancel()

            task = asyncio.create_task(consume())
            with pytest.raises(asyncio.CancelledError):
                await task
            return runner

    runner = asyncio.run(run_until_first_profile())
    assert runner.last.result == "cancelled"
    eks = aws("eks")
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == ["fp-default"]
    last = journals(env, "deploy")[-1]
    # The cancel lands at the next step's first await: it stopped in fp-prod before creating it.
    assert last[-1]["result"] == "cancelled" and last[-1]["stopped_at"] == "profile:fp-prod"
    assert any(r.get("kind") == "step_finished" and r.get("step_id") == "profile:fp-default" for r in last)

    result = invoke(deploy_command, ["--yes"], env)
    assert result.exit_code == 0, result.output
    assert "Create Fargate profile fp-default: already done" in result.output
    assert "*** deploy finished." in result.output


def test_deploy_effects_as_aws_and_kubernetes_see_them(aws, k8s, sandbox):
    eks, iam, ec2 = aws("eks"), aws("iam"), aws("ec2")
    role = iam.get_role(RoleName=POD_ROLE)["Role"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "eks-fargate-pods.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == \
        f"arn:aws:eks:eu-central-1:{role['Arn'].split(':')[4]}:fargateprofile/{CLUSTER}/*"
    attached = iam.list_attached_role_policies(RoleName=POD_ROLE)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == ["arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"]

    names = set(eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"])
    assert names == PROFILES
    private = {s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]
               if {"Key": "kubernetes.io/role/internal-elb", "Value": "1"} in (s.get("Tags") or [])}
    for name in names:
        p = eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName=name)["fargateProfile"]
        assert p["status"] == "ACTIVE" and p["podExecutionRoleArn"] == role["Arn"]
        assert set(p["subnets"]) <= private and p["subnets"]
    kube_system = eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="fp-kube-system")["fargateProfile"]
    assert {json.dumps(s, sort_keys=True) for s in kube_system["selectors"]} == {
        json.dumps({"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}}, sort_keys=True),
        json.dumps({"namespace": "kube-system", "labels": {"app.kubernetes.io/name": "aws-load-balancer-controller"}},
                   sort_keys=True)}

    addon = eks.describe_addon(clusterName=CLUSTER, addonName="coredns")["addon"]
    assert json.loads(addon["configurationValues"])["computeType"] == "Fargate"
    assert all_on(pods_of(k8s, "kube-system", "k8s-app=kube-dns"), fargate=True)

    issuer = eks.describe_cluster(name=CLUSTER)["cluster"]["identity"]["oidc"]["issuer"].removeprefix("https://")
    (provider,) = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert provider["Arn"].endswith(f":oidc-provider/{issuer}")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])["ClientIDList"] == ["sts.amazonaws.com"]
    lbc = iam.get_role(RoleName=LBC_ROLE)["Role"]
    (trust,) = lbc["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"]["Federated"] == provider["Arn"]
    assert trust["Condition"]["StringEquals"][f"{issuer}:sub"] == "system:serviceaccount:kube-system:aws-load-balancer-controller"
    assert trust["Condition"]["StringEquals"][f"{issuer}:aud"] == "sts.amazonaws.com"
    assert [a["PolicyName"] for a in iam.list_attached_role_policies(RoleName=LBC_ROLE)["AttachedPolicies"]] == \
        ["AWSLoadBalancerControllerIAMPolicy"]

    core, apps = k8s_client.CoreV1Api(k8s), k8s_client.AppsV1Api(k8s)
    sa = core.read_namespaced_service_account("aws-load-balancer-controller", "kube-system")
    assert sa.metadata.annotations["eks.amazonaws.com/role-arn"] == lbc["Arn"]
    controller = apps.read_namespaced_deployment("aws-load-balancer-controller", "kube-system")
    args = controller.spec.template.spec.containers[0].args
    vpc = eks.describe_cluster(name=CLUSTER)["cluster"]["resourcesVpcConfig"]["vpcId"]
    assert {f"--cluster-name={CLUSTER}", "--aws-region=eu-central-1", f"--aws-vpc-id={vpc}"} <= set(args)
    assert controller.spec.template.spec.service_account_name == "aws-load-balancer-controller"
    assert controller.status.ready_replicas == 2
    assert [s.metadata.name for s in core.list_namespaced_secret("kube-system", label_selector="owner=helm").items] == \
        ["sh.helm.release.v1.aws-load-balancer-controller.v1"]


def test_repeated_deploy_reports_nothing_to_do_and_changes_nothing(env, aws, k8s):
    before = cluster_state(aws, k8s)
    result = invoke(deploy_command, ["--yes"], env)
    assert result.exit_code == 0
    assert "Nothing to do" in result.output
    assert "==>" not in result.output  # no step ran
    assert cluster_state(aws, k8s) == before


# -- smoke, add-namespace, rollback ----------------------------------------------------------------------

def test_smoke_gets_200_from_the_alb_with_pods_on_fargate(env, k8s):
    result = invoke(smoke_command, ["--yes", "--requests", "3"], env)
    assert result.exit_code == 0, result.output
    assert result.output.count("-> 200 in") == 3
    assert "Smoke test PASSED: 3/3" in result.output
    assert "target)" in result.output  # each pod's start time against the target
    assert all_on(pods_of(k8s, "default", "app.kubernetes.io/name=iagent-sample"), fargate=True)
    ingress = k8s_client.NetworkingV1Api(k8s).read_namespaced_ingress("iagent-sample", "default")
    assert ingress.status.load_balancer.ingress[0].hostname.endswith(".elb.amazonaws.com")


def _team_deployment() -> dict:
    labels = {"app": "team-web"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "team-web", "namespace": "team-x"},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "public.ecr.aws/nginx/nginx:1.27-alpine",
                                         "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}}]}}}}


def test_add_namespace_creates_its_profile_and_moves_restarted_pods(env, aws, k8s):
    core, apps = k8s_client.CoreV1Api(k8s), k8s_client.AppsV1Api(k8s)
    core.create_namespace({"metadata": {"name": "team-x"}})
    apps.create_namespaced_deployment("team-x", _team_deployment())
    wait_for(lambda: all_on(pods_of(k8s, "team-x", "app=team-web"), fargate=False), message="team-x pods on EC2")

    result = invoke(add_namespace_command, ["team-x", "--yes", "--restart"], env)
    assert result.exit_code == 0, result.output
    assert "reschedules: team-x/team-web-" in result.output
    profile = aws("eks").describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="fp-team-x")["fargateProfile"]
    # label-scoped (the default): the namespace plus the move label, which the rollout added
    assert profile["status"] == "ACTIVE" and profile["selectors"] == [
        {"namespace": "team-x", "labels": {"iagent.io/compute": "fargate"}}]
    assert all_on(pods_of(k8s, "team-x", "app=team-web"), fargate=True)
    web = k8s_client.AppsV1Api(k8s).read_namespaced_deployment("team-web", "team-x")
    assert web.spec.template.metadata.labels["iagent.io/compute"] == "fargate"

    again = invoke(add_namespace_command, ["team-x", "--yes"], env)
    assert again.exit_code == 0 and "Nothing to do" in again.output


def test_add_namespace_prod_restarts_what_fargate_runs_and_leaves_the_ebs_statefulset_on_ec2(env, aws, k8s):
    core = k8s_client.CoreV1Api(k8s)
    vectordb = core.read_namespaced_pod("iagent-vectordb-0", "prod")
    claim = core.read_namespaced_persistent_volume_claim(vectordb.spec.volumes[0].persistent_volume_claim.claim_name, "prod")
    volume = core.read_persistent_volume(claim.spec.volume_name)
    assert volume.spec.csi.driver == "ebs.csi.aws.com"  # the fact the pre-flight must catch

    result = invoke(add_namespace_command, ["prod", "--yes", "--restart"], env)
    assert result.exit_code == 0, result.output
    assert "StatefulSet prod/iagent-vectordb cannot run on Fargate (FG008: PVC " in result.output
    move_line = next(line for line in result.output.splitlines() if "a rolling update, replicas keep serving" in line)
    assert "iagent-vectordb" not in move_line and "Deployment/iagent-api" in move_line
    assert all_on(pods_of(k8s, "prod", "app.kubernetes.io/name=iagent-api"), fargate=True)
    after = core.read_namespaced_pod("iagent-vectordb-0", "prod")
    assert after.metadata.uid == vectordb.metadata.uid  # never restarted
    assert after.status.phase == "Running" and not after.spec.node_name.startswith("fargate-")


def test_rollback_asks_for_the_cluster_name(env, aws, k8s):
    before = cluster_state(aws, k8s)
    result = invoke(rollback_command, [], env, input="not-the-cluster\n")
    assert "Type the cluster name" in result.output and result.exit_code == EXIT_FAILED
    assert cluster_state(aws, k8s) == before


def test_rollback_moves_everything_back_to_ec2(env, aws, k8s):
    result = invoke(rollback_command, ["--yes"], env)
    assert result.exit_code == 0, result.output
    eks = aws("eks")
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []
    addon = eks.describe_addon(clusterName=CLUSTER, addonName="coredns")["addon"]
    assert "computeType" not in json.loads(addon.get("configurationValues") or "{}")
    (group,) = eks.list_nodegroups(clusterName=CLUSTER)["nodegroups"]
    assert eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName=group)["nodegroup"]["scalingConfig"]["desiredSize"] >= 2
    assert all_on(pods_of(k8s, "kube-system", "k8s-app=kube-dns"), fargate=False)
    assert all_on(pods_of(k8s, "team-x", "app=team-web"), fargate=False)
    assert all_on(pods_of(k8s, "default", "app.kubernetes.io/name=iagent-sample"), fargate=False)
    # The order that avoids downtime: CoreDNS leaves Fargate before any profile is deleted, and the
    # workloads roll back to EC2 before their profile goes.
    out = result.output
    assert out.index("Updated the CoreDNS add-on") < out.index("Fargate profile fp-default deletion requested")
    assert out.index("Deployment team-x/team-web: pod template changed") < out.index(
        "Fargate profile fp-team-x deletion requested")
    # The measured result: no workload with two or more replicas was ever without a ready replica.
    gaps = {m[0]: (float(m[1]), int(m[2])) for m in re.findall(
        r"(\S+): ([\d.]+) s without a ready replica \((\d+) replica", out)}
    assert {"Deployment/team-x/team-web", "Deployment/prod/iagent-api", "Deployment/kube-system/aws-load-balancer-controller"} <= set(gaps)
    assert {key: seconds for key, (seconds, replicas) in gaps.items() if replicas >= 2 and seconds > 0} == {}


def test_journals_record_who_plan_steps_result_and_no_secrets(env, sandbox):
    files = sorted(Path(env["IAGENT_JOURNAL_DIR"]).glob("*.jsonl"))
    assert {p.name.rsplit("-", 1)[-1] for p in files} >= {"deploy.jsonl", "smoke.jsonl", "rollback.jsonl"}
    text = "\n".join(p.read_text() for p in files)
    info = sandbox.info
    for secret in (info.secret_access_key, info.access_key_id, info.token):
        assert secret not in text
    from actions.journal import read
    rollback = read(sorted(Path(env["IAGENT_JOURNAL_DIR"]).glob("*-rollback.jsonl"))[-1])
    start, result = rollback[0], rollback[-1]
    assert start["type"] == "start" and "@" in start["who"] and start["cluster"] == CLUSTER
    assert [s["id"] for s in start["plan"]["steps"]][:2] == ["nodegroup:" + start["plan"]["steps"][0]["id"].split(":")[1], "coredns"]
    assert result == {**result, "type": "result", "result": "ok"}
    started = [r["step_id"] for r in rollback if r.get("kind") == "step_started"]
    finished = [r["step_id"] for r in rollback if r.get("kind") == "step_finished"]
    assert started == finished and "delete-profile:fp-team-x" in started


# -- the sandbox's helm, and deploy without helm ---------------------------------------------------------

def test_helm_shim_upgrades_reports_status_and_refuses_bad_values(sandbox_files, k8s, aws, capsys):
    from iagent_sandbox.helm_shim import main as helm

    kubeconfig = str(sandbox_files[0])
    core = k8s_client.CoreV1Api(k8s)
    base = ["--kubeconfig", kubeconfig, "upgrade", "--install", "aws-load-balancer-controller",
            "eks/aws-load-balancer-controller", "-n", "kube-system", "--set", "serviceAccount.create=false",
            "--set", "serviceAccount.name=aws-load-balancer-controller"]
    before = {s.metadata.name for s in core.list_namespaced_secret("kube-system", label_selector="owner=helm").items}
    assert helm(base) == 1  # no clusterName: the chart's own refusal, nothing written
    assert "Chart cannot be installed without a valid clusterName!" in capsys.readouterr().err
    assert {s.metadata.name for s in core.list_namespaced_secret("kube-system", label_selector="owner=helm").items} == before

    # The values deploy used (same pod template: the controller keeps running as it is).
    vpc = aws("eks").describe_cluster(name=CLUSTER)["cluster"]["resourcesVpcConfig"]["vpcId"]
    assert helm(base + ["--set", f"clusterName={CLUSTER}", "--set", "region=eu-central-1", "--set", f"vpcId={vpc}"]) == 0
    assert 'Release "aws-load-balancer-controller" has been upgraded' in capsys.readouterr().out
    releases = {s.metadata.name: s.metadata.labels["status"]
                for s in core.list_namespaced_secret("kube-system", label_selector="owner=helm").items}
    assert releases == {"sh.helm.release.v1.aws-load-balancer-controller.v1": "superseded",
                        "sh.helm.release.v1.aws-load-balancer-controller.v2": "deployed"}
    assert helm(["--kubeconfig", kubeconfig, "status", "aws-load-balancer-controller", "-n", "kube-system"]) == 0
    assert "REVISION: 2" in capsys.readouterr().out
    assert helm(["--kubeconfig", kubeconfig, "upgrade", "--install", "x", "bitnami/nginx", "-n", "default"]) == 1
    assert "not available in the iagent-tui sandbox" in capsys.readouterr().err
    assert helm(["repo", "add", "eks", "https://aws.github.io/eks-charts"]) == 0


def test_deploy_without_helm_says_what_to_install(env, sandbox_files, monkeypatch):
    from actions.context import PollPolicy, open_context
    from actions.lbc_steps import LbcSteps
    from iagent_tui.config import load_settings
    from iagent_tui.services.connection import build_connection

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings(overrides={"kubeconfig": str(sandbox_files[0])}, env=env)
    no_helm = {**env, "PATH": "/nonexistent"}

    async def helm_step() -> str:
        async with open_context(settings, await build_connection(settings), PollPolicy(0.05, 0.25, 5), no_helm) as ctx:
            steps = LbcSteps(ctx)
            step = next(s for s in await steps.plan_steps(await ctx.account()) if s.id == "lbc-helm")
            with pytest.raises(Exception) as caught:
                async for _ in steps.execute(step):
                    pass
            return str(caught.value)

    message = asyncio.run(helm_step())
    assert message.startswith("helm is not on PATH. Install Helm 3")
    assert "helm upgrade --install aws-load-balancer-controller eks/aws-load-balancer-controller" in message


def test_an_aws_failure_is_reported_with_what_failed_and_the_fix(env):
    # The preflight turns EKS's not-found into an input error (exit 2) before the plan reads more.
    result = invoke(deploy_command, ["--dry-run", "--cluster", "no-such-cluster"], env)
    assert result.exit_code == EXIT_INPUT
    assert "No cluster found for name: no-such-cluster." in result.output
    assert "check cluster and region" in result.output and "aws eks list-clusters" in result.output


def test_ctrl_c_during_deploy_exits_130_journals_the_step_and_the_next_run_resumes(env, aws, k8s):
    """A real SIGINT to `deploy --yes` (the cluster is rolled back at this point); the cluster's
    action lock is given back on the way out, so the next run is not refused."""
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "iagent_tui.commands.actions", "deploy", "--yes"],
                            env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        for line in proc.stdout:
            if "Fargate profile fp-default requested" in line:
                proc.send_signal(signal.SIGINT)
                break
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "iagent-tui deploy" in err
    last = journals(env, "deploy")[-1][-1]
    assert last["result"] == "cancelled" and last["stopped_at"].startswith("profile:")
    leases = k8s_client.CoordinationV1Api(k8s).list_namespaced_lease("kube-system").items
    assert "iagent-tui-action" not in {item.metadata.name for item in leases}
    assert [r["outcome"] for r in journals(env, "deploy")[-1] if r["type"] == "lock"] == ["acquired", "released"]

    resumed = subprocess.Popen([sys.executable, "-m", "iagent_tui.commands.actions", "deploy", "--yes"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = resumed.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        resumed.kill()
        output, _ = resumed.communicate()
    assert resumed.returncode == 0, "\n".join(line for line in output.splitlines() if not line.startswith("..."))[-3000:]
    assert set(aws("eks").list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"]) >= PROFILES


def test_add_namespace_asks_whether_to_restart_after_listing_the_deployments(env, k8s):
    core, apps = k8s_client.CoreV1Api(k8s), k8s_client.AppsV1Api(k8s)
    core.create_namespace({"metadata": {"name": "team-y"}})
    deployment = _team_deployment()
    deployment["metadata"]["namespace"] = "team-y"
    apps.create_namespaced_deployment("team-y", deployment)
    wait_for(lambda: all_on(pods_of(k8s, "team-y", "app=team-web"), fargate=False), message="team-y pods on EC2")

    result = invoke(add_namespace_command, ["team-y"], env, input="y\ny\n")
    assert result.exit_code == 0, result.output
    assert "Deployments in namespace team-y: Deployment/team-web" in result.output
    assert "Restart them so their pods move to Fargate?" in result.output
    assert all_on(pods_of(k8s, "team-y", "app=team-web"), fargate=True)
