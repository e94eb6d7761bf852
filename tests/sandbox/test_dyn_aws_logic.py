"""Pure logic of the sandbox's AWS-linked controllers: LBC naming and ingress model, the ELB target
health state machine, the IRSA trust check, the chart's objects, node shapes, app responses."""

from __future__ import annotations

import hashlib
import json

import pytest

from iagent_sandbox.controllers import lbc_irsa, lbc_model, node_shape
from iagent_sandbox.controllers.alb import AlbFront, app_response
from iagent_sandbox.controllers.lbc_health import Probe, TargetEntry, TargetHealth, response_code_mismatch
from iagent_sandbox.controllers.lbc_install import ChartError, chart_objects, parse_set_values

CLUSTER = "iagent-cluster"


# -- naming ------------------------------------------------------------------------------------
def test_alb_name_is_lbc_format_with_sha256_of_cluster_group_and_scheme():
    name = lbc_model.load_balancer_name(CLUSTER, "game-2048", "ingress-2048", "internet-facing")
    expected_hash = hashlib.sha256(f"{CLUSTER}game-2048/ingress-2048internet-facing".encode()).hexdigest()
    assert name == f"k8s-game2048-ingress2-{expected_hash[:10]}"
    assert len(name) <= 32
    # Golden value: a change here means sandbox ALB names changed for every user.
    assert lbc_model.load_balancer_name(CLUSTER, "default", "iagent-sample", "internet-facing") \
        == "k8s-default-iagentsa-c9a3e9bf57"
    assert lbc_model.load_balancer_name(CLUSTER, "default", "iagent-sample", "internal") \
        != "k8s-default-iagentsa-c9a3e9bf57"


def _svc(name="iagent-sample", ns="default", uid="uid-1", ports=None, annotations=None):
    return {"metadata": {"name": name, "namespace": ns, "uid": uid, "annotations": annotations or {}},
            "spec": {"ports": ports or [{"name": "http", "port": 80, "targetPort": "http"}]}}


def _ing(annotations=None, class_name="alb", port=None, paths=None):
    paths = paths or [{"path": "/", "pathType": "Prefix",
                       "backend": {"service": {"name": "iagent-sample", "port": port or {"number": 80}}}}]
    spec = {"rules": [{"http": {"paths": paths}}]}
    if class_name:
        spec["ingressClassName"] = class_name
    return {"metadata": {"name": "iagent-sample", "namespace": "default", "annotations": annotations or {}},
            "spec": spec}


def test_model_defaults_are_lbc_defaults_and_tg_name_hashes_the_documented_fields():
    model = lbc_model.build_model(CLUSTER, _ing({"alb.ingress.kubernetes.io/target-type": "ip"}),
                                  {"iagent-sample": _svc()})
    assert model.scheme == "internal"
    (backend,) = model.backends
    assert backend.target_type == "ip" and backend.tg_port == 1   # named targetPort -> 1
    assert backend.health == lbc_model.HealthCheck("/", "traffic-port", 15, 5, 2, 2, "200")
    uuid = hashlib.sha256("".join([CLUSTER, "default/iagent-sample", "default", "iagent-sample", "uid-1",
                                   "80", "1", "ip", "HTTP", "HTTP1"]).encode()).hexdigest()
    assert backend.tg_name == f"k8s-default-iagentsa-{uuid[:10]}"


def test_model_reads_health_check_annotations_and_rejects_bad_ones():
    ann = {"alb.ingress.kubernetes.io/target-type": "ip", "alb.ingress.kubernetes.io/healthcheck-path": "/healthz",
           "alb.ingress.kubernetes.io/healthcheck-interval-seconds": "10",
           "alb.ingress.kubernetes.io/success-codes": "200-299"}
    (backend,) = lbc_model.build_model(CLUSTER, _ing(ann), {"iagent-sample": _svc()}).backends
    assert (backend.health.path, backend.health.interval) == ("/healthz", 10)
    assert backend.health.matches(204) and not backend.health.matches(404)
    with pytest.raises(lbc_model.ModelBuildError, match="unknown targetType: pod"):
        lbc_model.build_model(CLUSTER, _ing({"alb.ingress.kubernetes.io/target-type": "pod"}),
                              {"iagent-sample": _svc()})
    with pytest.raises(lbc_model.ModelBuildError, match='parsing "ten": invalid syntax'):
        lbc_model.build_model(CLUSTER, _ing({"alb.ingress.kubernetes.io/healthcheck-interval-seconds": "ten",
                                             "alb.ingress.kubernetes.io/target-type": "ip"}),
                              {"iagent-sample": _svc()})
    with pytest.raises(lbc_model.ModelBuildError, match="NodePort"):   # instance mode needs a NodePort
        lbc_model.build_model(CLUSTER, _ing(), {"iagent-sample": _svc()})
    with pytest.raises(lbc_model.ModelBuildError,
                       match='^ingress: default/iagent-sample: services "iagent-sample" not found$'):
        lbc_model.build_model(CLUSTER, _ing(), {})


def test_ingress_class_by_field_or_legacy_annotation():
    assert lbc_model.is_alb_ingress(_ing())
    assert not lbc_model.is_alb_ingress(_ing(class_name="nginx"))
    assert lbc_model.is_alb_ingress(_ing({"kubernetes.io/ingress.class": "alb"}, class_name=None))
    assert not lbc_model.is_alb_ingress(_ing(class_name=None))


# -- target health ---------------------------------------------------------------------------
def test_target_goes_initial_then_healthy_after_interval_times_threshold():
    th = TargetHealth(registered_at=0, checks_start=10, interval=15, healthy_threshold=2)
    th.advance(5)
    assert (th.state, th.reason) == ("initial", "Elb.RegistrationInProgress")
    assert th.description == "Target registration is in progress"
    th.observe(Probe.passing(), 5)
    assert th.next_change(5) == 10
    th.advance(10)
    assert (th.state, th.reason, th.description) == ("initial", "Elb.InitialHealthChecking",
                                                     "Initial health checks in progress")
    assert th.next_change(10) == 40
    assert not th.advance(39.9)
    assert th.advance(40)
    assert (th.state, th.reason, th.description) == ("healthy", None, None)
    assert th.next_change(41) is None          # steady: nothing to wake up for


def test_failing_pod_turns_target_unhealthy_with_reason_then_recovers_and_drains():
    th = TargetHealth(registered_at=0, checks_start=0, interval=15, healthy_threshold=2, unhealthy_threshold=2)
    th.observe(Probe.passing(), 0)
    th.advance(30)
    assert th.state == "healthy"
    th.observe(Probe.failing("Target.Timeout"), 100)
    th.advance(115)
    assert th.state == "healthy"               # one failed check is not enough
    th.advance(130)
    assert (th.state, th.reason, th.description) == ("unhealthy", "Target.Timeout", "Request timed out")
    reason, description = response_code_mismatch(404)
    th.observe(Probe.failing(reason, description), 140)
    th.advance(170)
    assert th.description == "Health checks failed with these codes: [404]"
    th.observe(Probe.passing(), 200)
    th.advance(230)
    assert th.state == "healthy"
    th.start_draining(240, 300)
    th.advance(250)
    assert (th.state, th.reason, th.description) == ("draining", "Target.DeregistrationInProgress",
                                                     "Target deregistration is in progress")
    assert not th.gone(539) and th.gone(540)


# -- IRSA --------------------------------------------------------------------------------------
ISSUER = "https://oidc.eks.eu-central-1.amazonaws.com/id/ABC123"
HOST = ISSUER.removeprefix("https://")
ROLE = "arn:aws:iam::123456789012:role/AmazonEKSLoadBalancerControllerRole"


def _trust(sub="system:serviceaccount:kube-system:aws-load-balancer-controller", host=HOST):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{host}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:aud": "sts.amazonaws.com", f"{host}:sub": sub}}}]})


def _irsa(role_arn=ROLE, roles=None, providers=(HOST,)):
    return lbc_irsa.check(role_arn=role_arn, namespace="kube-system",
                          service_account="aws-load-balancer-controller", issuer=ISSUER,
                          account_id="123456789012", roles_by_arn={ROLE: _trust()} if roles is None else roles,
                          oidc_provider_urls=set(providers))


def test_irsa_accepts_the_documented_trust_and_names_each_failure():
    assert _irsa() is None
    assert _irsa(role_arn=None) == lbc_irsa.NO_CREDENTIALS
    assert "No OpenIDConnect provider found" in _irsa(providers=())
    denied = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
    assert denied in _irsa(roles={})
    assert denied in _irsa(roles={ROLE: _trust(sub="system:serviceaccount:default:other")})
    assert denied in _irsa(roles={ROLE: _trust(host="oidc.eks.eu-central-1.amazonaws.com/id/OTHER")})


# -- chart -------------------------------------------------------------------------------------
def test_chart_renders_the_documented_install_and_refuses_without_cluster_name():
    values = parse_set_values(["clusterName=iagent-cluster", "serviceAccount.create=false",
                               "serviceAccount.name=aws-load-balancer-controller",
                               "region=eu-central-1", "vpcId=vpc-0123"])
    assert values["serviceAccount"] == {"create": False, "name": "aws-load-balancer-controller"}
    objects = dict((obj["kind"], obj) for _, obj in chart_objects(values))
    assert "ServiceAccount" not in objects
    deployment = objects["Deployment"]
    assert deployment["spec"]["replicas"] == 2
    pod_spec = deployment["spec"]["template"]["spec"]
    assert pod_spec["serviceAccountName"] == "aws-load-balancer-controller"
    assert pod_spec["containers"][0]["args"] == ["--cluster-name=iagent-cluster", "--ingress-class=alb",
                                                 "--aws-region=eu-central-1", "--aws-vpc-id=vpc-0123"]
    assert objects["IngressClass"]["spec"]["controller"] == "ingress.k8s.aws/alb"
    assert objects["Service"]["metadata"]["name"] == "aws-load-balancer-webhook-service"
    with pytest.raises(ChartError, match="Chart cannot be installed without a valid clusterName!"):
        chart_objects(parse_set_values(["region=eu-central-1"]))
    with pytest.raises(ChartError, match="has no value"):
        parse_set_values(["clusterName"])


# -- node shape --------------------------------------------------------------------------------
def test_t3_large_node_looks_like_an_eks_managed_node():
    node = node_shape.build_node(instance_id="i-0abc", private_ip="10.0.1.23", zone="eu-central-1a",
                                 region="eu-central-1", instance_type="t3.large", image_id="ami-0123",
                                 nodegroup="ng-1", k8s_version="1.31", now="2026-01-01T00:00:00Z")
    assert node["metadata"]["name"] == "ip-10-0-1-23.eu-central-1.compute.internal"
    labels = node["metadata"]["labels"]
    assert labels["eks.amazonaws.com/nodegroup"] == "ng-1"
    assert labels["eks.amazonaws.com/capacityType"] == "ON_DEMAND"
    assert labels["node.kubernetes.io/instance-type"] == labels["beta.kubernetes.io/instance-type"] == "t3.large"
    assert labels["topology.kubernetes.io/zone"] == "eu-central-1a"
    status = node["status"]
    assert status["capacity"]["cpu"] == "2" and status["capacity"]["pods"] == "35"
    assert status["allocatable"]["cpu"] == "1930m"
    assert status["nodeInfo"]["kubeletVersion"].startswith("v1.31.")
    assert status["nodeInfo"]["osImage"].startswith("Amazon Linux 2023")
    assert status["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://1.7.")
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
    assert {a["type"] for a in status["addresses"]} == {"InternalIP", "InternalDNS", "Hostname"}
    assert node["spec"]["providerID"] == "aws:///eu-central-1a/i-0abc"


# -- app responses -----------------------------------------------------------------------------
def test_apps_answer_like_the_images_they_run():
    nginx = {"metadata": {"name": "web-1"}, "spec": {"containers": [{"image": "public.ecr.aws/nginx/nginx:1.27"}]}}
    assert app_response(nginx, "/")[0] == 200 and "Welcome to nginx!" in app_response(nginx, "/")[2]
    assert app_response(nginx, "/healthz")[0] == 404
    api = {"metadata": {"name": "api-1", "labels": {"app.kubernetes.io/name": "iagent-api"}},
           "spec": {"containers": [{"image": "ghcr.io/iagent/iagent-api:1.4.2"}]}}
    status, content_type, body, _ = app_response(api, "/healthz")
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body)["service"] == "iagent-api"


# -- ALB routing ---------------------------------------------------------------------------------
def _entry(target_id: str, state: str) -> TargetEntry:
    health = TargetHealth(registered_at=0, checks_start=0)
    health.state = state
    return TargetEntry(target_id, 80, health)


def test_alb_routes_round_robin_over_healthy_fails_open_and_never_to_initial_or_draining():
    front = AlbFront(world=None)
    healthy = [_entry("10.0.0.1", "healthy"), _entry("10.0.0.2", "healthy"), _entry("10.0.0.3", "unhealthy")]
    picks = [front._pick("tg-a", healthy).target_id for _ in range(4)]
    assert picks == ["10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.2"]
    sick = [_entry("10.0.0.3", "unhealthy"), _entry("10.0.0.4", "unhealthy"), _entry("10.0.0.5", "draining")]
    assert {front._pick("tg-b", sick).target_id for _ in range(4)} == {"10.0.0.3", "10.0.0.4"}
    assert front._pick("tg-c", [_entry("10.0.0.6", "initial"), _entry("10.0.0.7", "unhealthy")]) is None
    assert front._pick("tg-d", [_entry("10.0.0.8", "draining")]) is None
    assert front._pick("tg-e", []) is None
