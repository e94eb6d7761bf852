"""Managed node group scaling through update-nodegroup-config."""

from __future__ import annotations

from .test_aws_fixtures import CLUSTER, Aws, aws, wait_for  # noqa: F401

NODEGROUP = "existing-nodes"


async def test_scaling_reports_the_new_size_and_settles(aws: Aws) -> None:
    update = (await aws.call("eks", "update_nodegroup_config", clusterName=CLUSTER, nodegroupName=NODEGROUP,
                             scalingConfig={"desiredSize": 3}))["update"]
    assert (update["type"], update["status"]) == ("ConfigUpdate", "InProgress")
    assert update["params"] == [{"type": "DesiredSize", "value": "3"}]

    seen = aws.sandbox.nodegroup(CLUSTER, NODEGROUP)
    assert seen["scalingConfig"] == {"minSize": 1, "maxSize": 4, "desiredSize": 3}
    assert (seen["instanceTypes"], seen["capacityType"]) == (["t3.large"], "ON_DEMAND")
    assert seen["subnets"] == aws.ids["private_subnets"]
    assert seen["nodeRole"] == aws.ids["node_role_arn"]

    async def settled() -> bool:
        described = await aws.call("eks", "describe_update", name=CLUSTER, updateId=update["id"],
                                   nodegroupName=NODEGROUP)
        return described["update"]["status"] == "Successful"

    await wait_for(settled, what="node group update Successful")
    nodegroup = (await aws.call("eks", "describe_nodegroup", clusterName=CLUSTER, nodegroupName=NODEGROUP))["nodegroup"]
    assert nodegroup["status"] == "ACTIVE"
    assert nodegroup["scalingConfig"]["desiredSize"] == 3
    listed = await aws.call("eks", "list_updates", name=CLUSTER, nodegroupName=NODEGROUP)
    assert listed["updateIds"] == [update["id"]]


async def test_scaling_via_cli_while_updating_and_invalid_sizes(aws: Aws) -> None:
    # The CLI takes seconds of real time to start: slow the clock so the update stays in flight.
    aws.sandbox.clock.set_speed(0.1)
    _, out, _ = await aws.cli("eks", "update-nodegroup-config", "--cluster-name", CLUSTER,
                              "--nodegroup-name", NODEGROUP, "--scaling-config", "minSize=0,maxSize=4,desiredSize=0")
    assert out["update"]["status"] == "InProgress"
    assert aws.sandbox.nodegroup(CLUSTER, NODEGROUP)["status"] == "UPDATING"
    error = await aws.error("eks", "update_nodegroup_config", clusterName=CLUSTER, nodegroupName=NODEGROUP,
                            scalingConfig={"desiredSize": 1})
    assert (error["code"], error["status"]) == ("ResourceInUseException", 409)

    aws.sandbox.clock.set_speed(100_000)
    await wait_for(lambda: _active(aws), what="node group ACTIVE")
    error = await aws.error("eks", "update_nodegroup_config", clusterName=CLUSTER, nodegroupName=NODEGROUP,
                            scalingConfig={"desiredSize": 5})
    assert (error["code"], error["message"]) == ("InvalidParameterException",
                                                  "Desired capacity 5 can't be greater than max size 4")
    error = await aws.error("eks", "update_nodegroup_config", clusterName=CLUSTER, nodegroupName="nope",
                            scalingConfig={"desiredSize": 1})
    assert (error["code"], error["message"]) == ("ResourceNotFoundException", "No node group found for name: nope.")
    assert aws.sandbox.nodegroup(CLUSTER, NODEGROUP)["scalingConfig"]["desiredSize"] == 0


async def _active(env: Aws) -> bool:
    return env.sandbox.nodegroup(CLUSTER, NODEGROUP)["status"] == "ACTIVE"
