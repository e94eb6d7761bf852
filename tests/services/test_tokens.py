"""EKS token: same format as `aws eks get-token`, and the sandbox verifier accepts exactly the good ones."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from iagent_sandbox.kube.eks_token import EksTokenVerifier
from iagent_tui.services.auth import TOKEN_PREFIX, EksToken, decode_token, encode_token, make_eks_token
from iagent_tui.services.connection import AwsTarget

CLUSTER = "iagent-cluster"


@pytest.fixture
def session(aws_env):
    return AwsTarget("eu-central-1").session()


@pytest.fixture
def verifier(aws_env):
    return EksTokenVerifier(CLUSTER, {aws_env["AWS_ACCESS_KEY_ID"]: aws_env["AWS_SECRET_ACCESS_KEY"]})


async def test_token_format(session):
    token = await make_eks_token(session, CLUSTER, "eu-central-1")
    assert token.startswith(TOKEN_PREFIX) and "=" not in token
    url = urlsplit(decode_token(token))
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("https", "sts.eu-central-1.amazonaws.com", "/")
    assert query["Action"] == ["GetCallerIdentity"] and query["Version"] == ["2011-06-15"]
    assert query["X-Amz-Expires"] == ["60"]
    assert query["X-Amz-SignedHeaders"] == ["host;x-k8s-aws-id"]
    assert query["X-Amz-Credential"][0].startswith("AKIAIAGENTTEST000001/")
    assert encode_token(decode_token(token)) == token


async def test_verifier_accepts_good_token(session, verifier):
    token = await make_eks_token(session, CLUSTER, "eu-central-1")
    assert verifier.verify(token)
    assert verifier.access_key_id(token) == "AKIAIAGENTTEST000001"


async def test_verifier_accepts_token_presigned_against_a_loopback_gateway(session, verifier):
    token = await make_eks_token(session, CLUSTER, "eu-central-1", endpoint_url="http://127.0.0.1:45123")
    assert verifier.verify(token)


async def test_token_for_another_cluster_fails(session, aws_env):
    token = await make_eks_token(session, "other-cluster", "eu-central-1")
    verifier = EksTokenVerifier(CLUSTER, {aws_env["AWS_ACCESS_KEY_ID"]: aws_env["AWS_SECRET_ACCESS_KEY"]})
    assert verifier.check(token) == "signature mismatch (wrong cluster, wrong secret or altered token)"


async def test_expired_token_fails(session, aws_env):
    token = await make_eks_token(session, CLUSTER, "eu-central-1")
    creds = {aws_env["AWS_ACCESS_KEY_ID"]: aws_env["AWS_SECRET_ACCESS_KEY"]}
    later = EksTokenVerifier(CLUSTER, creds, max_age_seconds=900, wall_time=lambda: time.time() + 901)
    assert later.check(token) == "token expired"
    assert EksTokenVerifier(CLUSTER, creds, max_age_seconds=900, wall_time=lambda: time.time() + 800).verify(token)


async def test_tampered_or_foreign_tokens_fail(session, verifier, aws_env):
    token = await make_eks_token(session, CLUSTER, "eu-central-1")
    url = decode_token(token)
    assert not verifier.verify(encode_token(url.replace("X-Amz-Expires=60", "X-Amz-Expires=900")))
    assert not verifier.verify(encode_token(url.replace("GetCallerIdentity", "GetSessionToken")))
    assert not verifier.verify(encode_token(url.replace("sts.eu-central-1.amazonaws.com", "evil.example.com")))
    sig = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    assert not verifier.verify(encode_token(url.replace(sig, "0" * len(sig))))
    assert verifier.check(token[:-4]) is not None  # truncated
    assert verifier.check("k8s-aws-v1.!!!") is not None
    assert verifier.check("plain-service-account-token") is not None
    assert EksTokenVerifier(CLUSTER, {"AKIAOTHER": "x"}).check(token) == "unknown access key"
    wrong_secret = EksTokenVerifier(CLUSTER, {aws_env["AWS_ACCESS_KEY_ID"]: "not-the-secret"})
    assert not wrong_secret.verify(token)


@pytest.mark.skipif(shutil.which("aws") is None, reason="aws CLI not installed")
def test_verifier_accepts_the_aws_cli_token(aws_env, verifier):
    """The independent reference: the token `aws eks get-token` prints."""
    out = subprocess.run(
        ["aws", "eks", "get-token", "--cluster-name", CLUSTER, "--region", "eu-central-1"],
        capture_output=True, text=True, check=True, timeout=60,
    )
    status = json.loads(out.stdout)["status"]
    assert verifier.verify(status["token"])
    assert not EksTokenVerifier("other-cluster", {aws_env["AWS_ACCESS_KEY_ID"]: aws_env["AWS_SECRET_ACCESS_KEY"]}).verify(status["token"])


async def test_eks_token_is_cached_then_refreshed_before_expiry_and_after_invalidate(session, verifier):
    now = [datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)]
    source = EksToken(session, CLUSTER, "eu-central-1", now=lambda: now[0])
    first = await source.token()
    assert source.expires_at == now[0] + timedelta(minutes=14)
    assert await source.token() == first and source.minted == 1
    now[0] += timedelta(minutes=12, seconds=59)  # still more than a minute left
    await source.token()
    assert source.minted == 1
    now[0] += timedelta(seconds=2)  # inside the refresh margin
    await source.token()
    assert source.minted == 2
    source.invalidate()  # what a 401 does
    assert source.expires_at is None
    assert verifier.verify(await source.token()) and source.minted == 3
    assert "secret" not in repr(source).lower() and TOKEN_PREFIX not in repr(source)
