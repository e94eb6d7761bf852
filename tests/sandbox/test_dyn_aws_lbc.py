"""The load balancer controller end to end: nothing without IRSA, then the ALB, target group,
TargetGroupBinding and ingress hostname with LBC's names; targets initial -> healthy, a pod going
unready turns its target unhealthy, draining on scale-in; the ALB answers over real HTTP."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import yaml

from iagent_sandbox.controllers import (alb, fargate, kubelet, lbc, lbc_install, lbc_model, nodegroup,
                                            scheduler, workloads)
from iagent_sandbox.controllers.lbc_irsa import NO_CREDENTIALS
from iagent_sandbox.controllers.logs import SandboxLogs
from iagent_sandbox.kube.resources import rt

from .dyn_aws_support import harness

CLUSTER = "iagent-cluster"
DEPLOYMENTS, SERVICES, INGRESSES = rt("deployments"), rt("services"), rt("ingresses")
PODS, EVENTS, TGBS, SAS = rt("pods"), rt("events"), rt("targetgroupbindings"), rt("serviceaccounts")
SAMPLE = Path(__file__).resolve().parents[2] / "manifests" / "sample-app.yaml"
LBC_ROLE = "AmazonEKSLoadBalancerControllerRole"


def _apply_sample(store):
    kinds = {"Deployment": DEPLOYMENTS, "Service": SERVICES, "Ingress": INGRESSES}
    for doc in yaml.safe_load_all(SAMPLE.read_text()):
        store.create(kinds[doc["kind"]], doc)


def _events(world, name, reason):
    events = world.store.list(EVENTS, "default")[0]
    return [e for e in events if e["involvedObject"]["name"] == name and e["reason"] == reason]


async def _irsa_role(h) -> str:
    issuer = (await h.call("eks", "describe_cluster", name=CLUSTER))["cluster"]["identity"]["oidc"]["issuer"]
    host = issuer.removeprefix("https://")
    provider = (await h.call("iam", "create_open_id_connect_provider", Url=issuer,
                             ClientIDList=["sts.amazonaws.com"],
                             ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]))["OpenIDConnectProviderArn"]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:aud": "sts.amazonaws.com",
                                       f"{host}:sub": "system:serviceaccount:kube-system:aws-load-balancer-controller"}}}]}
    return (await h.call("iam", "create_role", RoleName=LBC_ROLE,
                         AssumeRolePolicyDocument=json.dumps(trust)))["Role"]["Arn"]


async def _health(h, tg_arn):
    reply = await h.call("elbv2", "describe_target_health", TargetGroupArn=tg_arn)
    return {(d["Target"]["Id"], d["Target"]["Port"]): d["TargetHealth"] for d in reply["TargetHealthDescriptions"]}


async def test_lbc_needs_irsa_then_builds_alb_and_tracks_target_health():
    async with harness() as h:
        world, store = h.world, h.world.store
        h.start(fargate, nodegroup, scheduler, kubelet, workloads, lbc)
        front = await alb.start(world)
        try:
            _apply_sample(store)
            # Not installed: the app runs, the ingress stays without address, nothing in AWS.
            await h.wait_for(lambda: len([p for p in store.list(PODS, "default")[0]
                                          if (p.get("status") or {}).get("phase") == "Running"]) == 2,
                             timeout=30, what="sample pods running")
            assert not [e for e in store.list(EVENTS, "default")[0] if e["involvedObject"]["kind"] == "Ingress"]
            assert not (await h.call("elbv2", "describe_load_balancers"))["LoadBalancers"]
            vpc = (await h.call("eks", "describe_cluster", name=CLUSTER))["cluster"]["resourcesVpcConfig"]["vpcId"]
            store.create(SAS, {"metadata": {"name": "aws-load-balancer-controller", "namespace": "kube-system"}})
            lbc_install.install(store, lbc_install.parse_set_values([
                f"clusterName={CLUSTER}", "serviceAccount.create=false",
                "serviceAccount.name=aws-load-balancer-controller", "region=eu-central-1", f"vpcId={vpc}"]))

            # Installed and running, but no IRSA: the controller cannot get credentials.
            await h.wait_for(lambda: _events(world, "iagent-sample", "FailedBuildModel"), timeout=30,
                             what="FailedBuildModel without IRSA")
            event = _events(world, "iagent-sample", "FailedBuildModel")[0]
            assert event["type"] == "Warning" and event["message"] == "Failed build model due to " + NO_CREDENTIALS
            assert not (await h.call("elbv2", "describe_load_balancers"))["LoadBalancers"]
            assert not store.get(INGRESSES, "default", "iagent-sample").get("status", {}).get("loadBalancer")
            logs = SandboxLogs(world)
            controller_pods = store.list(PODS, "kube-system",
                                         label_selector="app.kubernetes.io/name=aws-load-balancer-controller")[0]
            logged = [json.loads(text) for pod in controller_pods
                      for _, text in logs.pod_log(pod, "aws-load-balancer-controller") if '"Reconciler error"' in text]
            assert logged and logged[0]["error"] == NO_CREDENTIALS and logged[0]["name"] == "iagent-sample"

            # IRSA as the user guide sets it up: OIDC provider, trusted role, annotated SA.
            role_arn = await _irsa_role(h)
            # Slow the clock while the targets register so their initial states can be observed
            # (at full test speed they last a tenth of a wall second).
            world.clock.set_speed(10)
            store.mutate(SAS, "kube-system", "aws-load-balancer-controller", lambda o: o["metadata"].setdefault(
                "annotations", {}).__setitem__("eks.amazonaws.com/role-arn", role_arn))

            # Targets show up initial first (observed before anything else, while the clock is slow).
            async def initial():
                for group in (await h.call("elbv2", "describe_target_groups"))["TargetGroups"]:
                    health = await _health(h, group["TargetGroupArn"])
                    if len(health) == 2 and all(v["State"] == "initial" for v in health.values()):
                        return health
                return None
            first = await h.wait_for(initial, timeout=30, what="initial targets")
            world.clock.set_speed(500)
            assert {(v["Reason"], v["Description"]) for v in first.values()} <= {
                ("Elb.RegistrationInProgress", "Target registration is in progress"),
                ("Elb.InitialHealthChecking", "Initial health checks in progress")}
            ingress = await h.wait_for(
                lambda: (store.get(INGRESSES, "default", "iagent-sample").get("status") or {}).get("loadBalancer"),
                what="ingress address")
            lb_name = lbc_model.load_balancer_name(CLUSTER, "default", "iagent-sample", "internet-facing")
            (lb,) = (await h.call("elbv2", "describe_load_balancers", Names=[lb_name]))["LoadBalancers"]
            assert ingress == {"ingress": [{"hostname": lb["DNSName"]}]}
            assert lb["Scheme"] == "internet-facing"
            assert re.fullmatch(rf"{lb_name}-\d{{10}}\.eu-central-1\.elb\.amazonaws\.com", lb["DNSName"])
            public = (await h.call("ec2", "describe_subnets", Filters=[
                {"Name": "tag-key", "Values": ["kubernetes.io/role/elb"]}]))["Subnets"]
            assert {z["SubnetId"] for z in lb["AvailabilityZones"]} == {s["SubnetId"] for s in public}
            assert _events(world, "iagent-sample", "SuccessfullyReconciled")[0]["message"] == "Successfully reconciled"
            log_msgs = [json.loads(text)["msg"] for pod in controller_pods
                        for _, text in logs.pod_log(pod, "aws-load-balancer-controller") if text.startswith("{")]
            assert {"creating loadBalancer", "created loadBalancer", "successfully deployed model"} <= set(log_msgs)

            svc_uid = store.get(SERVICES, "default", "iagent-sample")["metadata"]["uid"]
            tg_name = lbc_model.target_group_name(CLUSTER, "default", "iagent-sample", "default", "iagent-sample",
                                                  svc_uid, "80", 1, "ip")
            (tg,) = (await h.call("elbv2", "describe_target_groups", Names=[tg_name]))["TargetGroups"]
            assert (tg["TargetType"], tg["HealthCheckPath"], tg["HealthCheckIntervalSeconds"],
                    tg["HealthyThresholdCount"], tg["UnhealthyThresholdCount"], tg["Matcher"]["HttpCode"]) == \
                ("ip", "/", 15, 2, 2, "200")
            tgb = store.get(TGBS, "default", tg_name)
            assert tgb["spec"] == {"targetGroupARN": tg["TargetGroupArn"], "targetType": "ip",
                                   "serviceRef": {"name": "iagent-sample", "port": 80}, "ipAddressType": "ipv4"}

            # ... and healthy after the checks.
            async def all_healthy():
                health = await _health(h, tg["TargetGroupArn"])
                return len(health) == 2 and all(v["State"] == "healthy" for v in health.values()) and health
            health = await h.wait_for(all_healthy, timeout=30, what="two healthy targets")
            pods = [p for p in store.list(PODS, "default", label_selector="app.kubernetes.io/name=iagent-sample")[0]]
            assert set(health) == {(p["status"]["podIP"], 80) for p in pods}

            # The ALB answers: by Host header and as a forward proxy.
            async with aiohttp.ClientSession() as http:
                async with http.get(front.url + "/", headers={"Host": lb["DNSName"]}) as reply:
                    assert reply.status == 200 and "Welcome to nginx!" in await reply.text()
                async with http.get(f"http://{lb['DNSName']}/", proxy=front.url) as reply:
                    assert reply.status == 200
                async with http.get(front.url + "/", headers={"Host": "nowhere.elb.amazonaws.com"}) as reply:
                    assert reply.status == 404

            # A pod going unready (the app answers 503) turns its target unhealthy.
            sick = pods[0]
            store.mutate(PODS, "default", sick["metadata"]["name"], lambda o: o["metadata"].setdefault(
                "annotations", {}).__setitem__("sandbox.iagent.dev/unready", "true"))

            async def sick_unhealthy():
                return (await _health(h, tg["TargetGroupArn"])).get((sick["status"]["podIP"], 80), {})
            target = await h.wait_for(lambda: _is_unhealthy(sick_unhealthy()), timeout=30, what="unhealthy target")
            assert target == {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch",
                              "Description": "Health checks failed with these codes: [503]"}

            # Every target unhealthy: ELB fails open and routes to them anyway (the app's own 503,
            # not the load balancer's page).
            other = pods[1]
            store.mutate(PODS, "default", other["metadata"]["name"], lambda o: o["metadata"].setdefault(
                "annotations", {}).__setitem__("sandbox.iagent.dev/unready", "true"))

            async def all_unhealthy():
                health = await _health(h, tg["TargetGroupArn"])
                return len(health) == 2 and all(v["State"] == "unhealthy" for v in health.values())
            await h.wait_for(all_unhealthy, timeout=30, what="all targets unhealthy")
            async with aiohttp.ClientSession() as http:
                async with http.get(front.url + "/", headers={"Host": lb["DNSName"]}) as reply:
                    assert reply.status == 503 and reply.headers.get("Server") != "awselb/2.0"
                    assert await reply.text() == "Service Unavailable\n"

            # target-type instance on EC2 nodes: the nodes' instances on the service's NodePort.
            service = store.get(SERVICES, "default", "iagent-sample")
            store.create(SERVICES, {"metadata": {"name": "iagent-sample-np", "namespace": "default"},
                                    "spec": {"type": "NodePort", "selector": service["spec"]["selector"],
                                             "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})
            node_port = store.get(SERVICES, "default", "iagent-sample-np")["spec"]["ports"][0]["nodePort"]
            store.create(INGRESSES, {
                "metadata": {"name": "iagent-sample-instance", "namespace": "default"},
                "spec": {"ingressClassName": "alb", "rules": [{"http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": "iagent-sample-np", "port": {"number": 80}}}}]}}]}})
            internal = await h.wait_for(lambda: (store.get(INGRESSES, "default", "iagent-sample-instance")
                                                 .get("status") or {}).get("loadBalancer"), what="second address")
            tgb = next(t for t in store.list(TGBS, "default")[0] if t["spec"]["serviceRef"]["name"] == "iagent-sample-np")
            assert tgb["spec"]["targetType"] == "instance"
            (lb2,) = [l for l in (await h.call("elbv2", "describe_load_balancers"))["LoadBalancers"]
                      if l["DNSName"] == internal["ingress"][0]["hostname"]]
            assert lb2["Scheme"] == "internal"         # LBC's default scheme
            assert lb2["DNSName"].startswith("internal-k8s-default-iagentsa-")
            instances = (await h.call("ec2", "describe_instances", Filters=[
                {"Name": "tag:eks:cluster-name", "Values": [CLUSTER]},
                {"Name": "instance-state-name", "Values": ["running"]}]))["Reservations"]
            instance_ids = {i["InstanceId"] for r in instances for i in r["Instances"]}
            targets = await h.wait_for(lambda: _health(h, tgb["spec"]["targetGroupARN"]), what="instance targets")
            assert set(targets) == {(i, node_port) for i in instance_ids}

            # Scale to zero: targets drain for the deregistration delay, then the ALB has nothing.
            store.patch(DEPLOYMENTS, "default", "iagent-sample", {"spec": {"replicas": 0}},
                        "application/merge-patch+json")

            async def draining():
                health = await _health(h, tg["TargetGroupArn"])
                return health and all(v["State"] == "draining" for v in health.values()) and health
            drained = await h.wait_for(draining, timeout=30, what="draining targets")
            assert {v["Reason"] for v in drained.values()} == {"Target.DeregistrationInProgress"}
            await h.wait_for(lambda: _empty(_health(h, tg["TargetGroupArn"])), timeout=30, what="targets gone")
            async with aiohttp.ClientSession() as http:
                async with http.get(front.url + "/", headers={"Host": lb["DNSName"]}) as reply:
                    assert reply.status == 503 and "503 Service Temporarily Unavailable" in await reply.text()

            # Deleting the ingress deletes what the controller created.
            store.delete(INGRESSES, "default", "iagent-sample")
            store.delete(INGRESSES, "default", "iagent-sample-instance")
            await h.wait_for(lambda: not store.list(INGRESSES, "default")[0], what="ingresses gone")
            assert not (await h.call("elbv2", "describe_load_balancers"))["LoadBalancers"]
            assert not (await h.call("elbv2", "describe_target_groups"))["TargetGroups"]
            assert store.get(TGBS, "default", tg_name) is None
        finally:
            await front.stop()


async def _is_unhealthy(coro):
    value = await coro
    return value if value.get("State") == "unhealthy" else None


async def _empty(coro):
    return not await coro
