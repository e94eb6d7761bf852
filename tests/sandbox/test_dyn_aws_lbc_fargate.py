"""The load balancer controller on a migrated (Fargate) cluster: the chart installed through the
store, pod readiness gates mirroring target health, and instance targets that never register on
Fargate nodes (DOMAIN.md 6.3, 6.5)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from iagent_sandbox.controllers import fargate, kubelet, lbc, lbc_install, scheduler, workloads
from iagent_sandbox.controllers.logs import SandboxLogs
from iagent_sandbox.kube.resources import rt

from .dyn_aws_support import harness

CLUSTER = "iagent-cluster"
DEPLOYMENTS, SERVICES, INGRESSES = rt("deployments"), rt("services"), rt("ingresses")
PODS, TGBS, SAS, NAMESPACES, SECRETS = rt("pods"), rt("targetgroupbindings"), rt("serviceaccounts"), \
    rt("namespaces"), rt("secrets")
SAMPLE = Path(__file__).resolve().parents[2] / "manifests" / "sample-app.yaml"
GATE_PREFIX = "target-health.elbv2.k8s.aws/"


def _sample():
    return {doc["kind"]: doc for doc in yaml.safe_load_all(SAMPLE.read_text())}


def _sample_pods(store):
    pods = store.list(PODS, "default", label_selector="app.kubernetes.io/name=iagent-sample")[0]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def _condition(pod, ctype):
    return next((c for c in (pod.get("status") or {}).get("conditions") or [] if c["type"] == ctype), None)


async def _install_lbc(h):
    store = h.world.store
    role = (await h.call("iam", "get_role", RoleName="AmazonEKSLoadBalancerControllerRole"))["Role"]["Arn"]
    store.create(SAS, {"metadata": {"name": "aws-load-balancer-controller", "namespace": "kube-system",
                                    "labels": {"app.kubernetes.io/name": "aws-load-balancer-controller",
                                               "app.kubernetes.io/component": "controller"},
                                    "annotations": {"eks.amazonaws.com/role-arn": role}}})
    vpc = (await h.call("eks", "describe_cluster", name=CLUSTER))["cluster"]["resourcesVpcConfig"]["vpcId"]
    values = lbc_install.parse_set_values([
        f"clusterName={CLUSTER}", "serviceAccount.create=false", "serviceAccount.name=aws-load-balancer-controller",
        "region=eu-central-1"])
    lbc_install.install(store, values)      # forgot vpcId: fatal on Fargate (no instance metadata)
    return {**values, "vpcId": vpc}


def _controller_log(world) -> list[dict]:
    logs = SandboxLogs(world)
    pods = world.store.list(PODS, "kube-system", label_selector="app.kubernetes.io/name=aws-load-balancer-controller")[0]
    return [json.loads(text) for pod in pods for _, text in logs.pod_log(pod, "aws-load-balancer-controller")
            if text.startswith("{")]


async def test_readiness_gates_follow_target_health_and_instance_targets_skip_fargate():
    async with harness("migrated") as h:
        world, store = h.world, h.world.store
        h.start(fargate, scheduler, kubelet, workloads, lbc)
        store.mutate(NAMESPACES, None, "default", lambda o: o["metadata"].setdefault("labels", {}).__setitem__(
            "elbv2.k8s.aws/pod-readiness-gate-inject", "enabled"))
        values = await _install_lbc(h)
        sample = _sample()
        for kind, plural in (("Deployment", DEPLOYMENTS), ("Service", SERVICES), ("Ingress", INGRESSES)):
            store.create(plural, sample[kind])
        failed = await h.wait_for(lambda: [line for line in _controller_log(world)
                                           if line["msg"] == "unable to initialize AWS cloud"],
                                  timeout=30, what="cloud init failure logged")
        assert failed[0]["error"].startswith("failed to get VPC ID: failed to fetch VPC ID from instance metadata")
        assert not store.list(TGBS, "default")[0]
        assert not (await h.call("elbv2", "describe_load_balancers"))["LoadBalancers"]

        # helm upgrade --install with vpcId; a second identical upgrade changes nothing.
        lbc_install.install(store, values)
        generation = store.get(DEPLOYMENTS, "kube-system", "aws-load-balancer-controller")["metadata"]["generation"]
        lbc_install.install(store, values)
        assert store.get(DEPLOYMENTS, "kube-system", "aws-load-balancer-controller")["metadata"]["generation"] \
            == generation
        releases = store.list(SECRETS, "kube-system", label_selector="owner=helm,name=aws-load-balancer-controller")[0]
        assert sorted((s["metadata"]["labels"]["version"], s["metadata"]["labels"]["status"]) for s in releases) == \
            [("1", "superseded"), ("2", "superseded"), ("3", "deployed")]
        await h.wait_for(lambda: store.list(TGBS, "default")[0], timeout=30, what="TargetGroupBinding")
        (tgb,) = store.list(TGBS, "default")[0]
        gate = GATE_PREFIX + tgb["metadata"]["name"]
        # Pods created before the binding existed carry no gate (injection happens at creation).
        assert all(not p["spec"].get("readinessGates") for p in _sample_pods(store))

        # kubectl rollout restart: the new pods get the gate and are Ready only once healthy.
        world.clock.set_speed(10)
        store.patch(DEPLOYMENTS, "default", "iagent-sample", {"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}}, "application/strategic-merge-patch+json")

        def gated_waiting():
            for pod in _sample_pods(store):
                cond = _condition(pod, gate)
                if cond and cond["status"] == "False" and cond.get("reason", "").startswith("Elb."):
                    return pod
            return None
        waiting = await h.wait_for(gated_waiting, timeout=30, what="gate False while targets are initial")
        assert waiting["spec"]["readinessGates"] == [{"conditionType": gate}]
        assert _condition(waiting, "Ready")["status"] == "False"
        world.clock.set_speed(500)

        def all_gated_ready():
            pods = _sample_pods(store)
            return (len(pods) == 2 and all(p["spec"].get("readinessGates") for p in pods)
                    and all((_condition(p, gate) or {}).get("status") == "True" for p in pods)
                    and all((_condition(p, "Ready") or {}).get("status") == "True" for p in pods))
        await h.wait_for(all_gated_ready, timeout=30, what="gated pods Ready")

        # target-type instance on Fargate: the target group exists and stays empty.
        service = copy.deepcopy(sample["Service"])
        service["metadata"]["name"] = "iagent-sample-np"
        service["spec"]["type"] = "NodePort"
        store.create(SERVICES, service)
        ingress = copy.deepcopy(sample["Ingress"])
        ingress["metadata"]["name"] = "iagent-sample-instance"
        ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/target-type"] = "instance"
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "iagent-sample-np"
        store.create(INGRESSES, ingress)
        await h.wait_for(lambda: (store.get(INGRESSES, "default", "iagent-sample-instance").get("status") or {})
                         .get("loadBalancer"), timeout=30, what="instance ingress address")
        tgb = next(t for t in store.list(TGBS, "default")[0] if t["spec"]["serviceRef"]["name"] == "iagent-sample-np")
        assert tgb["spec"]["targetType"] == "instance"
        health = await h.call("elbv2", "describe_target_health", TargetGroupArn=tgb["spec"]["targetGroupARN"])
        assert health["TargetHealthDescriptions"] == []

        # helm uninstall removes the release's objects and records, not the user's service account.
        deleted = lbc_install.uninstall(store)
        assert "Deployment/aws-load-balancer-controller" in deleted and "IngressClass/alb" in deleted
        assert store.get(SAS, "kube-system", "aws-load-balancer-controller") is not None
        assert not store.list(SECRETS, "kube-system", label_selector="owner=helm")[0]
        with pytest.raises(lbc_install.ChartError, match="Release not loaded"):
            lbc_install.uninstall(store)
