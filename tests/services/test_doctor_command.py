"""`iagent-tui doctor` against the sandbox, as against EKS: the "broken" scenario's planted faults
come out as diagnoses with the right evidence, the "migrated" one has no errors, and every planted
state is confirmed with the official clients (boto3, kubernetes) rather than with our own reader."""

from __future__ import annotations

import json
import socket

import pytest
import yaml
from click.testing import CliRunner
from kubernetes import client
from kubernetes.client.rest import ApiException

from iagent_tui.commands.doctor import doctor_command
from iagent_sandbox.runtime import SandboxThread, write_connection_files

from ..conftest import TEST_SPEED, wait_for

pytestmark = pytest.mark.scenario("broken")

MISCONFIGURED = "Misconfigured Fargate Profile: fargate profile fp-default blocked for new launches"


def run_doctor(args: list[str], env: dict[str, str]):
    result = CliRunner().invoke(doctor_command, args, env=env, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def by_code(doc: dict, code: str) -> list[dict]:
    return [d for d in doc["findings"] if d["code"] == code]


def one(doc: dict, code: str, obj: str) -> dict:
    found = [d for d in by_code(doc, code) if d["object"] == obj]
    assert len(found) == 1, json.dumps(doc["findings"], indent=1)
    return found[0]


# Runs first, while no other sandbox is up: sandboxes in one process share moto's account.
def test_migrated_cluster_has_no_errors(tmp_path, monkeypatch):
    sandbox = SandboxThread(speed=TEST_SPEED, seed=1, scenario="migrated")
    try:
        info = sandbox.start()
        write_connection_files(info, tmp_path / "kubeconfig", tmp_path / "env")
        monkeypatch.chdir(tmp_path)
        result = run_doctor(["--json"], info.env(tmp_path / "kubeconfig"))
        doc = json.loads(result.stdout)
        assert [d for d in doc["diagnoses"] if d["severity"] == "error"] == []
        assert doc["not_evaluated"] == [] and result.exit_code in (0, 1) and result.exit_code == doc["exit_code"]

        # The facts behind "no FG023/DR032/DR015", read with the official clients.
        import boto3
        eks = boto3.client("eks", region_name=info.region, endpoint_url=info.aws_endpoint,
                           aws_access_key_id=info.access_key_id, aws_secret_access_key=info.secret_access_key)
        kube_system = eks.describe_fargate_profile(clusterName=info.cluster_name, fargateProfileName="fp-kube-system")["fargateProfile"]
        assert kube_system["status"] == "ACTIVE" and {"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}} in kube_system["selectors"]
        from kubernetes import config
        core = client.CoreV1Api(config.new_client_from_config(config_file=str(tmp_path / "kubeconfig")))
        coredns = core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items
        assert coredns and all(p.spec.node_name.startswith("fargate-") for p in coredns)
        assert all(c.status == "True" for p in coredns for c in p.status.conditions if c.type == "Ready")

        # Break the sample app's health (the sandbox's switch: its HTTP answers 503) and watch the
        # ALB's view with boto3: the doctor names each unhealthy target's pod and its readiness.
        sample = core.list_namespaced_pod("default", label_selector="app.kubernetes.io/name=iagent-sample").items
        for pod in sample:
            core.patch_namespaced_pod(pod.metadata.name, "default",
                                      {"metadata": {"annotations": {"sandbox.iagent.dev/unready": "true"}}})
        elbv2 = boto3.client("elbv2", region_name=info.region, endpoint_url=info.aws_endpoint,
                             aws_access_key_id=info.access_key_id, aws_secret_access_key=info.secret_access_key)
        group = next(g for g in elbv2.describe_target_groups()["TargetGroups"] if g["TargetGroupName"].startswith("k8s-default-iagentsa"))

        def all_unhealthy():
            health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
            return health if health and all(h["TargetHealth"]["State"] == "unhealthy" for h in health) else None
        health = wait_for(all_unhealthy, timeout=60, message="sample targets unhealthy")
        result = run_doctor(["--json", "--namespace", "default"], info.env(tmp_path / "kubeconfig"))
        doc = json.loads(result.stdout)
        targets = [d for d in doc["diagnoses"] if d["code"] == "DR050"]
        assert result.exit_code == 2 and len(targets) == 1 and targets[0]["severity"] == "error"
        by_ip = {p.status.pod_ip: p.metadata.name for p in sample}
        for h in health:
            ip, reason = h["Target"]["Id"], h["TargetHealth"]["Reason"]
            assert any(line.startswith(f"target {ip}:") and reason in line for line in targets[0]["evidence"])
            assert any(line.startswith(f"pod default/{by_ip[ip]}: ") and "Ready=" in line for line in targets[0]["evidence"])

        # Take IRSA away from the load balancer controller: a new ingress gets no ALB, and the
        # doctor names credentials as the cause from the controller's own event.
        core.patch_namespaced_service_account("aws-load-balancer-controller", "kube-system",
                                              {"metadata": {"annotations": {"eks.amazonaws.com/role-arn": None}}})
        networking = client.NetworkingV1Api(core.api_client)
        networking.create_namespaced_ingress("default", {
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "doctor-irsa", "namespace": "default",
                         "annotations": {"alb.ingress.kubernetes.io/target-type": "ip"}},
            "spec": {"ingressClassName": "alb", "rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
                     "backend": {"service": {"name": "iagent-web", "port": {"number": 80}}}}]}}]}})
        failure = wait_for(lambda: next((e for e in core.list_namespaced_event(
            "default", field_selector="involvedObject.name=doctor-irsa").items if e.reason == "FailedBuildModel"), None),
            timeout=60, message="FailedBuildModel on the new ingress")
        doc = json.loads(run_doctor(["--json", "--namespace", "default"], info.env(tmp_path / "kubeconfig")).stdout)
        irsa = one(doc, "DR040", "Ingress/default/doctor-irsa")
        assert irsa["title"] == "ALB not created: controller has no AWS credentials (IRSA)"
        assert any(failure.message.splitlines()[0] in line for line in irsa["evidence"])
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def env(sandbox, sandbox_env):
    return sandbox_env


@pytest.fixture(scope="module")
def core(k8s):
    return client.CoreV1Api(k8s)


@pytest.fixture(autouse=True)
def _no_stray_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an iagent.yaml in the caller's directory must not steer the test


def test_broken_scenario_yields_the_planted_diagnoses(sandbox, env, aws, core):
    result = run_doctor(["--json"], env)
    doc = json.loads(result.stdout)
    assert result.exit_code == 2 == doc["exit_code"] and doc["not_evaluated"] == []
    assert doc["cluster"] == {"name": sandbox.info.cluster_name, "region": sandbox.info.region}
    severities = [d["severity"] for d in doc["findings"]]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)  # worst first

    # CoreDNS add-on set to Fargate while no profile selects kube-system.
    dns = one(doc, "FG023", "Addon/coredns")
    assert 'configurationValues computeType: "Fargate"' in dns["evidence"]
    assert "profiles selecting kube-system k8s-app=kube-dns: none" in dns["evidence"]
    eks = aws("eks")
    addon = eks.describe_addon(clusterName=sandbox.info.cluster_name, addonName="coredns")["addon"]
    assert json.loads(addon["configurationValues"])["computeType"] == "Fargate"
    names = eks.list_fargate_profiles(clusterName=sandbox.info.cluster_name)["fargateProfileNames"]
    selectors = [s for n in names for s in eks.describe_fargate_profile(
        clusterName=sandbox.info.cluster_name, fargateProfileName=n)["fargateProfile"]["selectors"]]
    assert all(s["namespace"] != "kube-system" for s in selectors)
    assert any(s.startswith("aws eks create-fargate-profile") and "namespace=kube-system,labels={k8s-app=kube-dns}" in s
               for s in dns["next_steps"])

    # A namespace with no profile: staging's pods stay on the EC2 node group.
    staging = one(doc, "FG018", "Deployment/staging/iagent-api")
    assert staging["category"] == "advice" and staging["action"] == "add-namespace"
    assert all(s["namespace"] != "staging" for s in selectors)
    staging_pods = core.list_namespaced_pod("staging").items
    assert staging_pods and not any(p.spec.node_name.startswith("fargate-") for p in staging_pods)

    # Pods fargate-scheduler refused, with the offending fields and the scheduler's own words.
    netdebug = one(doc, "DR011", "Pod/prod/netdebug")
    assert "offending field spec.containers[netdebug].securityContext.privileged: true" in netdebug["evidence"]
    pod = core.read_namespaced_pod("netdebug", "prod")
    scheduled = next(c for c in pod.status.conditions if c.type == "PodScheduled")
    assert pod.status.phase == "Pending" and scheduled.reason == "POD_UNSUPPORTED_ON_FARGATE"
    events = core.list_namespaced_event("prod", field_selector="involvedObject.name=netdebug").items
    refusal = next(e for e in events if e.reason == "FailedScheduling")
    assert refusal.source.component == "fargate-scheduler"
    assert any(refusal.message in line and "fargate-scheduler" in line for line in netdebug["evidence"])

    vectordb = one(doc, "DR011", "StatefulSet/prod/iagent-vectordb")
    assert "offending field spec.volumes[data].persistentVolumeClaim.claimName: data-iagent-vectordb-0" in vectordb["evidence"]
    claim = core.read_namespaced_persistent_volume_claim("data-iagent-vectordb-0", "prod")
    volume = core.read_persistent_volume(claim.spec.volume_name)
    assert volume.spec.csi.driver == "ebs.csi.aws.com"
    assert any("ebs.csi.aws.com" in line for line in vectordb["evidence"])


def test_text_report_is_readable_and_keeps_credentials_out(sandbox, env):
    result = run_doctor([], env)
    assert result.exit_code == 2
    text = result.stdout
    assert text.startswith(f"Doctor: cluster {sandbox.info.cluster_name} ({sandbox.info.region})")
    assert "ERROR   FG023  CoreDNS set to Fargate but no profile selects it" in text
    assert "          $ kubectl rollout restart -n kube-system deployment coredns" in text
    assert text.index("ERROR") < text.index("WARNING")
    for secret in (sandbox.info.secret_access_key, sandbox.info.token):
        assert secret not in result.output


def test_ingress_without_target_type_ip_and_no_controller(sandbox, env, k8s, core):
    networking = client.NetworkingV1Api(k8s)
    body = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "iagent-web", "namespace": "default",
                         "annotations": {"alb.ingress.kubernetes.io/scheme": "internet-facing"}},
            "spec": {"ingressClassName": "alb", "rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
                     "backend": {"service": {"name": "iagent-web", "port": {"number": 80}}}}]}}]}}
    networking.create_namespaced_ingress("default", body)
    try:
        result = run_doctor(["--json", "--namespace", "default"], env)
        doc = json.loads(result.stdout)
        assert doc["namespace"] == "default" and result.exit_code == 2
        assert not by_code(doc, "DR011") and not by_code(doc, "FG018")  # prod's and staging's, filtered out
        assert by_code(doc, "FG023")  # DNS is everyone's problem: kept
        missing = one(doc, "DR040", "Ingress/default/iagent-web")
        assert missing["title"] == "ALB not created: load balancer controller not installed"
        instance = one(doc, "FG019", "Ingress/default/iagent-web")
        assert instance["category"] == "broken"  # the pods are on Fargate now: failing, not only would
        assert instance["next_steps"][0] == \
            "kubectl annotate ingress iagent-web -n default alb.ingress.kubernetes.io/target-type=ip --overwrite"

        ingress = networking.read_namespaced_ingress("iagent-web", "default")
        status = ingress.status  # the sandbox leaves status unset until the controller writes it
        assert not (status and status.load_balancer and status.load_balancer.ingress)
        with pytest.raises(ApiException) as absent:
            client.AppsV1Api(k8s).read_namespaced_deployment("aws-load-balancer-controller", "kube-system")
        assert absent.value.status == 404
        web = core.list_namespaced_pod("default", label_selector="app.kubernetes.io/name=iagent-web").items
        assert web and all(p.spec.node_name.startswith("fargate-") for p in web)
        assert any(p.metadata.name in line for p in web for line in instance["evidence"])
    finally:
        networking.delete_namespaced_ingress("iagent-web", "default")


def _pod(name: str, namespace: str, image: str = "nginx", cpu: str = "250m", env: list | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": "c", "image": image, "env": env or [],
                                     "resources": {"requests": {"cpu": cpu, "memory": "256Mi"}}}]}}


def _waiting_reason(core, name: str, namespace: str) -> str:
    statuses = core.read_namespaced_pod(name, namespace).status.container_statuses or []
    return next((s.state.waiting.reason for s in statuses if s.state and s.state.waiting), "")


def test_live_failures_pending_without_profile_crash_loop_and_image_pull(env, core):
    created = [("doctor-crash", "default"), ("doctor-pull", "default"), ("doctor-huge", "staging")]
    core.create_namespaced_pod("default", _pod("doctor-crash", "default", env=[{"name": "SANDBOX_CRASH", "value": "1"}]))
    core.create_namespaced_pod("default", _pod("doctor-pull", "default", image="public.ecr.aws/iagent/doesnotexist:1"))
    core.create_namespaced_pod("staging", _pod("doctor-huge", "staging", cpu="16"))  # more than any EC2 node has
    try:
        wait_for(lambda: _waiting_reason(core, "doctor-crash", "default") == "CrashLoopBackOff", timeout=60, message="crash loop")
        wait_for(lambda: _waiting_reason(core, "doctor-pull", "default") in ("ErrImagePull", "ImagePullBackOff"),
                 timeout=60, message="image pull failure")
        unschedulable = wait_for(lambda: next((e for e in core.list_namespaced_event(
            "staging", field_selector="involvedObject.name=doctor-huge").items if e.reason == "FailedScheduling"), None),
            timeout=30, message="FailedScheduling for doctor-huge")
        assert unschedulable.source.component == "default-scheduler"

        doc = json.loads(run_doctor(["--json"], env).stdout)
        pending = one(doc, "DR010", "Pod/staging/doctor-huge")
        assert any(unschedulable.message in line and "default-scheduler" in line for line in pending["evidence"])
        assert "spec.schedulerName: default-scheduler" in pending["evidence"]
        assert pending["next_steps"][0].startswith("aws eks create-fargate-profile") and \
            pending["next_steps"][0].endswith("--selectors namespace=staging")
        crash = one(doc, "DR070", "Pod/default/doctor-crash")
        assert any(line.startswith("last exit:") and "exit code 1" in line for line in crash["evidence"])
        pull = one(doc, "DR071", "Pod/default/doctor-pull")
        assert "image: public.ecr.aws/iagent/doesnotexist:1" in pull["evidence"]
    finally:
        for name, namespace in created:
            core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)


def test_namespace_without_pods_keeps_cluster_wide_diagnoses_and_says_so(env):
    result = run_doctor(["--namespace", "nothing-here"], env)
    assert result.exit_code == 2  # CoreDNS at risk is every namespace's problem
    assert "Note: no pods in namespace nothing-here: only cluster-wide checks apply" in result.stdout
    assert "FG023" in result.stdout and "DR011" not in result.stdout and "FG018" not in result.stdout


# Last: it breaks the pod execution role (and mends it again) for the rest of the module.
def test_broken_pod_execution_role_blocks_launches(sandbox, env, aws, core):
    iam = aws("iam")
    role = iam.get_role(RoleName="AmazonEKSFargatePodExecutionRole")["Role"]
    good_trust = role["AssumeRolePolicyDocument"]
    wrong_trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                           "Principal": {"Service": "pods.eks.amazonaws.com"}}]}
    iam.update_assume_role_policy(RoleName=role["RoleName"], PolicyDocument=json.dumps(wrong_trust))
    probe = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "doctor-probe", "namespace": "default"},
             "spec": {"containers": [{"name": "c", "image": "nginx",
                                      "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}}]}}
    core.create_namespaced_pod("default", probe)
    try:
        wait_for(lambda: any(e.message.startswith(MISCONFIGURED) for e in core.list_namespaced_event(
            "default", field_selector="involvedObject.name=doctor-probe").items), timeout=30, message="Misconfigured event")
        doc = json.loads(run_doctor(["--json"], env).stdout)
        blocked = one(doc, "DR012", "FargateProfile/fp-default")
        assert "pending pod default/doctor-probe" in blocked["evidence"]
        assert any(line.startswith("event Warning FailedScheduling from fargate-scheduler") and MISCONFIGURED in line
                   for line in blocked["evidence"])
        assert "role AmazonEKSFargatePodExecutionRole trusts pods.eks.amazonaws.com, not eks-fargate-pods.amazonaws.com" in blocked["evidence"]
        assert any("update-assume-role-policy" in step for step in blocked["next_steps"])
    finally:
        iam.update_assume_role_policy(RoleName=role["RoleName"], PolicyDocument=json.dumps(good_trust))
        core.delete_namespaced_pod("doctor-probe", "default", grace_period_seconds=0)


def test_unreachable_cluster_exits_2_without_traceback(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "t",
        "clusters": [{"name": "t", "cluster": {"server": f"https://127.0.0.1:{dead}", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "t", "user": {"token": "doctor-secret-token"}}],
        "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
    }))
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{dead}", "AWS_ACCESS_KEY_ID": "AKIAIAGENTTEST000001",
           "AWS_SECRET_ACCESS_KEY": "doctor-secret-key", "AWS_DEFAULT_REGION": "eu-central-1",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PROFILE": None}
    result = run_doctor(["--json", "--kubeconfig", str(kubeconfig)], env)
    assert result.exit_code == 2
    assert json.loads(result.stdout)["exit_code"] == 2 and f"127.0.0.1:{dead}" in result.stderr
    assert "doctor-secret-token" not in result.output and "doctor-secret-key" not in result.output


@pytest.mark.parametrize("bad", [" ", "Prod", "-prod", "a" * 64])
def test_bad_namespace_is_a_clear_error(bad):
    result = run_doctor(["--namespace", bad], {})
    assert result.exit_code == 2 and "is not a namespace name" in result.stderr
