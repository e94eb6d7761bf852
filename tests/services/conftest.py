"""Fixtures for the service-layer tests: a moto server in a thread for the AWS reads."""

from __future__ import annotations

import os
import urllib.request

import pytest

FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAIAGENTTEST000001", "AWS_SECRET_ACCESS_KEY": "iagent-test-secret", "AWS_DEFAULT_REGION": "eu-central-1"}


@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch):
    """Throw-away credentials so nothing reaches a real account or a developer's profile."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in FAKE_KEYS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return FAKE_KEYS


def _reset_moto(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()


@pytest.fixture
def moto(moto_endpoint, aws_env):
    """A clean moto state for each test, cleaned again afterwards: moto's backends are global to
    the process, and the sandbox (tests/conftest.py) seeds the same in-process moto later."""
    _reset_moto(moto_endpoint)
    yield moto_endpoint
    _reset_moto(moto_endpoint)


# -- a small real cluster: moto for AWS, the sandbox's Kubernetes API server for Kubernetes ------
REGION = "eu-central-1"
CLUSTER = "iagent-cluster"
KUBE_TOKEN = "services-test-token"
FARGATE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks-fargate-pods.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def seed_aws(endpoint: str) -> dict:
    """An EKS cluster with two Fargate profiles and a node group, written with boto3."""
    import json

    import boto3

    def client(service):
        return boto3.client(service, region_name=REGION, endpoint_url=endpoint)

    ec2, iam, eks = client("ec2"), client("iam"), client("eks")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
               for i, az in enumerate("ab")]
    role = iam.create_role(RoleName="AmazonEKSFargatePodExecutionRole", AssumeRolePolicyDocument=json.dumps(FARGATE_TRUST))["Role"]["Arn"]
    eks.create_cluster(name=CLUSTER, roleArn=role, resourcesVpcConfig={"subnetIds": subnets})
    for name, ns in (("fp-default", "default"), ("fp-prod", "prod")):
        eks.create_fargate_profile(fargateProfileName=name, clusterName=CLUSTER, podExecutionRoleArn=role,
                                   subnets=subnets[:1], selectors=[{"namespace": ns}])
    return {"vpc": vpc, "subnets": subnets, "role": role}


def seed_kube(store) -> None:
    """Two nodes (EC2 + Fargate) and pods on them, written straight into the API server's store."""
    from iagent_sandbox.kube.resources import rt

    def node(name, fargate):
        labels = {"topology.kubernetes.io/zone": f"{REGION}a"}
        if fargate:
            labels["eks.amazonaws.com/compute-type"] = "fargate"
        else:
            labels["node.kubernetes.io/instance-type"] = "t3.medium"
        obj = store.create(rt("nodes"), {"metadata": {"name": name, "labels": labels}})
        obj["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
        store.replace_status(rt("nodes"), obj)

    node("ip-10-0-0-10.eu-central-1.compute.internal", False)
    node("fargate-ip-10-0-0-21.eu-central-1.compute.internal", True)
    pods = [
        ("default", "web-1", "fargate-ip-10-0-0-21.eu-central-1.compute.internal", {"app": "web", "eks.amazonaws.com/fargate-profile": "fp-default"}, {"CapacityProvisioned": "0.25vCPU 0.5GB"}),
        ("kube-system", "coredns-abc", "ip-10-0-0-10.eu-central-1.compute.internal", {"k8s-app": "kube-dns"}, {}),
    ]
    for ns, name, node_name, labels, annotations in pods:
        store.create(rt("pods"), {
            "metadata": {"name": name, "labels": labels, "annotations": annotations},
            "spec": {"nodeName": node_name, "containers": [{"name": "c", "image": "nginx",
                     "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "100m", "memory": "128Mi"}}}]},
        }, namespace=ns)


@pytest.fixture
async def kube_server():
    from iagent_sandbox.clock import SandboxClock
    from iagent_sandbox.kube.server import KubeApiServer
    from iagent_sandbox.kube.store import ObjectStore

    clock = SandboxClock(speed=100, seed=5)
    store = ObjectStore(clock)
    api = KubeApiServer(store, clock, KUBE_TOKEN)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


def make_connection(kube_url: str, ca_pem: bytes, aws_endpoint: str | None, token: str = KUBE_TOKEN):
    from iagent_tui.services.auth import StaticToken
    from iagent_tui.services.connection import AwsTarget, Connection, KubeTarget

    kube = KubeTarget(server=kube_url, token=StaticToken(token), ca_data=ca_pem, context="services-test")
    return Connection(CLUSTER, AwsTarget(REGION, endpoint_url=aws_endpoint), kube)
