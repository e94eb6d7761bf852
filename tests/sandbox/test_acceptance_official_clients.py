"""The brief's migration by hand against a running sandbox, checked only with the official clients
(boto3 and the `kubernetes` client) — what issue "Sandbox dynamics" asks a new user to try:
a pod execution role and a profile for `default` made the way the brief makes them, a rollout
restart, and the pods on nodes that `-l eks.amazonaws.com/compute-type=fargate` lists."""

from __future__ import annotations

import json

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ..conftest import wait_for

ROLE = "AmazonEKSFargatePodExecutionRole"
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "eks-fargate-pods.amazonaws.com"}, "Action": "sts:AssumeRole",
    "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:eks:eu-central-1:123456789012:fargateprofile/iagent-cluster/*"}}}]}


@pytest.fixture(scope="module")
def apis(k8s):
    from kubernetes import client
    return client.CoreV1Api(k8s), client.AppsV1Api(k8s), client.CustomObjectsApi(k8s)


def test_profile_for_default_then_rollout_restart_moves_pods_to_fargate(sandbox, aws, apis):
    core, apps, _ = apis
    iam, eks, ec2 = aws("iam"), aws("eks"), aws("ec2")
    role_arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    iam.attach_role_policy(RoleName=ROLE, PolicyArn="arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy")
    private = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[
        {"Name": "tag:kubernetes.io/role/internal-elb", "Values": ["1"]}])["Subnets"]]
    created = eks.create_fargate_profile(clusterName="iagent-cluster", fargateProfileName="fp-default",
                                         podExecutionRoleArn=role_arn, subnets=private,
                                         selectors=[{"namespace": "default"}])
    assert created["fargateProfile"]["status"] == "CREATING"
    with pytest.raises(ClientError) as second:  # one profile in transition at a time
        eks.create_fargate_profile(clusterName="iagent-cluster", fargateProfileName="fp-prod",
                                   podExecutionRoleArn=role_arn, subnets=private, selectors=[{"namespace": "prod"}])
    assert second.value.response["Error"]["Code"] == "ResourceInUseException"
    wait_for(lambda: eks.describe_fargate_profile(clusterName="iagent-cluster", fargateProfileName="fp-default")
             ["fargateProfile"]["status"] == "ACTIVE", timeout=60, message="fp-default ACTIVE")

    before = {p.metadata.name for p in core.list_namespaced_pod("default").items}
    apps.patch_namespaced_deployment("iagent-web", "default", {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-11-26T12:00:00Z"}}}}})

    def moved():
        pods = [p for p in core.list_namespaced_pod("default").items
                if p.metadata.name not in before and p.status.phase == "Running"]
        fargate_nodes = {n.metadata.name for n in core.list_node(
            label_selector="eks.amazonaws.com/compute-type=fargate").items}
        old_left = [p for p in core.list_namespaced_pod("default").items if p.metadata.name in before]
        return pods and not old_left and all(p.spec.node_name in fargate_nodes for p in pods) and pods
    pods = wait_for(moved, timeout=90, message="iagent-web pods running on Fargate nodes")
    pod = pods[0]
    assert pod.spec.scheduler_name == "fargate-scheduler"
    assert pod.metadata.labels["eks.amazonaws.com/fargate-profile"] == "fp-default"
    assert pod.metadata.annotations["CapacityProvisioned"].endswith("GB")
    node = core.read_node(pod.spec.node_name)
    assert node.metadata.name.startswith("fargate-ip-") and node.status.capacity["pods"] == "1"
    assert {"key": "eks.amazonaws.com/compute-type", "value": "fargate", "effect": "NoSchedule"} in [
        {"key": t.key, "value": t.value, "effect": t.effect} for t in node.spec.taints]
    events = core.list_namespaced_event("default", field_selector=f"involvedObject.name={pod.metadata.name}").items
    scheduled = [e for e in events if e.reason == "Scheduled"]
    assert scheduled and scheduled[0].source.component == "fargate-scheduler"
    at = {e.reason: e.first_timestamp for e in events}
    assert {"Scheduled", "Pulling", "Pulled", "Created", "Started"} <= set(at)
    assert at["Scheduled"] <= at["Pulling"] <= at["Pulled"] <= at["Created"] <= at["Started"]
    # Fargate capacity takes 30-45 s (simulated) before the pod is bound: DOMAIN.md 7.1
    waited = (at["Scheduled"] - pod.metadata.creation_timestamp).total_seconds()
    assert 30 <= waited <= 46


def test_metrics_api_reports_usage_for_running_pods(apis):
    _, _, custom = apis
    metrics = wait_for(lambda: custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "prod", "pods")["items"],
                       timeout=30, message="pod metrics")
    usage = metrics[0]["containers"][0]["usage"]
    assert usage["cpu"] and usage["memory"]


def test_node_group_scaling_adds_a_node(aws, apis):
    core, _, _ = apis
    eks = aws("eks")
    eks.update_nodegroup_config(clusterName="iagent-cluster", nodegroupName="existing-nodes",
                                scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 3})
    wait_for(lambda: len([n for n in core.list_node(label_selector="eks.amazonaws.com/nodegroup=existing-nodes").items
                          if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions)]) == 3,
             timeout=60, message="a third Ready node")
    group = eks.describe_nodegroup(clusterName="iagent-cluster", nodegroupName="existing-nodes")["nodegroup"]
    assert group["scalingConfig"]["desiredSize"] == 3


def test_throttling_fault_answers_as_aws_does(sandbox):
    import boto3
    info = sandbox.info
    eks = boto3.client("eks", region_name=info.region, endpoint_url=info.aws_endpoint,
                       aws_access_key_id=info.access_key_id, aws_secret_access_key=info.secret_access_key,
                       config=Config(retries={"mode": "standard", "max_attempts": 1}))
    faults = sandbox.runtime.world.aws.faults
    sandbox.call(setattr, faults, "throttle_rate", 1.0)
    try:
        with pytest.raises(ClientError) as err:
            eks.describe_cluster(name="iagent-cluster")
        assert err.value.response["Error"]["Code"] == "ThrottlingException"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    finally:
        sandbox.call(setattr, faults, "throttle_rate", 0.0)
    assert eks.describe_cluster(name="iagent-cluster")["cluster"]["status"] == "ACTIVE"
