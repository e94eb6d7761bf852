"""One action at a time per cluster, through the faces a person uses: `iagent-tui deploy` and the
dashboard's runner. Another process's Lease is written with the official kubernetes client; what
did (not) change is read with boto3, kubectl and the kubernetes client. The tests share one sandbox
and run in order: refusals first (nothing deployed), then a deploy that takes a dead run's lock."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from kubernetes import client as k8s_client
from kubernetes.client.rest import ApiException

from actions.journal import read
from actions.lock import LOCK_NAME, LOCK_NAMESPACE
from iagent_tui.commands.actions import EXIT_FAILED, deploy_command
from tests.conftest import requires_kubectl, wait_for

CLUSTER = "iagent-cluster"
OTHER = "bob@desk pid 777"
CHECK = "kubectl get lease -n kube-system iagent-tui-action"


@pytest.fixture(scope="module")
def env(sandbox_env, tmp_path_factory) -> dict[str, str]:
    from iagent_tui.commands.sandbox import _write_helm_shim

    workdir = tmp_path_factory.mktemp("lock")
    _write_helm_shim(workdir / "bin")
    return {**sandbox_env, "PATH": f"{workdir / 'bin'}:{sandbox_env['PATH']}", "IAGENT_ACTION_POLL_SECONDS": "0.05",
            "IAGENT_JOURNAL_DIR": str(workdir / "journal"), "HOME": str(workdir)}


@pytest.fixture(scope="module")
def leases(k8s):
    return k8s_client.CoordinationV1Api(k8s)


def lease(leases):
    try:
        return leases.read_namespaced_lease(LOCK_NAME, LOCK_NAMESPACE)
    except ApiException as err:
        if err.status == 404:
            return None
        raise


def held_by_other(leases, renewed_ago: float) -> None:
    """Another operator's run, as it would have written its Lease (replacing any earlier one)."""
    if lease(leases) is not None:
        leases.delete_namespaced_lease(LOCK_NAME, LOCK_NAMESPACE)
    renewed = datetime.now(timezone.utc) - timedelta(seconds=renewed_ago)
    leases.create_namespaced_lease(LOCK_NAMESPACE, {
        "metadata": {"name": LOCK_NAME, "annotations": {
            "iagent-tui.io/action": "deploy", "iagent-tui.io/user": "bob@desk", "iagent-tui.io/pid": "777",
            "iagent-tui.io/started": renewed.strftime("%Y-%m-%dT%H:%M:%SZ")}},
        "spec": {"holderIdentity": OTHER, "leaseDurationSeconds": 60, "acquireTime": renewed, "renewTime": renewed}})


def untouched(aws) -> bool:
    """Nothing deploy would create exists: no Fargate profile, no pod execution role."""
    profiles = aws("eks").list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"]
    roles = {r["RoleName"] for r in aws("iam").list_roles()["Roles"]}
    return profiles == [] and "AmazonEKSFargatePodExecutionRole" not in roles


def last_journal(env) -> list[dict]:
    return read(sorted(Path(env["IAGENT_JOURNAL_DIR"]).glob("*-deploy.jsonl"))[-1])


def invoke(args: list[str], env: dict[str, str], input: str | None = None):
    return CliRunner().invoke(deploy_command, args, env=env, input=input, catch_exceptions=False)


def test_a_deploy_while_another_process_holds_the_lock_is_refused_naming_it(env, aws, leases):
    held_by_other(leases, renewed_ago=0)
    assert untouched(aws)
    since = lease(leases).metadata.annotations["iagent-tui.io/started"][11:19]

    result = invoke(["--yes"], env)
    assert result.exit_code == EXIT_FAILED, result.output
    assert f"ERR deploy already running since {since} UTC by bob@desk (pid 777); wait for it or check {CHECK}" \
        in result.output
    assert untouched(aws)
    assert lease(leases).spec.holder_identity == OTHER  # the other run's lock is left alone
    records = last_journal(env)
    assert [(r["outcome"], r["holder"]) for r in records if r["type"] == "lock"] == [("refused", OTHER)]
    assert records[-1]["result"] == "refused"

    # A person at the prompt is not asked to confirm a plan that cannot run.
    result = invoke([], env, input="")
    assert result.exit_code == EXIT_FAILED and "Apply this plan?" not in result.output
    assert "deploy already running since" in result.output and untouched(aws)


@requires_kubectl
def test_kubectl_shows_who_holds_the_lock(sandbox_env):
    out = subprocess.run(["kubectl", "get", "lease", "-n", LOCK_NAMESPACE], env=sandbox_env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].split() == ["NAME", "HOLDER", "AGE"]
    assert any(line.split()[:2] == [LOCK_NAME, "bob@desk"] for line in out.stdout.splitlines()[1:])


def test_a_dead_runs_lock_is_not_taken_over_by_yes_nor_without_consent(env, aws, leases):
    held_by_other(leases, renewed_ago=600)

    result = invoke(["--yes"], env)
    assert result.exit_code == EXIT_FAILED
    assert "the cluster lock is held by bob@desk (pid 777) (deploy since" in result.output
    assert "stopped renewing it" in result.output and "`iagent-tui deploy --take-over-lock`" in result.output
    assert untouched(aws) and lease(leases).spec.holder_identity == OTHER

    result = invoke([], env, input="y\nn\n")  # yes to the plan, no to taking the lock over
    assert "Take over the lock held by bob@desk (pid 777) since" in result.output
    assert result.exit_code == EXIT_FAILED and untouched(aws)
    assert lease(leases).spec.holder_identity == OTHER


def test_the_dashboards_runner_refuses_too_and_names_the_flag(env, sandbox_files, aws, leases, monkeypatch):
    from iagent_tui.wiring import StandardActions
    from iagent_tui.config import load_settings
    from iagent_tui.services.connection import build_connection

    for key, value in env.items():  # the AWS side reads the sandbox's keys from the environment
        monkeypatch.setenv(key, value)
    settings = load_settings(overrides={"kubeconfig": str(sandbox_files[0])}, env=env)

    async def deploy_from_the_dashboard() -> list:
        provider = StandardActions(settings, await build_connection(settings), sandbox=True)
        actions, run = await provider.open()
        try:
            deploy = next(a for a in actions if a.name == "deploy")
            return [event async for event in run(deploy, await deploy.plan())]
        finally:
            await provider.close()

    held_by_other(leases, renewed_ago=0)
    events = asyncio.run(deploy_from_the_dashboard())
    assert [e.kind for e in events] == ["error", "done"]
    assert events[0].message.startswith("deploy already running since") and "bob@desk (pid 777)" in events[0].message
    start = last_journal(env)[0]
    assert start["target"]["sandbox"] is True and start["target"]["context"] == "iagent-sandbox"
    assert start["target"]["server"].startswith("https://127.0.0.1:")

    held_by_other(leases, renewed_ago=600)  # no take-over hook in the dashboard: refused, flag named
    events = asyncio.run(deploy_from_the_dashboard())
    assert "--take-over-lock" in events[0].message and untouched(aws)


def test_take_over_lock_takes_a_dead_runs_lock_holds_it_while_running_and_releases_it(env, aws, leases,
                                                                                     sandbox_env):
    held_by_other(leases, renewed_ago=600)
    proc = subprocess.Popen([sys.executable, "-m", "iagent_tui.commands.actions", "deploy", "--yes", "--take-over-lock"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def new_holder():
            found = lease(leases)
            return found if found is not None and found.spec.holder_identity.endswith(f"pid {proc.pid}") else None

        during = wait_for(new_holder, timeout=60, message="the lease to name the new holder")
        assert during.metadata.annotations["iagent-tui.io/action"] == "deploy"
        assert during.spec.lease_transitions == 1
        if shutil.which("kubectl"):
            out = subprocess.run(["kubectl", "get", "lease", "-n", LOCK_NAMESPACE, LOCK_NAME, "--no-headers"],
                                 env=sandbox_env, capture_output=True, text=True, timeout=60).stdout
            assert f"pid {proc.pid}" in out or lease(leases) is None  # (it may have finished already)
        output, _ = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 0, output[-3000:]
    assert "!! Took over the cluster lock from bob@desk (pid 777)" in output
    assert lease(leases) is None  # released after success
    assert not untouched(aws)
    lock_records = [r for r in last_journal(env) if r["type"] == "lock"]
    assert [(r["outcome"], r["previous"]) for r in lock_records] == [("taken-over", OTHER), ("released", "")]
