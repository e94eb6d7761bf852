"""Faults answered in each protocol's own form, and classified by botocore as real ones would be."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.retries import standard

from iagent_sandbox.aws.faults import AwsFaults, FaultInjector
from iagent_sandbox.clock import SandboxClock

from .test_aws_fixtures import CLUSTER, Aws, aws  # noqa: F401


def _context(error: dict[str, Any], operation: Any) -> standard.RetryContext:
    """The context botocore's standard retry handler builds from a failed call."""
    response = error["response"]
    http = type("Http", (), {"status_code": error["status"]})()
    return standard.RetryContext(
        attempt_number=1, operation_model=operation, parsed_response=response, http_response=http,
    )


def _operation(env: Aws, service: str, name: str) -> Any:
    return env.client(service).meta.service_model.operation_model(name)


THROTTLED = [
    ("eks", "describe_cluster", {"name": CLUSTER}, "DescribeCluster", "ThrottlingException", 429, "Rate exceeded"),
    ("ec2", "describe_subnets", {}, "DescribeSubnets", "RequestLimitExceeded", 503, "Request limit exceeded."),
    ("iam", "list_roles", {}, "ListRoles", "Throttling", 400, "Rate exceeded"),
    ("sts", "get_caller_identity", {}, "GetCallerIdentity", "Throttling", 400, "Rate exceeded"),
    ("elbv2", "describe_load_balancers", {}, "DescribeLoadBalancers", "Throttling", 400, "Rate exceeded"),
]


async def test_throttling_is_answered_per_protocol_and_classified_by_botocore(aws: Aws) -> None:
    aws.sandbox.faults = AwsFaults(throttle_rate=1.0)
    detector = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())
    for service, method, kwargs, operation, code, status, message in THROTTLED:
        error = await aws.error(service, method, **kwargs)
        assert (error["code"], error["status"], error["message"]) == (code, status, message), service
        context = _context(error, _operation(aws, service, operation))
        assert detector.is_throttling_error_from_context(context), service


async def test_faults_limited_to_a_service_and_switched_off(aws: Aws) -> None:
    aws.sandbox.faults = AwsFaults(throttle_rate=1.0, services={"eks"})
    error = await aws.error("eks", "list_clusters")
    assert error["code"] == "ThrottlingException"
    subnets = await aws.call("ec2", "describe_subnets")
    assert len(subnets["Subnets"]) >= 4
    aws.sandbox.faults.throttle_rate = 0.0  # switched at run time, no restart
    assert (await aws.call("eks", "list_clusters"))["clusters"] == [CLUSTER]


async def test_server_errors_are_transient_and_retried(aws: Aws) -> None:
    aws.sandbox.faults = AwsFaults(error_rate=1.0, services={"eks", "elbv2"})
    checker = standard.TransientRetryableChecker()
    seen = set()
    for _ in range(6):
        for service, method, operation in (("eks", "list_clusters", "ListClusters"),
                                           ("elbv2", "describe_load_balancers", "DescribeLoadBalancers")):
            error = await aws.error(service, method)
            assert error["status"] in (500, 503)
            assert checker.is_retryable(_context(error, _operation(aws, service, operation)))
            seen.add((service, error["code"]))
    assert seen <= {("eks", "ServerException"), ("eks", "ServiceUnavailableException"),
                    ("elbv2", "InternalFailure"), ("elbv2", "ServiceUnavailable")}


async def test_aws_cli_reports_throttling(aws: Aws) -> None:
    aws.sandbox.faults = AwsFaults(throttle_rate=1.0, services={"eks"})
    code, _, err = await aws.cli("eks", "describe-cluster", "--name", CLUSTER, check=False)
    assert code != 0
    assert "ThrottlingException" in err and "Rate exceeded" in err


def test_fault_draws_are_deterministic_per_seed() -> None:
    def outcomes(seed: int) -> list[str | None]:
        injector = FaultInjector(SandboxClock(speed=1000, seed=seed), AwsFaults(throttle_rate=0.3, error_rate=0.2))
        result = []
        for i in range(60):
            reply = injector.decide(("eks", "ec2", "iam")[i % 3]).reply
            result.append(None if reply is None else str(reply.status))
        return result

    first = outcomes(5)
    assert first == outcomes(5)
    assert first != outcomes(6)
    assert None in first and "429" in first  # a mix of served and throttled requests


def test_fault_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="throttle_rate must be between 0 and 1"):
        AwsFaults(throttle_rate=1.5).validate()
    with pytest.raises(ValueError, match="must not exceed 1"):
        AwsFaults(throttle_rate=0.6, error_rate=0.6).validate()
    injector = FaultInjector(SandboxClock(seed=1), AwsFaults(latency_seconds=0.25, services={"ec2"}))
    assert injector.decide("ec2").latency_seconds == 0.25
    assert injector.decide("eks").latency_seconds == 0.0
