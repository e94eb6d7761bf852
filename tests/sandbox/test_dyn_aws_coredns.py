"""CoreDNS add-on computeType: Fargate and back, through the EKS API, with the sandbox's workload
controllers (deployments, schedulers, Fargate, kubelet) and the node group running for real."""

from __future__ import annotations

import json

from iagent_sandbox.controllers import (coredns_addon, fargate, kubelet, nodegroup, profiles, scheduler,
                                            workloads)
from iagent_sandbox.kube.resources import rt

from .dyn_aws_support import harness

CLUSTER, GROUP = "iagent-cluster", "existing-nodes"
DEPLOYMENTS, PODS, NODES = rt("deployments"), rt("pods"), rt("nodes")
NO_NODES = ("The add-on is unhealthy because all deployments have all pods unscheduled "
            "no nodes available to schedule pods")

COREDNS = {
    "metadata": {"name": "coredns", "namespace": "kube-system",
                 "labels": {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"}},
        "template": {
            "metadata": {"labels": {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"},
                         "annotations": {"eks.amazonaws.com/compute-type": "ec2"}},
            "spec": {"containers": [{
                "name": "coredns",
                "image": "602401143452.dkr.ecr.eu-central-1.amazonaws.com/eks/coredns:v1.11.3-eksbuild.2",
                "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
                "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"}]}]}}}}


def _coredns_pods(world):
    pods = world.store.list(PODS, "kube-system", label_selector="k8s-app=kube-dns")[0]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def _all_on(world, prefix: str) -> bool:
    pods = _coredns_pods(world)
    deployment = world.store.get(DEPLOYMENTS, "kube-system", "coredns")
    return (len(pods) == 2 and all((p["spec"].get("nodeName") or "").startswith(prefix) for p in pods)
            and deployment and coredns_addon.replicas_settled(deployment))


def _template_annotations(world) -> dict:
    deployment = world.store.get(DEPLOYMENTS, "kube-system", "coredns")
    return deployment["spec"]["template"]["metadata"].get("annotations") or {}


async def _addon(h):
    return (await h.call("eks", "describe_addon", clusterName=CLUSTER, addonName="coredns"))["addon"]


async def _update(h, config: dict) -> str:
    reply = await h.call("eks", "update_addon", clusterName=CLUSTER, addonName="coredns",
                         resolveConflicts="OVERWRITE", configurationValues=json.dumps(config))
    return reply["update"]["id"]


async def _update_status(h, update_id: str) -> str:
    reply = await h.call("eks", "describe_update", name=CLUSTER, updateId=update_id, addonName="coredns")
    return reply["update"]["status"]


async def _status_is(h, status: str):
    async def check():
        return (await _addon(h))["status"] == status
    await h.wait_for(check, what=f"coredns add-on {status}")
    return await _addon(h)


async def _scale_nodes(h, desired: int):
    async def active():
        reply = await h.call("eks", "describe_nodegroup", clusterName=CLUSTER, nodegroupName=GROUP)
        return reply["nodegroup"]["status"] == "ACTIVE"
    await h.wait_for(active, what="node group ACTIVE")
    await h.call("eks", "update_nodegroup_config", clusterName=CLUSTER, nodegroupName=GROUP,
                 scalingConfig={"minSize": 0, "maxSize": 4, "desiredSize": desired})


async def _create_kube_system_profile(h):
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "eks-fargate-pods.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:eks:eu-central-1:123456789012:fargateprofile/{CLUSTER}/*"}}}]}
    role = (await h.call("iam", "create_role", RoleName="AmazonEKSFargatePodExecutionRole",
                         AssumeRolePolicyDocument=json.dumps(trust)))["Role"]["Arn"]
    await h.call("iam", "attach_role_policy", RoleName="AmazonEKSFargatePodExecutionRole",
                 PolicyArn="arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy")
    nodegroup_subnets = (await h.call("eks", "describe_nodegroup", clusterName=CLUSTER,
                                      nodegroupName=GROUP))["nodegroup"]["subnets"]
    await h.call("eks", "create_fargate_profile", clusterName=CLUSTER, fargateProfileName="coredns",
                 podExecutionRoleArn=role, subnets=nodegroup_subnets,
                 selectors=[{"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}}])

    async def active():
        reply = await h.call("eks", "describe_fargate_profile", clusterName=CLUSTER, fargateProfileName="coredns")
        return reply["fargateProfile"]["status"] == "ACTIVE"
    await h.wait_for(active, what="profile ACTIVE")


async def test_coredns_compute_type_fargate_degraded_without_profile_then_active_and_back_to_ec2():
    # The add-on's outcome depends on simulated grace periods (pods ready within ~60 s): at the
    # default test speed a loaded machine's scheduling hiccups alone can exceed them.
    async with harness(speed=100.0) as h:
        world = h.world
        h.start(fargate, nodegroup, scheduler, kubelet, workloads, profiles, coredns_addon)
        world.store.create(DEPLOYMENTS, COREDNS)
        await h.wait_for(lambda: _all_on(world, "ip-"), what="coredns running on EC2 nodes")
        assert (await _addon(h))["status"] == "ACTIVE"

        # No EC2 capacity and no Fargate profile: the new pods cannot be scheduled anywhere.
        await _scale_nodes(h, 0)
        await h.wait_for(lambda: not world.store.list(NODES)[0], timeout=30, what="EC2 nodes gone")
        to_fargate = await _update(h, {"computeType": "Fargate"})
        await h.wait_for(lambda: "eks.amazonaws.com/compute-type" not in _template_annotations(world),
                         what="compute-type annotation removed")
        addon = await _status_is(h, "DEGRADED")
        assert addon["health"]["issues"] == [{"code": "InsufficientNumberOfReplicas", "message": NO_NODES,
                                              "resourceIds": ["coredns"]}]
        assert await _update_status(h, to_fargate) == "Failed"

        # A profile created afterwards does not move existing pods; a restart does, and the
        # add-on recovers on its own.
        await _create_kube_system_profile(h)
        assert (await _addon(h))["status"] == "DEGRADED"
        world.store.patch(DEPLOYMENTS, "kube-system", "coredns",
                          {"spec": {"template": {"metadata": {"annotations": {
                              "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}},
                          "application/strategic-merge-patch+json")
        await h.wait_for(lambda: _all_on(world, "fargate-ip-"), timeout=30, what="coredns on Fargate")
        addon = await _status_is(h, "ACTIVE")
        assert addon["health"]["issues"] == []

        # Back to EC2: the annotation returns and the pods go to the (scaled-up) node group.
        await _scale_nodes(h, 1)
        await h.wait_for(lambda: world.store.list(NODES, label_selector="eks.amazonaws.com/nodegroup")[0],
                         timeout=30, what="an EC2 node")
        await _status_is(h, "ACTIVE")
        to_ec2 = await _update(h, {})
        await h.wait_for(lambda: _template_annotations(world).get("eks.amazonaws.com/compute-type") == "ec2",
                         what="compute-type: ec2 back")
        await h.wait_for(lambda: _all_on(world, "ip-"), timeout=30, what="coredns back on EC2")
        await _status_is(h, "ACTIVE")

        async def successful():
            return await _update_status(h, to_ec2) == "Successful"
        await h.wait_for(successful, what="EC2 update Successful")

        # With the kube-system profile already there, computeType Fargate just works: the
        # add-on's own rollout lands the pods on Fargate and the update succeeds.
        again = await _update(h, {"computeType": "Fargate"})
        await h.wait_for(lambda: _all_on(world, "fargate-ip-"), timeout=30, what="coredns on Fargate again")
        await _status_is(h, "ACTIVE")

        async def again_successful():
            return await _update_status(h, again) == "Successful"
        await h.wait_for(again_successful, what="Fargate update Successful")
