"""The EKS add-on API the sandbox adds on top of moto."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from .test_aws_fixtures import CLUSTER, Aws, aws, wait_for  # noqa: F401

NOT_SUPPORTED = "ConfigurationValue provided in request is not supported: "


async def addon(env: Aws, name: str) -> dict[str, Any]:
    return (await env.call("eks", "describe_addon", clusterName=CLUSTER, addonName=name))["addon"]


async def test_seeded_coredns(aws: Aws) -> None:
    coredns = await addon(aws, "coredns")
    assert coredns["status"] == "ACTIVE"
    assert coredns["addonVersion"] == "v1.11.3-eksbuild.2"
    assert "configurationValues" not in coredns
    assert coredns["health"] == {"issues": []}
    assert coredns["addonArn"].startswith(f"arn:aws:eks:eu-central-1:123456789012:addon/{CLUSTER}/coredns/")
    listed = await aws.call("eks", "list_addons", clusterName=CLUSTER)
    assert listed["addons"] == ["coredns", "kube-proxy", "vpc-cni"]


async def test_update_to_fargate_notifies_listeners_and_completes(aws: Aws) -> None:
    heard: list[tuple[str, str, dict]] = []
    event = asyncio.Event()

    async def listener(cluster: str, name: str, config: dict) -> None:
        heard.append((cluster, name, config))
        event.set()

    aws.sandbox.addon_update_listeners.append(listener)
    values = json.dumps({"computeType": "Fargate", "resources": {"limits": {"cpu": "0.25", "memory": "256M"}}})
    update = (await aws.call("eks", "update_addon", clusterName=CLUSTER, addonName="coredns",
                             resolveConflicts="OVERWRITE", configurationValues=values))["update"]
    assert (update["type"], update["status"]) == ("AddonUpdate", "InProgress")
    assert {"type": "ConfigurationValues", "value": values} in update["params"]
    assert {"type": "ResolveConflicts", "value": "OVERWRITE"} in update["params"]
    await asyncio.wait_for(event.wait(), timeout=10)
    assert heard == [(CLUSTER, "coredns", json.loads(values))]
    assert (await addon(aws, "coredns"))["status"] in ("UPDATING", "ACTIVE")

    async def successful() -> bool:
        described = await aws.call("eks", "describe_update", name=CLUSTER, updateId=update["id"], addonName="coredns")
        return described["update"]["status"] == "Successful"

    await wait_for(successful, what="add-on update Successful")
    coredns = await addon(aws, "coredns")
    assert (coredns["status"], coredns["configurationValues"]) == ("ACTIVE", values)
    assert aws.sandbox.addon(CLUSTER, "coredns")["configuration"]["computeType"] == "Fargate"
    ids = await aws.call("eks", "list_updates", name=CLUSTER, addonName="coredns")
    assert ids["updateIds"] == [update["id"]]


async def test_controller_decides_a_controlled_update(aws: Aws) -> None:
    aws.sandbox.controlled_addons.add("coredns")
    update = (await aws.call("eks", "update_addon", clusterName=CLUSTER, addonName="coredns",
                             configurationValues='{"computeType":"Fargate"}'))["update"]
    # Controlled: stays UPDATING however much simulated time passes.
    aws.sandbox.clock.set_speed(1_000_000)
    assert (await addon(aws, "coredns"))["status"] == "UPDATING"
    error = await aws.error("eks", "update_addon", clusterName=CLUSTER, addonName="coredns", configurationValues="{}")
    assert (error["code"], error["status"]) == ("ResourceInUseException", 409)

    issue = {"code": "InsufficientNumberOfReplicas", "resourceIds": ["kube-system/coredns"],
             "message": "The add-on is unhealthy because it doesn't have the desired number of replicas."}
    aws.sandbox.complete_addon_update(CLUSTER, "coredns", "DEGRADED", [issue])
    coredns = await addon(aws, "coredns")
    assert coredns["status"] == "DEGRADED"
    assert coredns["health"]["issues"] == [issue]
    described = (await aws.call("eks", "describe_update", name=CLUSTER, updateId=update["id"], addonName="coredns"))["update"]
    assert described["status"] == "Failed"
    assert described["errors"] == [{"errorCode": "InsufficientNumberOfReplicas", "errorMessage": issue["message"],
                                    "resourceIds": ["kube-system/coredns"]}]
    # A DEGRADED add-on heals when the controller says so.
    aws.sandbox.set_addon_health(CLUSTER, "coredns", "ACTIVE", [])
    assert (await addon(aws, "coredns"))["health"] == {"issues": []}
    with pytest.raises(ValueError):
        aws.sandbox.set_addon_health(CLUSTER, "coredns", "DEGRADED", [{"code": "NoSuchCode", "message": "x"}])


CONFIG_CASES = [
    ('{"computeType2": "Fargate"}',
     "Json schema validation failed with error: [$.computeType2: is not defined in the schema and the "
     "schema does not allow additional properties]"),
    ('{"replicaCount": "two"}',
     "Json schema validation failed with error: [$.replicaCount: string found, integer expected]"),
    ('{"resources": {"limits": {"gpu": "1"}}}',
     "Json schema validation failed with error: [$.resources.limits.gpu: is not defined in the schema "
     "and the schema does not allow additional properties]"),
    ('["computeType"]', "Json schema validation failed with error: [$: array found, object expected]"),
]


async def test_invalid_configuration_values(aws: Aws) -> None:
    for values, detail in CONFIG_CASES:
        error = await aws.error("eks", "update_addon", clusterName=CLUSTER, addonName="coredns",
                                configurationValues=values)
        assert (error["code"], error["status"]) == ("InvalidParameterException", 400)
        assert error["message"] == NOT_SUPPORTED + detail
    assert (await addon(aws, "coredns"))["status"] == "ACTIVE"  # nothing started


async def test_unparseable_configuration_and_yaml(aws: Aws) -> None:
    error = await aws.error("eks", "update_addon", clusterName=CLUSTER, addonName="coredns",
                            configurationValues='{"computeType": ')
    assert error["code"] == "InvalidParameterException"
    assert error["message"].startswith(NOT_SUPPORTED + "configuration values are neither valid JSON nor valid YAML")
    # EKS also accepts YAML.
    update = await aws.call("eks", "update_addon", clusterName=CLUSTER, addonName="coredns",
                            configurationValues="computeType: Fargate\nreplicaCount: 3\n")
    assert update["update"]["status"] == "InProgress"


async def test_configuration_schema_and_versions(aws: Aws) -> None:
    out = await aws.call("eks", "describe_addon_configuration", addonName="coredns", addonVersion="v1.11.3-eksbuild.2")
    schema = json.loads(out["configurationSchema"])
    assert schema["additionalProperties"] is False
    assert {"computeType", "corefile", "nodeSelector", "replicaCount", "resources", "tolerations", "affinity"} <= set(
        schema["properties"])
    versions = await aws.call("eks", "describe_addon_versions", addonName="coredns", kubernetesVersion="1.31")
    (info,) = versions["addons"]
    tags = [v["addonVersion"] for v in info["addonVersions"]]
    assert "v1.11.3-eksbuild.2" in tags
    defaults = [v["addonVersion"] for v in info["addonVersions"]
                if any(c["defaultVersion"] for c in v["compatibilities"])]
    assert len(defaults) == 1
    error = await aws.error("eks", "describe_addon_configuration", addonName="coredns", addonVersion="v0.0.1")
    assert (error["code"], error["message"]) == ("InvalidParameterException", "Addon version specified is not supported")


async def test_delete_and_create_lifecycle(aws: Aws) -> None:
    deleted = await aws.call("eks", "delete_addon", clusterName=CLUSTER, addonName="kube-proxy")
    assert deleted["addon"]["status"] == "DELETING"

    async def gone() -> bool:
        listed = await aws.call("eks", "list_addons", clusterName=CLUSTER)
        return "kube-proxy" not in listed["addons"]

    await wait_for(gone, what="kube-proxy deleted")
    error = await aws.error("eks", "describe_addon", clusterName=CLUSTER, addonName="kube-proxy")
    assert (error["code"], error["status"], error["message"]) == (
        "ResourceNotFoundException", 404, f"No addon: kube-proxy found in cluster: {CLUSTER}")

    heard: list[tuple[str, str, dict]] = []
    aws.sandbox.addon_update_listeners = [lambda c, n, cfg: heard.append((c, n, cfg))]  # plain callables too
    created = (await aws.call("eks", "create_addon", clusterName=CLUSTER, addonName="kube-proxy"))["addon"]
    assert (created["status"], created["addonVersion"]) == ("CREATING", "v1.31.2-eksbuild.3")
    assert heard == [(CLUSTER, "kube-proxy", {})]
    waiter = aws.client("eks").get_waiter("addon_active")
    await asyncio.to_thread(waiter.wait, clusterName=CLUSTER, addonName="kube-proxy",
                            WaiterConfig={"Delay": 0.05, "MaxAttempts": 400})

    error = await aws.error("eks", "create_addon", clusterName=CLUSTER, addonName="kube-proxy")
    assert (error["code"], error["status"], error["message"]) == ("ResourceInUseException", 409, "Addon already exists.")
    error = await aws.error("eks", "update_addon", clusterName=CLUSTER, addonName="vpc-cni", addonVersion="v9.9.9-eksbuild.1")
    assert (error["code"], error["message"]) == ("InvalidParameterException", "Addon version specified is not supported")
    error = await aws.error("eks", "create_addon", clusterName=CLUSTER, addonName="no-such-addon")
    assert (error["code"], error["message"]) == ("InvalidParameterException", "Addon specified is not supported")
    error = await aws.error("eks", "describe_update", name=CLUSTER, updateId="nope", addonName="coredns")
    assert (error["code"], error["message"]) == ("ResourceNotFoundException", "No update found for ID: nope")
