"""A booted scenario running at speed 200 keeps every timestamp it writes, and its Date header, at
or before the wall clock, so kubectl's own age arithmetic (``kubectl describe``) never reads
``<invalid>``."""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest

from iagent_sandbox.clock import parse_rfc3339
from iagent_sandbox.kube.resources import RESOURCES, rt
from iagent_sandbox.runtime import SandboxThread, write_connection_files

from tests.conftest import requires_kubectl

pytestmark = requires_kubectl
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
SPEED = 200.0
RUN_SIM_SECONDS = 900.0  # 4.5 wall seconds at speed 200


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    sandbox = SandboxThread(speed=SPEED, seed=4)
    info = sandbox.start()
    d = tmp_path_factory.mktemp("clock")
    write_connection_files(info, d / "kubeconfig", d / "env")
    clock = sandbox.runtime.world.clock
    target = clock.elapsed() + RUN_SIM_SECONDS
    deadline = time.monotonic() + 60
    while clock.elapsed() < target:  # runs at speed for a while; waits on simulated time
        assert time.monotonic() < deadline, "the sandbox clock did not advance"
        time.sleep(0.2)
    yield sandbox, d
    sandbox.stop()


def _timestamps(value, found: list[str]) -> None:
    if isinstance(value, dict):
        for v in value.values():
            _timestamps(v, found)
    elif isinstance(value, list):
        for v in value:
            _timestamps(v, found)
    elif isinstance(value, str) and TIMESTAMP.match(value):
        found.append(value)


def _kubectl(d, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(KUBECONFIG=str(d / "kubeconfig"), HOME=str(d))
    proc = subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_every_stored_timestamp_is_at_or_before_the_wall_clock(running):
    sandbox, _ = running
    world = sandbox.runtime.world

    def collect() -> list[str]:
        found: list[str] = []
        for r in RESOURCES:
            if not r.is_review:
                _timestamps(world.store.list(r)[0], found)
        return found

    stamps = sandbox.call(collect)
    wall = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert len(stamps) > 100  # pods, events, nodes, conditions: the scenario wrote plenty
    late = [s for s in stamps if parse_rfc3339(s) > wall]
    assert not late, f"timestamps ahead of the wall clock: {late[:5]}"
    assert sandbox.runtime.world.clock.rate() == SPEED  # still within its headroom at speed


def test_aws_timestamps_are_not_ahead_of_the_wall_clock(running):
    """Including one written now, after the bootstrap's fast-forward and the run at speed."""
    import json

    import boto3

    sandbox, _ = running
    info = sandbox.info

    def aws(service: str):
        return boto3.client(service, region_name=info.region, endpoint_url=info.aws_endpoint,
                            aws_access_key_id=info.access_key_id,
                            aws_secret_access_key=info.secret_access_key)
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "eks-fargate-pods.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    role = aws("iam").create_role(RoleName="ClockPodExecutionRole",
                                  AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    subnets = [s["SubnetId"] for s in aws("ec2").describe_subnets(Filters=[
        {"Name": "tag:kubernetes.io/role/internal-elb", "Values": ["1"]}])["Subnets"]]
    eks = aws("eks")
    profile = eks.create_fargate_profile(
        clusterName=info.cluster_name, fargateProfileName="clock", podExecutionRoleArn=role["Arn"],
        subnets=subnets, selectors=[{"namespace": "clock"}])["fargateProfile"]
    stamps = [eks.describe_cluster(name=info.cluster_name)["cluster"]["createdAt"],
              role["CreateDate"], profile["createdAt"]]
    wall = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert all(stamp <= wall for stamp in stamps), stamps


def test_date_header_is_not_ahead_of_the_wall_clock(running):
    sandbox, _ = running
    info = sandbox.info
    ctx = ssl.create_default_context(cadata=info.ca_pem.decode())
    request = urllib.request.Request(info.kube_url + "/version",
                                     headers={"Authorization": f"Bearer {info.token}"})
    with urllib.request.urlopen(request, context=ctx, timeout=10) as response:
        date = parsedate_to_datetime(response.headers["Date"])
    assert date <= datetime.now(timezone.utc) + timedelta(seconds=1)


def test_kubectl_describe_and_events_show_valid_ages(running):
    sandbox, d = running
    pods = sandbox.call(lambda: sandbox.runtime.world.store.list(rt("pods"), "default")[0])
    assert pods
    described = _kubectl(d, "describe", "pod", pods[0]["metadata"]["name"], "-n", "default")
    assert "Events:" in described and "<invalid>" not in described
    assert re.search(r"Normal\s+Scheduled\s+\S+", described)
    events = _kubectl(d, "get", "events", "-A")
    assert "<invalid>" not in events and len(events.splitlines()) > 5


def test_bootstrap_fits_in_its_allowance_at_real_speed():
    """At --speed 1 the lead is the bootstrap's allowance alone: the fast-forwarded bootstrap must
    finish before simulated time reaches the wall clock (else it would crawl at real time)."""
    sandbox = SandboxThread(speed=1.0, seed=5, cluster_name="real-speed")  # moto is per process
    try:
        sandbox.start()
        clock = sandbox.runtime.world.clock
        assert 0 < clock.behind_wall() < sandbox_allowance()
        assert clock.now() <= datetime.now(timezone.utc)
    finally:
        sandbox.stop()


def sandbox_allowance() -> float:
    from iagent_sandbox.runtime import BOOTSTRAP_ALLOWANCE
    return BOOTSTRAP_ALLOWANCE
