"""Bad input, generated (hypothesis): namespace names (any text), config files (any bytes, any YAML
document), flags (regions, sandbox speeds and fault rates). Whatever comes in: no traceback, no
exception out of the command, a clear error line and a non-zero exit, and for the commands that
reach the cluster, nothing changed in the sandbox (boto3 and the kubernetes client say so).

No command reads a user's manifest: smoke applies the packaged sample app (manifests/), so there
is no manifest path to fuzz.

Deterministic: derandomized, few examples, no deadline (a loaded CI machine is slow, not wrong).
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from kubernetes import client as k8s_client

from actions.base import InvalidInput
from actions.validate import namespace_name
from iagent_tui.cli import main
from iagent_tui.config import Settings
from iagent_tui.regions import known_regions

CLUSTER = "iagent-cluster"
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.fixture(scope="module")
def env(sandbox_env, tmp_path_factory) -> dict[str, str]:
    work = tmp_path_factory.mktemp("bad-input")
    return {**sandbox_env, "IAGENT_ACTION_POLL_SECONDS": "0.05", "IAGENT_JOURNAL_DIR": str(work / "journal"),
            "HOME": str(work)}


@pytest.fixture(scope="module")
def cluster_state(aws, k8s):
    """What an action could change, read with boto3 and the official kubernetes client."""
    def read() -> dict:
        eks, iam = aws("eks"), aws("iam")
        return {
            "profiles": sorted(eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"]),
            "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
            "addon": eks.describe_addon(clusterName=CLUSTER, addonName="coredns")["addon"].get("configurationValues"),
            "namespaces": sorted(n.metadata.name for n in k8s_client.CoreV1Api(k8s).list_namespace().items),
            "deployments": sorted((d.metadata.namespace, d.metadata.name, d.metadata.generation)
                                  for d in k8s_client.AppsV1Api(k8s).list_deployment_for_all_namespaces().items),
        }
    return read


def run(args: list[str], env: dict[str, str] | None = None):
    """The whole program (`iagent-tui ...`), in a scratch directory so a relative path in a
    generated config lands nowhere that matters."""
    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def assert_refused(result, command: str) -> str:
    """Non-zero exit, no traceback, and one line that says what is wrong; returns that line."""
    assert "Traceback" not in result.output, result.output
    assert result.exit_code != 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith((f"iagent-tui {command}:", "Error:"))]
    assert lines, result.output
    assert len(lines[0]) > len(f"iagent-tui {command}: ") + 10, result.output
    return lines[0]


def _valid_namespace(name: str) -> bool:
    try:
        namespace_name(name)
    except InvalidInput:
        return False
    return True


@FUZZ
@given(name=st.text(max_size=80))
def test_namespace_names(name, env, cluster_state):
    assume(not _valid_namespace(name))
    before = cluster_state()
    result = run(["add-namespace", "--yes", "--restart", "--", name], env)
    assert result.exit_code == 2
    assert_refused(result, "add-namespace")
    assert cluster_state() == before


def _config_run(content: bytes, env: dict[str, str], cluster_state) -> None:
    """deploy --yes --read-only with the file: a config that loads can change nothing (read-only,
    which a file cannot switch off); one that does not is refused with exit 2 before any call."""
    with tempfile.NamedTemporaryFile(suffix=".yaml", delete=False) as fh:
        fh.write(content)
    try:
        before = cluster_state()
        result = run(["--config", fh.name, "deploy", "--yes", "--read-only"], env)
        assert "Traceback" not in result.output, result.output
        if "Plan: deploy" not in result.output:  # refused before planning: say why
            assert_refused(result, "deploy")
        else:
            assert result.exit_code != 0 and "Read-only mode" in result.output
        assert cluster_state() == before
    finally:
        os.unlink(fh.name)


@FUZZ
@given(content=st.binary(max_size=300))
def test_config_files_of_arbitrary_bytes(content, env, cluster_state):
    _config_run(content, env, cluster_state)


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_KEYS = st.sampled_from(sorted(Settings.model_fields) + ["namespaces", "subnets", "profile_prefix"]) | st.text(max_size=10)
_DOCUMENTS = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
                          max_leaves=12)


@settings(FUZZ, max_examples=40)
@given(document=_DOCUMENTS)
def test_config_files_of_arbitrary_yaml(document, env, cluster_state):
    _config_run(yaml.safe_dump(document, allow_unicode=True).encode(), env, cluster_state)


_REGION_LIKE = st.from_regex(r"\A[a-z]{2}(-gov)?-[a-z]{4,9}-[0-9]{1,2}\Z") | st.text(max_size=20)


@FUZZ
@given(region=_REGION_LIKE)
def test_regions(region, env, cluster_state):
    assume(region not in known_regions() and not region.startswith("-"))
    before = cluster_state()
    result = run(["deploy", "--yes", "--region", region], env)
    line = assert_refused(result, "deploy")
    assert result.exit_code == 2 and "region" in line.lower()
    assert cluster_state() == before


_NUMBERS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, 0.5, 0.6, 1.0, -0.0, 2.0])


def _valid_sandbox_flags(speed: float, throttle: float, error: float, latency: float) -> bool:
    finite = all(math.isfinite(v) for v in (speed, throttle, error, latency))
    return finite and speed > 0 and 0 <= throttle <= 1 and 0 <= error <= 1 and throttle + error <= 1 and latency >= 0


@FUZZ
@given(speed=_NUMBERS, throttle=_NUMBERS, error=_NUMBERS, latency=_NUMBERS)
def test_sandbox_flags(speed, throttle, error, latency):
    assume(not _valid_sandbox_flags(speed, throttle, error, latency))  # a valid set would start one
    out = Path(tempfile.gettempdir()) / f"iagent-bad-input-{os.getpid()}" / "out"
    result = run(["sandbox", "--kubeconfig", str(out / "kubeconfig"), "--env-file", str(out / "env"),
                  "--speed", repr(speed), "--aws-throttle-rate", repr(throttle), "--aws-error-rate", repr(error),
                  "--aws-latency", repr(latency)])
    assert result.exit_code == 2
    assert_refused(result, "sandbox")
    assert not out.exists()  # nothing written


@FUZZ
@given(speed=st.text(max_size=12) | st.sampled_from(["inf", "nan", "-1", "0", "1e999"]))
def test_sandbox_speed_for_the_in_process_sandbox(speed):
    try:
        usable = math.isfinite(float(speed)) and float(speed) > 0
    except ValueError:
        usable = False
    assume(not usable and "\x00" not in speed)  # a usable speed would start a sandbox; env values cannot hold NUL
    result = run(["--sandbox", "status"], {"IAGENT_SANDBOX_SPEED": speed})
    assert result.exit_code == 2
    assert_refused(result, "status")
