"""The AWS endpoint checks SigV4 on every request with keys generated per run, and enforces the
IAM policies of IAM users' keys: unsigned, wrongly signed, expired and unknown-key requests and
AccessDenied get AWS's error for each protocol. Driven with curl-like raw HTTP, the aws CLI and
boto3."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from unittest import mock

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from iagent_sandbox.identities import READONLY_NAME, create_readonly_iam_user

from .test_aws_fixtures import CLUSTER, Aws, aws, make_sandbox  # noqa: F401

SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                      "Check your AWS Secret Access Key and signing method. Consult the service "
                      "documentation for details.")
INVALID_TOKEN = "The security token included in the request is invalid."


def _unsigned(url: str, data: bytes | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/x-www-form-urlencoded"}
                                     if data else {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _client(aws: Aws, service: str, key: str, secret: str):
    return boto3.session.Session().client(
        service, endpoint_url=aws.sandbox.endpoint, region_name=aws.sandbox.region,
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


async def _error(call) -> dict:
    try:
        await asyncio.to_thread(call)
    except ClientError as exc:
        return {"code": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"],
                "status": exc.response["ResponseMetadata"]["HTTPStatusCode"]}
    raise AssertionError("the call succeeded but an error was expected")


async def test_keys_are_generated_per_run_in_aws_formats() -> None:
    one, two = make_sandbox(), make_sandbox()
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", one.access_key_id)
    assert len(one.secret_access_key) == 40
    assert one.access_key_id != two.access_key_id and one.secret_access_key != two.secret_access_key


async def test_unsigned_requests_get_each_protocols_error(aws: Aws) -> None:
    endpoint = aws.sandbox.endpoint
    status, headers, body = await asyncio.to_thread(_unsigned, f"{endpoint}/clusters")
    assert (status, body) == (403, b'{"message":"Missing Authentication Token"}')
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    status, _, body = await asyncio.to_thread(
        _unsigned, f"{endpoint}/", b"Action=ListRoles&Version=2010-05-08")
    assert status == 403
    assert b"<Code>MissingAuthenticationToken</Code><Message>Request is missing Authentication Token" in body
    status, _, body = await asyncio.to_thread(_unsigned, f"{endpoint}/?Action=DescribeVpcs&Version=2016-11-15")
    assert status == 401 and b"<Response><Errors><Error><Code>AuthFailure</Code>" in body


async def test_aws_cli_without_signing_is_refused(aws: Aws) -> None:
    code, out, err = await aws.cli("--no-sign-request", "eks", "list-clusters", check=False)
    assert code == 254 or code == 255
    assert err.strip() == ("An error occurred (MissingAuthenticationTokenException) when calling the "
                           "ListClusters operation: Missing Authentication Token")
    code, out, _ = await aws.cli("eks", "list-clusters")
    assert (code, out) == (0, {"clusters": [CLUSTER]})


@pytest.mark.parametrize("service,call,wrong_secret,unknown_key", [
    ("eks", lambda c: c.list_clusters(),
     (403, "InvalidSignatureException", SIGNATURE_MISMATCH), (403, "UnrecognizedClientException", INVALID_TOKEN)),
    ("iam", lambda c: c.list_roles(),
     (403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH), (403, "InvalidClientTokenId", INVALID_TOKEN)),
    ("elbv2", lambda c: c.describe_target_groups(),
     (403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH), (403, "InvalidClientTokenId", INVALID_TOKEN)),
    ("sts", lambda c: c.get_caller_identity(),
     (403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH), (403, "InvalidClientTokenId", INVALID_TOKEN)),
    ("ec2", lambda c: c.describe_vpcs(),
     (401, "AuthFailure", "AWS was not able to validate the provided access credentials"),
     (401, "AuthFailure", "AWS was not able to validate the provided access credentials")),
])
async def test_wrong_secret_and_unknown_key(aws: Aws, service, call, wrong_secret, unknown_key) -> None:
    secret = aws.sandbox.secret_access_key
    # Another last character (the per-run secret itself ends in "x" once in 64 runs: seen in CI).
    bad = _client(aws, service, aws.sandbox.access_key_id, secret[:-1] + ("y" if secret.endswith("x") else "x"))
    err = await _error(lambda: call(bad))
    assert (err["status"], err["code"], err["message"]) == wrong_secret
    stranger = _client(aws, service, "AKIAIAGENTSANDBOX001", "iAgentSandbox/NotASecret+LocalTwinOnly01")
    err = await _error(lambda: call(stranger))
    assert (err["status"], err["code"], err["message"]) == unknown_key
    await asyncio.to_thread(call, aws.client(service))  # the right keys still work


async def test_an_old_signature_is_expired(aws: Aws) -> None:
    eks = _client(aws, "eks", aws.sandbox.access_key_id, aws.sandbox.secret_access_key)
    then = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=then):
        err = await _error(eks.list_clusters)
    assert (err["status"], err["code"]) == (403, "InvalidSignatureException")
    assert err["message"].startswith(f"Signature expired: {then.strftime('%Y%m%dT%H%M%SZ')} is now earlier than ")


async def test_a_tampered_body_fails_the_signature(aws: Aws) -> None:
    eks = _client(aws, "eks", aws.sandbox.access_key_id, aws.sandbox.secret_access_key)

    def tamper(request, **_):
        request.body = request.body.replace(b"fp-x", b"fp-y")
    eks.meta.events.register_last("before-send.eks.CreateFargateProfile", tamper)
    err = await _error(lambda: eks.create_fargate_profile(
        clusterName=CLUSTER, fargateProfileName="fp-x", podExecutionRoleArn="arn:aws:iam::123456789012:role/x"))
    assert (err["code"], err["message"]) == ("InvalidSignatureException", SIGNATURE_MISMATCH)
    assert aws.sandbox.fargate_profiles(CLUSTER) == []


async def test_restricted_iam_user_reads_but_is_denied_writes(aws: Aws) -> None:
    key, secret = await asyncio.to_thread(create_readonly_iam_user, aws.sandbox)
    ro = {s: _client(aws, s, key, secret) for s in ("eks", "iam", "ec2", "elbv2", "sts")}
    who = await asyncio.to_thread(ro["sts"].get_caller_identity)
    assert who["Arn"] == f"arn:aws:iam::123456789012:user/{READONLY_NAME}"
    assert (await asyncio.to_thread(ro["eks"].describe_cluster, name=CLUSTER))["cluster"]["status"] == "ACTIVE"
    await asyncio.to_thread(ro["eks"].list_addons, clusterName=CLUSTER)
    await asyncio.to_thread(ro["ec2"].describe_subnets)
    await asyncio.to_thread(ro["elbv2"].describe_load_balancers)
    await asyncio.to_thread(ro["iam"].get_role, RoleName=f"{CLUSTER}-node-role")
    user = f"arn:aws:iam::123456789012:user/{READONLY_NAME}"

    err = await _error(lambda: ro["eks"].create_fargate_profile(
        clusterName=CLUSTER, fargateProfileName="fp", podExecutionRoleArn="arn:aws:iam::123456789012:role/x"))
    assert (err["status"], err["code"]) == (403, "AccessDeniedException")
    assert err["message"] == (f"User: {user} is not authorized to perform: eks:CreateFargateProfile on resource: "
                              f"arn:aws:eks:eu-central-1:123456789012:cluster/{CLUSTER} because no "
                              "identity-based policy allows the eks:CreateFargateProfile action")
    err = await _error(lambda: ro["iam"].create_role(RoleName="r", AssumeRolePolicyDocument="{}"))
    assert (err["status"], err["code"]) == (403, "AccessDenied")
    assert err["message"] == (f"User: {user} is not authorized to perform: iam:CreateRole on resource: "
                              "arn:aws:iam::123456789012:role/r because no identity-based policy allows "
                              "the iam:CreateRole action")
    err = await _error(lambda: ro["ec2"].create_security_group(GroupName="g", Description="g"))
    assert (err["status"], err["code"]) == (403, "UnauthorizedOperation")
    assert err["message"].startswith(f"You are not authorized to perform this operation. User: {user} is "
                                     "not authorized to perform: ec2:CreateSecurityGroup on resource: ")
    assert "Encoded authorization failure message: " in err["message"]
    err = await _error(lambda: ro["elbv2"].create_target_group(Name="tg", Protocol="HTTP", Port=80,
                                                               VpcId=aws.ids.get("vpc_id", "vpc-1")))
    assert (err["status"], err["code"]) == (403, "AccessDenied")
    # Nothing was made: the admin sees the account as before.
    assert aws.sandbox.fargate_profiles(CLUSTER) == []
    roles = (await aws.call("iam", "list_roles"))["Roles"]
    assert "r" not in {r["RoleName"] for r in roles}


async def test_explicit_deny_and_deactivated_keys(aws: Aws) -> None:
    key, secret = await asyncio.to_thread(create_readonly_iam_user, aws.sandbox)
    await aws.call("iam", "put_user_policy", UserName=READONLY_NAME, PolicyName="no-eks-describe",
                   PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                       {"Effect": "Deny", "Action": "eks:DescribeCluster", "Resource": "*"}]}))
    eks = _client(aws, "eks", key, secret)
    err = await _error(lambda: eks.describe_cluster(name=CLUSTER))
    assert err["message"].endswith("with an explicit deny in an identity-based policy")
    await asyncio.to_thread(eks.list_clusters)
    await aws.call("iam", "update_access_key", UserName=READONLY_NAME, AccessKeyId=key, Status="Inactive")
    err = await _error(eks.list_clusters)
    assert (err["code"], err["message"]) == ("UnrecognizedClientException", INVALID_TOKEN)
