"""The managed node group keeps EC2 instances (moto) and Node objects in step with desiredSize."""

from __future__ import annotations

from iagent_sandbox.clock import parse_rfc3339
from iagent_sandbox.controllers import nodegroup
from iagent_sandbox.kube.resources import rt

from .dyn_aws_support import harness

CLUSTER, GROUP = "iagent-cluster", "existing-nodes"
NODES, PODS = rt("nodes"), rt("pods")


def _nodes(world):
    return world.store.list(NODES, label_selector=f"eks.amazonaws.com/nodegroup={GROUP}")[0]


async def _running_instances(h):
    reply = await h.call("ec2", "describe_instances", Filters=[
        {"Name": "tag:eks:nodegroup-name", "Values": [GROUP]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])
    return [i for r in reply["Reservations"] for i in r["Instances"]]


async def test_node_group_scales_instances_and_nodes_with_desired_size():
    async with harness() as h:
        world = h.world
        started = world.clock.now()
        h.start(nodegroup)
        # desiredSize 2 in the scenario: instances at once, Nodes only after they boot (~90-150 s).
        instances = await h.wait_for(lambda: _running_instances(h), what="instances launched")
        assert len(instances) == 2
        await h.wait_for(lambda: len(_nodes(world)) == 2, what="two nodes")
        for node in _nodes(world):
            assert (parse_rfc3339(node["metadata"]["creationTimestamp"]) - started).total_seconds() >= 89

        instances = await _running_instances(h)
        tags = {t["Key"]: t["Value"] for t in instances[0]["Tags"]}
        assert tags["eks:cluster-name"] == CLUSTER and tags["eks:nodegroup-name"] == GROUP
        subnets = (await h.call("eks", "describe_nodegroup", clusterName=CLUSTER,
                                nodegroupName=GROUP))["nodegroup"]["subnets"]
        assert {i["SubnetId"] for i in instances} == set(subnets)   # spread over the AZs
        by_ip = {i["PrivateIpAddress"]: i for i in instances}
        for node in _nodes(world):
            ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
            assert node["metadata"]["name"] == f"ip-{ip.replace('.', '-')}.eu-central-1.compute.internal"
            assert node["spec"]["providerID"].endswith("/" + by_ip[ip]["InstanceId"])
            assert node["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "t3.large"
            assert node["metadata"]["labels"]["role"] == "general"    # the node group's own labels

        # Scale out to 3 through the EKS API, as a user would.
        await h.call("eks", "update_nodegroup_config", clusterName=CLUSTER, nodegroupName=GROUP,
                     scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 3})
        await h.wait_for(lambda: len(_nodes(world)) == 3, what="three nodes")

        # A pod on the node that will go: scale-in cordons and drains before terminating.
        victim_name = max(_nodes(world), key=lambda n: n["metadata"]["creationTimestamp"])["metadata"]["name"]
        world.store.create(PODS, {"metadata": {"name": "web-1", "namespace": "default"},
                                  "spec": {"nodeName": victim_name,
                                           "containers": [{"name": "web", "image": "nginx"}]}})
        await _wait_active(h)
        await h.call("eks", "update_nodegroup_config", clusterName=CLUSTER, nodegroupName=GROUP,
                      scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 1})
        await h.wait_for(lambda: (world.store.get(NODES, None, victim_name) or {}).get("spec", {})
                         .get("unschedulable"), what="victim cordoned")
        await h.wait_for(lambda: len(_nodes(world)) == 1, what="one node left")
        pod = world.store.get(PODS, "default", "web-1")
        assert pod is None or pod["metadata"].get("deletionTimestamp")   # drained
        assert len(await _running_instances(h)) == 1
        terminated = await h.call("ec2", "describe_instances", Filters=[
            {"Name": "tag:eks:nodegroup-name", "Values": [GROUP]},
            {"Name": "instance-state-name", "Values": ["terminated"]}])
        assert sum(len(r["Instances"]) for r in terminated["Reservations"]) == 2


async def _wait_active(h):
    async def active():
        reply = await h.call("eks", "describe_nodegroup", clusterName=CLUSTER, nodegroupName=GROUP)
        return reply["nodegroup"]["status"] == "ACTIVE"
    await h.wait_for(active, what="node group ACTIVE")
