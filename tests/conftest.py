"""Shared fixtures: a running sandbox (on its own loop, reached over HTTP like a real cluster) and
official clients pointed at it."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, TypeVar

import pytest
import yaml

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[1]
# Fast enough that a 3-minute AWS wait takes well under a second, slow enough that the ordering of
# simulated steps survives the scheduling noise of a loaded 2-core machine.
TEST_SPEED = 200.0


# Tests that run kubectl: skipped where kubectl is not installed (a laptop), but never under CI,
# where they run and fail loudly: a check that silently stops running is worse than a red build.
requires_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None and not os.environ.get("CI"),
    reason="kubectl is not installed: install it to run these tests (under CI they fail instead)")


def wait_for(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.05,
             message: str = "condition") -> T:
    """Poll a condition until it is truthy (tests wait on conditions, never on fixed sleeps)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - remembered for the failure message
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}"
                         + (f" (last error: {last_error!r})" if last_error else ""))


def _start_sandbox(scenario: str, speed: float = TEST_SPEED, seed: int = 1):
    from iagent_sandbox.runtime import SandboxThread
    sb = SandboxThread(speed=speed, seed=seed, scenario=scenario)
    sb.start()
    return sb


@pytest.fixture(scope="module")
def sandbox(request):
    """A sandbox per test module; `@pytest.mark.scenario("migrated")` on the module picks another."""
    marker = request.node.get_closest_marker("scenario")
    scenario = marker.args[0] if marker else "pre-migration"
    sb = _start_sandbox(scenario)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def sandbox_files(sandbox, tmp_path_factory):
    """The kubeconfig and env a user would get from `iagent-tui sandbox`."""
    from iagent_tui.commands.sandbox import _write_helm_shim
    from iagent_sandbox.runtime import write_connection_files
    d = tmp_path_factory.mktemp("sandbox")
    _write_helm_shim(d / "bin")
    write_connection_files(sandbox.info, d / "kubeconfig", d / "env", bin_dir=d / "bin")
    return d / "kubeconfig", d / "env"


@pytest.fixture(scope="module")
def sandbox_env(sandbox, sandbox_files):
    """os.environ-style mapping that points the aws CLI, kubectl and boto3 at the sandbox."""
    kubeconfig, _ = sandbox_files
    env = {k: v for k, v in os.environ.items()
           if k not in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN")}
    env.update(sandbox.info.env(kubeconfig))
    # the sandbox's helm, as the env file puts it on PATH for a user
    env["PATH"] = f"{kubeconfig.parent / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def k8s(sandbox, sandbox_files):
    """The official (sync) kubernetes client's ApiClient for the sandbox."""
    from kubernetes import client, config
    kubeconfig, _ = sandbox_files
    api_client = config.new_client_from_config(config_file=str(kubeconfig))
    yield api_client
    api_client.close()


@pytest.fixture(scope="module")
def web_pod(k8s) -> str:
    """A running pod of the scenario's iagent-web Deployment in default (its HTTP server answers
    exec's wget, port-forward and the ALB front)."""
    from kubernetes import client
    pods = client.CoreV1Api(k8s).list_namespaced_pod("default", label_selector="app.kubernetes.io/name=iagent-web").items
    running = [p.metadata.name for p in pods if p.status.phase == "Running"]
    assert running, "the scenario runs iagent-web in default"
    return sorted(running)[0]


@pytest.fixture(scope="module")
def aws(sandbox):
    """boto3 client factory for the sandbox: aws("eks").describe_cluster(...)."""
    import boto3
    info = sandbox.info
    session = boto3.session.Session(aws_access_key_id=info.access_key_id,
                                    aws_secret_access_key=info.secret_access_key,
                                    region_name=info.region)

    def make(service: str):
        return session.client(service, endpoint_url=info.aws_endpoint)
    return make


def pytest_configure(config):
    config.addinivalue_line("markers", "scenario(name): sandbox scenario for the module's fixture")
