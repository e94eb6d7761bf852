"""Running-state rules on hand-built snapshots, read through the one entry point (insights.assess): each rule fires on the state DOMAIN.md describes (exact
event and condition texts), with its evidence and next step, and stays quiet on a healthy cluster.
Objects are the Kubernetes/EKS JSON run through the service layer's own converters."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from types import MappingProxyType

import pytest

from iagent_tui.insights.assessment import Assessor
from iagent_tui.insights.doctor import EXIT_ERRORS, EXIT_HEALTHY, EXIT_WARNINGS
from iagent_tui.insights.finding import Finding, worst_severity
from iagent_tui.model import (
    Addon,
    ClusterInfo,
    FargateProfile,
    HealthIssue,
    Selector,
    Snapshot,
    SourceState,
    Target,
    TargetGroup,
)
from iagent_tui.services.convert import (
    event_from_raw,
    ingress_from_raw,
    node_from_raw,
    pod_from_raw,
    service_from_raw,
    workload_from_raw,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
ROLE = "arn:aws:iam::123456789012:role/AmazonEKSFargatePodExecutionRole"
SUBNETS = ("subnet-0aaa", "subnet-0bbb")
UNTOLERATED = "0/1 nodes are available: 1 node(s) had untolerated taint {eks.amazonaws.com/compute-type: fargate}."
FARGATE_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"Service": "eks-fargate-pods.amazonaws.com"}}]}


def ts(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def profile(name: str, namespace: str, status: str = "ACTIVE", labels: dict | None = None, **kw) -> FargateProfile:
    return FargateProfile(name=name, status=status, selectors=(Selector(namespace, MappingProxyType(labels or {})),),
                          subnets=SUBNETS, pod_execution_role_arn=ROLE, created_at=kw.pop("created_at", NOW - timedelta(days=3)), **kw)


def pod(namespace: str, name: str, *, node: str = "", phase: str = "Running", ready: bool = True, labels: dict | None = None,
        owner: tuple[str, str] | None = ("ReplicaSet", "web-5d4f9c7b8"), conditions: list | None = None,
        container_statuses: list | None = None, spec: dict | None = None, annotations: dict | None = None,
        scheduler: str = "default-scheduler", ip: str = "", created: float = 3600):
    labels = dict(labels or {"app": "web"})
    if owner and owner[0] == "ReplicaSet":
        labels["pod-template-hash"] = owner[1].rsplit("-", 1)[-1]
    meta = {"namespace": namespace, "name": name, "uid": f"uid-{name}", "labels": labels,
            "annotations": annotations or {}, "creationTimestamp": ts(created)}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    conds = conditions if conditions is not None else (
        [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True" if ready else "False"}] if node else [])
    raw = {"metadata": meta,
           "spec": {"schedulerName": scheduler, **({"nodeName": node} if node else {}),
                    **(spec or {"containers": [{"name": "web", "image": "nginx"}]})},
           "status": {"phase": phase, "conditions": conds, "podIP": ip,
                      "containerStatuses": container_statuses if container_statuses is not None else (
                          [{"name": "web", "ready": ready, "restartCount": 0, "state": {"running": {"startedAt": ts(created - 5)}}}] if node else [])}}
    return pod_from_raw(raw)


def event(namespace: str, name: str, reason: str, message: str, component: str, kind: str = "Pod", count: int = 1, ago: float = 30):
    return event_from_raw({"involvedObject": {"kind": kind, "namespace": namespace, "name": name}, "reason": reason,
                           "type": "Normal" if reason in ("Pulling", "Pulled", "Scheduled") else "Warning",
                           "message": message, "source": {"component": component}, "count": count,
                           "firstTimestamp": ts(ago), "lastTimestamp": ts(ago), "metadata": {"namespace": namespace}})


def node(name: str, ready: bool = True):
    labels = {"eks.amazonaws.com/compute-type": "fargate"} if name.startswith("fargate-") else {}
    return node_from_raw({"metadata": {"name": name, "labels": labels},
                          "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}})


def snapshot(**parts) -> Snapshot:
    parts.setdefault("profiles", (profile("fp-default", "default"), profile("fp-prod", "prod")))
    parts.setdefault("pod_execution_roles", ({"RoleName": "AmazonEKSFargatePodExecutionRole", "Arn": ROLE,
                                              "AssumeRolePolicyDocument": FARGATE_TRUST},))
    return Snapshot(taken_at=NOW, cluster=ClusterInfo("iagent-cluster", "eu-central-1", "ACTIVE", "1.31", "", "", ""),
                    connection=None, **parts)


class RunningState:
    """The running-state part of an Assessment (what is broken now), as these tests read it."""

    def __init__(self, snap: Snapshot, namespace: str | None, start_target_seconds: float) -> None:
        assessment = Assessor(start_target_seconds)(snap).for_namespace(namespace)
        self.diagnoses = tuple(f for f in assessment.findings if f.code.startswith("DR") or f.category == "broken")
        self.not_evaluated = assessment.not_evaluated
        worst = worst_severity(self.diagnoses)
        self.exit_code = EXIT_ERRORS if worst == "error" else EXIT_WARNINGS if worst == "warning" else EXIT_HEALTHY


def diagnose(snap: Snapshot, namespace: str | None = None, start_target_seconds: float = 120.0) -> RunningState:
    return RunningState(snap, namespace, start_target_seconds)


def codes(report) -> list[str]:
    return [d.code for d in report.diagnoses]


def only(report, code: str) -> Finding:
    found = [d for d in report.diagnoses if d.code == code]
    assert len(found) == 1, report.diagnoses
    return found[0]


def unschedulable(message: str, reason: str = "Unschedulable") -> list:
    return [{"type": "PodScheduled", "status": "False", "reason": reason, "message": message}]


# -- healthy ------------------------------------------------------------------------------------------
def test_healthy_cluster_has_no_diagnoses_and_exits_0():
    web = pod("default", "web-5d4f9c7b8-abcde", node="fargate-ip-10-0-1-1.eu-central-1.compute.internal",
              labels={"app": "web", "eks.amazonaws.com/fargate-profile": "fp-default"})
    report = diagnose(snapshot(pods=(web,), nodes=(node(web.node),)))
    assert report.diagnoses == () and report.exit_code == EXIT_HEALTHY


# -- pending ------------------------------------------------------------------------------------------
def test_pending_without_profile_names_the_scheduler_message_and_the_profile_to_create():
    stuck = pod("staging", "api-7c9d8f-x1", phase="Pending", owner=("ReplicaSet", "api-7c9d8f"),
                conditions=unschedulable(UNTOLERATED))
    report = diagnose(snapshot(pods=(stuck,), events=(event("staging", stuck.name, "FailedScheduling", UNTOLERATED, "default-scheduler"),)))
    d = only(report, "DR010")
    assert d.severity == "error" and d.object == "Deployment/staging/api" and d.namespace == "staging"
    assert any(UNTOLERATED in e and "default-scheduler" in e for e in d.evidence)
    assert any("fp-default (ACTIVE: namespace=default)" in e for e in d.evidence)
    assert d.next_steps[0] == ("aws eks create-fargate-profile --cluster-name iagent-cluster --fargate-profile-name fp-staging "
                               f"--pod-execution-role-arn {ROLE} --subnets subnet-0aaa subnet-0bbb --selectors namespace=staging")
    assert d.next_steps[-1] == "kubectl rollout restart deployment/api -n staging"
    assert report.exit_code == EXIT_ERRORS


def test_pending_with_a_creating_profile_says_wait_for_it():
    stuck = pod("staging", "api-7c9d8f-x1", phase="Pending", conditions=unschedulable("no nodes available to schedule pods"))
    snap = snapshot(pods=(stuck,), profiles=(profile("fp-prod", "prod"), profile("fp-staging", "staging", status="CREATING")))
    d = only(diagnose(snap), "DR010")
    assert "fp-staging" in d.message and "CREATING" in d.message
    assert d.next_steps[0] == "aws eks wait fargate-profile-active --cluster-name iagent-cluster --fargate-profile-name fp-staging"


def test_pending_pod_older_than_its_active_profile_is_told_to_restart():
    stuck = pod("prod", "web-5d4f9c7b8-q", phase="Pending", conditions=unschedulable(UNTOLERATED))
    d = only(diagnose(snapshot(pods=(stuck,))), "DR016")
    assert "fp-prod (ACTIVE)" in d.evidence[-1] and d.next_steps == ("kubectl rollout restart deployment/web -n prod",)


def test_pod_not_yet_tried_by_a_scheduler_is_not_diagnosed():
    fresh = pod("staging", "api-1", phase="Pending", conditions=[])
    assert diagnose(snapshot(pods=(fresh,))).diagnoses == ()


def test_refused_by_fargate_scheduler_lists_offending_fields():
    message = "Pod not supported on Fargate: invalid SecurityContext fields: Privileged"
    bad = pod("prod", "netdebug", phase="Pending", owner=None, scheduler="fargate-scheduler",
              conditions=unschedulable(message, "POD_UNSUPPORTED_ON_FARGATE"),
              spec={"containers": [{"name": "netdebug", "image": "netshoot", "securityContext": {"privileged": True}}]})
    report = diagnose(snapshot(pods=(bad,), events=(event("prod", "netdebug", "FailedScheduling", message, "fargate-scheduler"),)))
    assert codes(report) == ["DR011"]
    d = report.diagnoses[0]
    assert d.object == "Pod/prod/netdebug"
    assert "offending field spec.containers[netdebug].securityContext.privileged: true" in d.evidence
    assert any("fargate-scheduler" in e and message in e for e in d.evidence)
    assert "kubectl replace --force" in d.next_steps[0] and len(d.next_steps) == 2  # a bare pod: no controller recreates it


def test_too_large_pod_reports_its_requests():
    big = pod("prod", "trainer-0", phase="Pending", owner=("StatefulSet", "trainer"), scheduler="fargate-scheduler",
              conditions=unschedulable("Your pod's cpu/memory requirements exceed the max Fargate configuration",
                                       "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE"),
              spec={"containers": [{"name": "t", "image": "x", "resources": {"requests": {"cpu": "20", "memory": "64Gi"}}}]})
    d = only(diagnose(snapshot(pods=(big,))), "DR011")
    assert any("requests 20 vCPU / 65536 MiB" in e for e in d.evidence) and d.object == "StatefulSet/prod/trainer"


def test_misconfigured_profile_is_one_diagnosis_per_profile_with_the_role_trust():
    message = ("Misconfigured Fargate Profile: fargate profile fp-prod blocked for new launches due to: Pod execution role "
               "is not found in auth config or does not have all required permissions for launching fargate pods.")
    stuck = [pod("prod", f"web-5d4f9c7b8-{i}", phase="Pending", scheduler="fargate-scheduler", conditions=unschedulable(message))
             for i in "ab"]
    wrong_trust = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "pods.eks.amazonaws.com"}}]}
    snap = snapshot(pods=tuple(stuck), events=tuple(event("prod", p.name, "FailedScheduling", message, "fargate-scheduler") for p in stuck),
                    pod_execution_roles=({"RoleName": "AmazonEKSFargatePodExecutionRole", "Arn": ROLE, "AssumeRolePolicyDocument": wrong_trust},))
    d = only(diagnose(snap), "DR012")
    assert d.object == "FargateProfile/fp-prod"
    assert {"pending pod prod/web-5d4f9c7b8-a", "pending pod prod/web-5d4f9c7b8-b"} <= set(d.evidence)
    assert any("trusts pods.eks.amazonaws.com, not eks-fargate-pods.amazonaws.com" in e for e in d.evidence)
    assert any("attach-role-policy" in s and "AmazonEKSFargatePodExecutionRolePolicy" in s for s in d.next_steps)


def test_provisioning_timeout_is_a_warning():
    message = "Pod provisioning timed out (will retry) for pod"
    slow = pod("prod", "web-5d4f9c7b8-t", phase="Pending", scheduler="fargate-scheduler", conditions=[])
    report = diagnose(snapshot(pods=(slow,), events=(event("prod", slow.name, "FailedScheduling", message, "fargate-scheduler", count=2),)))
    d = only(report, "DR013")
    assert d.severity == "warning" and "(x2)" in d.evidence[1] and report.exit_code == EXIT_WARNINGS


def test_quota_refusal_is_an_error():
    message = "Your AWS account has reached the limit on the number of Fargate pods it can run concurrently"
    p = pod("prod", "web-5d4f9c7b8-q", phase="Pending", scheduler="fargate-scheduler", conditions=[])
    d = only(diagnose(snapshot(pods=(p,), events=(event("prod", p.name, "FailedScheduling", message, "fargate-scheduler"),))), "DR014")
    assert "quota" in d.next_steps[0]


# -- workloads no profile selects (FG018, formerly also DR015) ---------------------------------------------
def test_workload_no_profile_selects_is_one_finding_with_the_commands_that_move_it():
    api = workload_from_raw({"kind": "Deployment", "metadata": {"namespace": "staging", "name": "api"},
                             "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "api"}},
                                      "spec": {"containers": [{"name": "api", "image": "x"}]}}},
                             "status": {"readyReplicas": 2}})
    assessment = Assessor()(snapshot(workloads=(api,)))
    found = [f for f in assessment.findings if f.code == "FG018"]
    assert [(f.object, f.category, f.namespace, f.action) for f in found] == [
        ("Deployment/staging/api", "advice", "staging", "add-namespace")]
    assert "DR015" not in {f.code for f in assessment.findings}  # retired: merged into FG018


# -- profiles -------------------------------------------------------------------------------------------
def test_failed_profile_shows_health_issues_and_a_hint():
    failed = profile("fp-staging", "staging", status="CREATE_FAILED",
                     health_issues=(HealthIssue("PodExecutionRoleAlreadyInUse", "role used by a node group", ("role/x",)),))
    d = only(diagnose(snapshot(profiles=(failed,))), "DR020")
    assert "health issue PodExecutionRoleAlreadyInUse: role used by a node group (role/x)" in d.evidence
    assert any("differ from the node groups" in s for s in d.next_steps)


def test_profile_creating_too_long_is_stuck_but_a_young_one_is_not():
    old = profile("fp-a", "a", status="CREATING", created_at=NOW - timedelta(minutes=15))
    young = profile("fp-b", "b", status="CREATING", created_at=NOW - timedelta(minutes=2))
    d = only(diagnose(snapshot(profiles=(old, young))), "DR021")
    assert d.object == "FargateProfile/fp-a" and "15 min" in d.evidence[0]


# -- CoreDNS --------------------------------------------------------------------------------------------
def coredns_addon(status="ACTIVE", compute="Fargate", issues=()):
    return Addon("coredns", status, "v1.11.3-eksbuild.2", {"computeType": compute} if compute else {}, compute, issues)


def coredns_pod(name: str, node_name: str = "", ready: bool = True, phase: str = "Running", conditions=None):
    return pod("kube-system", name, node=node_name, ready=ready, phase=phase, conditions=conditions,
               labels={"k8s-app": "kube-dns"}, owner=("ReplicaSet", "coredns-78d644f69d"))


def test_coredns_on_fargate_without_kube_system_profile():
    pods = (coredns_pod("coredns-78d644f69d-a", "ip-10-0-1-1.ec2.internal"),)
    d = only(diagnose(snapshot(addons=(coredns_addon(),), pods=pods)), "FG023")
    assert "profiles selecting kube-system k8s-app=kube-dns: none" in d.evidence
    assert d.next_steps[0].endswith("--selectors 'namespace=kube-system,labels={k8s-app=kube-dns}'")  # quoted against brace expansion
    assert d.next_steps[-1] == "kubectl rollout restart -n kube-system deployment coredns"
    with_profile = snapshot(addons=(coredns_addon(),), pods=pods,
                            profiles=(profile("coredns", "kube-system", labels={"k8s-app": "kube-dns"}),))
    assert "FG023" not in codes(diagnose(with_profile))


def test_coredns_degraded_and_no_pod_ready_means_dns_down():
    message = "The add-on is unhealthy because all deployments have all pods unscheduled no nodes available to schedule pods"
    pending = tuple(coredns_pod(f"coredns-78d644f69d-{c}", ready=False, phase="Pending",
                                conditions=unschedulable("no nodes available to schedule pods")) for c in "ab")
    snap = snapshot(addons=(coredns_addon("DEGRADED", issues=(HealthIssue("InsufficientNumberOfReplicas", message),)),),
                    pods=pending, profiles=(profile("coredns", "kube-system", labels={"k8s-app": "kube-dns"}, status="CREATING"),))
    report = diagnose(snap)
    assert f"health issue InsufficientNumberOfReplicas: {message}" in only(report, "DR030").evidence
    dns = only(report, "DR032")
    assert dns.severity == "error" and dns.title.startswith("DNS is down") and dns.evidence[0] == "0 of 2 CoreDNS pods Ready"
    assert only(report, "FG023").next_steps[0].startswith("aws eks wait fargate-profile-active")


def test_one_coredns_pod_not_ready_is_a_warning():
    pods = (coredns_pod("coredns-78d644f69d-a", "fargate-ip-1"), coredns_pod("coredns-78d644f69d-b", "fargate-ip-2", ready=False))
    assert only(diagnose(snapshot(pods=pods)), "DR032").severity == "warning"


# -- ALB ------------------------------------------------------------------------------------------------
def ingress(annotations: dict | None = None, class_name: str | None = "alb", hostname: str = "", created: float = 3600):
    spec = {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
                                           "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}
    if class_name:
        spec["ingressClassName"] = class_name
    return ingress_from_raw({"metadata": {"namespace": "default", "name": "web", "annotations": annotations or {},
                                          "creationTimestamp": ts(created)}, "spec": spec,
                             "status": {"loadBalancer": {"ingress": [{"hostname": hostname}] if hostname else []}}})


WEB_SERVICE = service_from_raw({"metadata": {"namespace": "default", "name": "web"},
                                "spec": {"type": "ClusterIP", "selector": {"app": "web"}}})
FARGATE_WEB = pod("default", "web-5d4f9c7b8-f", node="fargate-ip-10-0-1-9.eu-central-1.compute.internal", ip="10.0.1.9")


def lbc(ready: int):
    return workload_from_raw({"kind": "Deployment", "metadata": {"namespace": "kube-system", "name": "aws-load-balancer-controller"},
                              "spec": {"replicas": 2}, "status": {"readyReplicas": ready}})


def test_ingress_without_controller_and_with_instance_targets_on_fargate():
    report = diagnose(snapshot(ingresses=(ingress(),), services=(WEB_SERVICE,), pods=(FARGATE_WEB,)))
    missing = only(report, "DR040")
    assert missing.title == "ALB not created: load balancer controller not installed"
    assert "Deployment kube-system/aws-load-balancer-controller not found" in missing.evidence
    assert any(s.startswith("helm install aws-load-balancer-controller") for s in missing.next_steps)
    instance = only(report, "FG019")
    assert instance.evidence[0].startswith("alb.ingress.kubernetes.io/target-type: instance")
    # One finding for the spec (FG019) and the failure it causes now: broken wins, evidence from both.
    assert instance.category == "broken" and instance.severity == "error"
    assert instance.next_steps[0] == "kubectl annotate ingress web -n default alb.ingress.kubernetes.io/target-type=ip --overwrite"
    fixed = diagnose(snapshot(ingresses=(ingress({"alb.ingress.kubernetes.io/target-type": "ip"}, hostname="k8s-x.elb.amazonaws.com"),),
                              services=(WEB_SERVICE,), pods=(FARGATE_WEB,), workloads=(lbc(2),)))
    assert fixed.diagnoses == ()


def test_ingress_with_controller_not_ready_irsa_error_or_no_class():
    ip = {"alb.ingress.kubernetes.io/target-type": "ip"}
    not_ready = only(diagnose(snapshot(ingresses=(ingress(ip),), workloads=(lbc(0),))), "DR040")
    assert not_ready.title.endswith("load balancer controller not ready") and "0/2 ready" in not_ready.evidence[-1]
    irsa_text = ("Failed build model due to WebIdentityErr: failed to retrieve credentials\ncaused by: AccessDenied: "
                 "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    irsa = only(diagnose(snapshot(ingresses=(ingress(ip),), workloads=(lbc(2),),
                                  events=(event("default", "web", "FailedBuildModel", irsa_text, "ingress", kind="Ingress"),))), "DR040")
    assert irsa.title.endswith("(IRSA)") and any("WebIdentityErr" in e for e in irsa.evidence)
    no_class = only(diagnose(snapshot(ingresses=(ingress(ip, class_name=None),), workloads=(lbc(2),))), "DR040")
    assert "ingressClassName" in no_class.next_steps[0]
    # An ALB takes minutes to appear: a young ingress with a ready controller is not a problem yet.
    assert diagnose(snapshot(ingresses=(ingress(ip, created=60),), workloads=(lbc(2),))).diagnoses == ()
    # Ingresses of other controllers are not ours to judge.
    assert diagnose(snapshot(ingresses=(ingress(ip, class_name="nginx"),))).diagnoses == ()


def test_unhealthy_targets_name_the_pod_and_its_readiness():
    sick = replace(FARGATE_WEB, ready=False, reason="Running")
    tg = TargetGroup("k8s-default-web-abc", "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/k8s-default-web-abc/1",
                     "k8s-default-web", "ip", (Target("10.0.1.9", 80, "unhealthy", "Target.ResponseCodeMismatch",
                                                      "Health checks failed with these codes: [502]", pod=sick.key),))
    d = only(diagnose(snapshot(target_groups=(tg,), pods=(sick,))), "DR050")
    assert d.severity == "error" and d.namespace == "default"
    assert d.evidence == ("target 10.0.1.9:80 unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])",
                          "pod default/web-5d4f9c7b8-f: Running, Ready=False", "0 of 1 targets healthy")
    assert d.next_steps[0] == f"aws elbv2 describe-target-health --target-group-arn {tg.arn}"
    gone = replace(tg, targets=(Target("10.0.1.7", 80, "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"),
                                Target("10.0.1.9", 80, "healthy", "", "", pod=FARGATE_WEB.key)))
    assert diagnose(snapshot(target_groups=(gone,), pods=(FARGATE_WEB,))).diagnoses == ()


# -- starts, crashes, nodes -----------------------------------------------------------------------------
def test_slow_start_names_the_dominant_phase():
    created = 400
    slow = pod("prod", "api-6b7c8d-s", node="fargate-ip-10-0-2-2.eu-central-1.compute.internal", owner=("ReplicaSet", "api-6b7c8d"),
               created=created, conditions=[{"type": "PodScheduled", "status": "True", "lastTransitionTime": ts(created - 45)},
                                            {"type": "Ready", "status": "True", "lastTransitionTime": ts(created - 200)}],
               container_statuses=[{"name": "api", "ready": True, "state": {"running": {"startedAt": ts(created - 190)}}}])
    pulled = event("prod", slow.name, "Pulled", 'Successfully pulled image "api:1" in 2m20s (2m20s including waiting). '
                   "Image size: 912345678 bytes.", "kubelet", ago=created - 188)
    d = only(diagnose(snapshot(pods=(slow,), events=(pulled,))), "DR060")
    assert d.object == "Deployment/prod/api" and "image pull 2 min 20 s" in d.evidence[0] and "3 min 20 s" in d.title
    assert "image pull" in d.message and "VPC endpoints" in d.next_steps[0]
    assert "DR060" not in codes(diagnose(snapshot(pods=(slow,), events=(pulled,)), start_target_seconds=300))
    with pytest.raises(ValueError):
        diagnose(snapshot(), start_target_seconds=0)


def test_crash_loop_with_oom_and_image_pull_back_off():
    crash = pod("prod", "worker-1", node="fargate-ip-3", ready=False, owner=("ReplicaSet", "worker-1"),
                container_statuses=[{"name": "worker", "restartCount": 7, "state": {"waiting": {"reason": "CrashLoopBackOff",
                                     "message": "back-off 5m0s restarting failed container"}},
                                     "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}])
    pull = pod("prod", "api-2", node="fargate-ip-4", ready=False, owner=None,
               container_statuses=[{"name": "api", "image": "123.dkr.ecr.eu-central-1.amazonaws.com/api:nope", "restartCount": 0,
                                    "state": {"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "api:nope"'}}}])
    report = diagnose(snapshot(pods=(crash, pull)))
    loop = only(report, "DR070")
    assert "last exit: OOMKilled (exit code 137)" in loop.evidence and "restarts: 7" in loop.evidence
    assert loop.next_steps[0] == "kubectl logs worker-1 -n prod -c worker --previous"
    assert "image: 123.dkr.ecr.eu-central-1.amazonaws.com/api:nope" in only(report, "DR071").evidence


def test_node_not_ready():
    down = node("fargate-ip-10-0-5-5.eu-central-1.compute.internal", ready=False)
    on_it = pod("prod", "web-5d4f9c7b8-n", node=down.name, ready=False)
    d = only(diagnose(snapshot(nodes=(down,), pods=(on_it,))), "DR080")
    assert d.title == "Fargate node NotReady" and "pods on it: prod/web-5d4f9c7b8-n" in d.evidence


# -- sources, filtering, the record itself ------------------------------------------------------------
def test_failed_source_is_not_evaluated_never_healthy():
    refused = pod("prod", "netdebug", phase="Pending", owner=None, scheduler="fargate-scheduler",
                  conditions=unschedulable("Pod not supported on Fargate: invalid SecurityContext fields: Privileged",
                                           "POD_UNSUPPORTED_ON_FARGATE"))
    sources = {"pods": SourceState("pods", ok=True), "fargate_profiles": SourceState(
        "fargate_profiles", ok=False, error="AccessDeniedException: not authorized", stale_since=NOW - timedelta(minutes=5))}
    report = diagnose(snapshot(pods=(refused,), sources=MappingProxyType(sources)))
    source = only(report, "DR001")
    assert source.evidence[0] == "fargate_profiles: AccessDeniedException: not authorized since 2026-03-01 11:55:00 UTC"
    assert "pending pods without a Fargate profile" in source.evidence[1]
    assert {n.rule for n in report.not_evaluated} >= {"pending pods without a Fargate profile", "CoreDNS add-on"}
    assert "DR011" in codes(report)  # rules whose sources were read still run
    quiet = diagnose(snapshot(sources=MappingProxyType(sources)))
    assert codes(quiet) == ["DR001"] and quiet.exit_code == EXIT_WARNINGS  # not "nothing wrong"


def test_namespace_filter_keeps_cluster_wide_diagnoses():
    stuck = pod("staging", "api-7c9d8f-x1", phase="Pending", conditions=unschedulable(UNTOLERATED))
    other = pod("prod", "worker-1", node="fargate-ip-3", ready=False, owner=None,
                container_statuses=[{"name": "w", "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}])
    snap = snapshot(pods=(stuck, other), addons=(coredns_addon(),))
    assert codes(diagnose(snap)) == ["DR010", "DR070", "FG023"]  # worst first, then by code
    assert codes(diagnose(snap, namespace="prod")) == ["DR070", "FG023"]


def test_finding_rejects_unknown_severity_category_and_missing_next_step():
    with pytest.raises(ValueError, match="severity"):
        Finding("DR999", "fatal", "broken", "o", "t", "e", (), ("x",))
    with pytest.raises(ValueError, match="category"):
        Finding("DR999", "error", "bad", "o", "t", "e", (), ("x",))
    with pytest.raises(ValueError, match="next step"):
        Finding("DR999", "error", "broken", "o", "t", "e", (), ())


def test_a_crash_loop_is_seen_in_the_seconds_the_container_runs_between_crashes():
    between = pod("prod", "worker-2", node="fargate-ip-4", ready=False, owner=None, container_statuses=[
        {"name": "w", "restartCount": 4, "state": {"running": {"startedAt": ts(20)}},
         "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}])
    d = only(diagnose(snapshot(pods=(between,))), "DR070")
    assert "last exit: Error (exit code 1)" in d.evidence
    settled = pod("prod", "worker-3", node="fargate-ip-5", owner=None, container_statuses=[
        {"name": "w", "ready": True, "restartCount": 4, "state": {"running": {"startedAt": ts(3600)}},
         "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}])
    assert "DR070" not in codes(diagnose(snapshot(pods=(settled,))))  # ran an hour since: recovered
