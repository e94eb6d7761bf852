"""DescribeTargetHealth reports what the (simulated) load balancer controller decides."""

from __future__ import annotations

import asyncio
import pytest

from .test_aws_fixtures import Aws, aws  # noqa: F401


async def _target_group(env: Aws) -> str:
    created = await env.call(
        "elbv2", "create_target_group", Name="k8s-game2048-service2-0123456789", Protocol="HTTP", Port=80,
        VpcId=env.ids["vpc_id"], TargetType="ip", HealthCheckPath="/", HealthCheckIntervalSeconds=15,
    )
    return created["TargetGroups"][0]["TargetGroupArn"]


def _by_id(result: dict) -> dict[str, dict]:
    return {d["Target"]["Id"]: d for d in result["TargetHealthDescriptions"]}


async def test_states_reasons_and_descriptions(aws: Aws) -> None:
    tg = await _target_group(aws)
    await aws.call("elbv2", "register_targets", TargetGroupArn=tg,
                   Targets=[{"Id": "10.0.128.10", "Port": 80}, {"Id": "10.0.160.11", "Port": 80}])
    aws.sandbox.set_target_health(tg, "10.0.128.10", 80, "initial", "Elb.RegistrationInProgress")
    aws.sandbox.set_target_health(tg, "10.0.160.11", 80, "unhealthy", "Target.ResponseCodeMismatch",
                                  "Health checks failed with these codes: [502]")
    health = _by_id(await aws.call("elbv2", "describe_target_health", TargetGroupArn=tg))
    first = health["10.0.128.10"]
    assert first["Target"] == {"Id": "10.0.128.10", "Port": 80}
    assert first["HealthCheckPort"] == "80"
    assert first["TargetHealth"] == {"State": "initial", "Reason": "Elb.RegistrationInProgress",
                                     "Description": "Target registration is in progress"}
    assert health["10.0.160.11"]["TargetHealth"]["Description"] == "Health checks failed with these codes: [502]"

    aws.sandbox.set_target_health(tg, "10.0.128.10", 80, "healthy")
    health = _by_id(await aws.call("elbv2", "describe_target_health", TargetGroupArn=tg))
    assert health["10.0.128.10"]["TargetHealth"] == {"State": "healthy"}

    # Deregistered but draining: still listed until the controller clears it.
    await aws.call("elbv2", "deregister_targets", TargetGroupArn=tg, Targets=[{"Id": "10.0.160.11", "Port": 80}])
    aws.sandbox.set_target_health(tg, "10.0.160.11", 80, "draining", "Target.DeregistrationInProgress")
    health = _by_id(await aws.call("elbv2", "describe_target_health", TargetGroupArn=tg))
    assert health["10.0.160.11"]["TargetHealth"]["State"] == "draining"
    aws.sandbox.clear_target(tg, "10.0.160.11", 80)
    health = _by_id(await aws.call("elbv2", "describe_target_health", TargetGroupArn=tg))
    assert list(health) == ["10.0.128.10"]

    asked = await aws.call("elbv2", "describe_target_health", TargetGroupArn=tg,
                           Targets=[{"Id": "10.0.99.99", "Port": 80}])
    assert _by_id(asked)["10.0.99.99"]["TargetHealth"] == {
        "State": "unused", "Reason": "Target.NotRegistered",
        "Description": "Target is not registered to the target group"}


async def test_target_in_service_waiter_and_bad_input(aws: Aws) -> None:
    tg = await _target_group(aws)
    await aws.call("elbv2", "register_targets", TargetGroupArn=tg, Targets=[{"Id": "10.0.128.20", "Port": 8080}])
    aws.sandbox.set_target_health(tg, "10.0.128.20", 8080, "healthy")
    waiter = aws.client("elbv2").get_waiter("target_in_service")
    await asyncio.to_thread(waiter.wait, TargetGroupArn=tg, WaiterConfig={"Delay": 0.05, "MaxAttempts": 20})
    with pytest.raises(ValueError, match="target state must be one of"):
        aws.sandbox.set_target_health(tg, "10.0.128.20", 8080, "fine")
    with pytest.raises(ValueError, match="reason must be one of"):
        aws.sandbox.set_target_health(tg, "10.0.128.20", 8080, "unhealthy", "Target.Broken")
    error = await aws.error("elbv2", "describe_target_health",
                            TargetGroupArn=tg.replace("targetgroup/", "targetgroup/missing-"))
    assert error["code"] == "TargetGroupNotFound"


async def test_in_process_client_sees_the_same_state(aws: Aws) -> None:
    """Controllers use AwsSandbox.client() on the gateway loop: same moto state, no socket."""
    tg = await _target_group(aws)
    elbv2 = aws.sandbox.client("elbv2")
    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.128.30", "Port": 80}])
    aws.sandbox.set_target_health(tg, "10.0.128.30", 80, "initial", "Elb.InitialHealthChecking")
    local = _by_id(elbv2.describe_target_health(TargetGroupArn=tg))
    remote = _by_id(await aws.call("elbv2", "describe_target_health", TargetGroupArn=tg))
    assert local == remote
    assert remote["10.0.128.30"]["TargetHealth"]["Description"] == "Initial health checks in progress"
