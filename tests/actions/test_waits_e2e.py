"""Waits against the sandbox: a deploy killed during its Helm step is finished by the next run,
which waits for the load balancer controller instead of reporting "Nothing to do"; a wait past its
deadline ends with what it waited for, the last Warning event and the next step. Own sandbox (the
tests build on each other, in order)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from kubernetes import client as k8s_client

from iagent_tui.commands.actions import EXIT_FAILED, add_namespace_command, deploy_command
from tests.conftest import wait_for

CLUSTER = "iagent-cluster"
LBC = "aws-load-balancer-controller"
UNPULLABLE = "registry.invalid/lbc:held"  # the sandbox's DNS failure: pods never become Ready

# Runs the sandbox's helm, then (for an install) makes the controller's pods unpullable — so "not
# ready yet" lasts as long as the test needs, deterministically — and hangs like a slow helm until
# it is killed. Its pid tells the test whether the cancelled action killed it.
WRAPPER = '''#!{python}
import os, sys, time
sys.stderr = sys.stdout = open("{pidfile}.log", "a")
from iagent_sandbox.helm_shim import main
code = main(sys.argv[1:])
if code or "upgrade" not in sys.argv:
    sys.exit(code)
from kubernetes import client, config
apps = client.AppsV1Api(config.new_client_from_config(config_file=os.environ["KUBECONFIG"]))
template = apps.read_namespaced_deployment("{lbc}", "kube-system").spec.template
apps.patch_namespaced_deployment("{lbc}", "kube-system", {{"spec": {{"progressDeadlineSeconds": 36000,
    "template": {{"spec": {{"containers": [{{"name": template.spec.containers[0].name, "image": "{image}"}}]}}}}}}}})
open("{pidfile}", "w").write(str(os.getpid()))
time.sleep(3600)
'''


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("waits")


@pytest.fixture(scope="module")
def env(sandbox_env, workdir) -> dict[str, str]:
    from iagent_tui.commands.sandbox import _write_helm_shim

    _write_helm_shim(workdir / "bin")
    return {**sandbox_env, "PATH": f"{workdir / 'bin'}:{sandbox_env['PATH']}", "IAGENT_ACTION_POLL_SECONDS": "0.05",
            "IAGENT_JOURNAL_DIR": str(workdir / "journal"), "HOME": str(workdir)}


def journals(env: dict[str, str], action: str) -> list[list[dict]]:
    from actions.journal import read
    return [read(p) for p in sorted(Path(env["IAGENT_JOURNAL_DIR"]).glob(f"*-{action}.jsonl"))]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_deploy_killed_during_helm_is_finished_by_a_rerun_that_waits_for_the_controller(
        env, workdir, k8s, sandbox_files, monkeypatch):
    from actions.context import open_context
    from actions.deploy import DeployAction
    from actions.runner import ActionRunner
    from iagent_tui.config import load_settings
    from iagent_tui.services.connection import build_connection

    pidfile = workdir / "helm.pid"
    wrapper = workdir / "slow-helm"
    wrapper.write_text(WRAPPER.format(python=sys.executable, lbc=LBC, image=UNPULLABLE, pidfile=pidfile))
    wrapper.chmod(0o755)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings(overrides={"kubeconfig": str(sandbox_files[0]), "helm": str(wrapper)}, env=env)

    async def deploy_until_helm_hangs() -> ActionRunner:
        async with open_context(settings, await build_connection(settings), env=env) as ctx:
            action = DeployAction(ctx)
            plan = await action.plan()
            runner = ActionRunner(settings.journal_dir, False, CLUSTER)

            async def cancel_once_helm_hangs() -> None:
                for _ in range(3000):  # helm installed the release, then hangs: cancel the run now
                    if pidfile.exists():
                        break
                    await asyncio.sleep(0.02)
                task.cancel()

            async def consume() -> None:
                async for event in runner.run(action, plan):
                    if event.message.startswith("helm upgrade --install"):
                        watchers.append(asyncio.create_task(cancel_once_helm_hangs()))

            watchers: list[asyncio.Task] = []

            task = asyncio.create_task(consume())
            with pytest.raises(asyncio.CancelledError):
                await task
            return runner

    runner = asyncio.run(deploy_until_helm_hangs())
    assert runner.last.result == "cancelled"
    last = journals(env, "deploy")[-1][-1]
    assert last["result"] == "cancelled" and last["stopped_at"] == "lbc-helm"
    assert pidfile.exists(), (workdir / "helm.pid.log").read_text()
    assert not alive(int(pidfile.read_text()))  # the cancelled action killed its helm

    apps = k8s_client.AppsV1Api(k8s)
    held = apps.read_namespaced_deployment(LBC, "kube-system")
    assert held.spec.template.spec.containers[0].image == UNPULLABLE

    def release_when_the_rerun_waits() -> None:
        """Once the rerun waits for the controller, let its pods pull (what time does on AWS)."""
        def waiting() -> bool:
            runs = journals(env, "deploy")
            return len(runs) >= 2 and any(r.get("kind") == "waiting" and r.get("step_id") == "lbc-ready"
                                          for r in runs[-1])
        wait_for(waiting, timeout=120, message="the rerun waiting for the controller")
        container = held.spec.template.spec.containers[0].name
        apps.patch_namespaced_deployment(LBC, "kube-system", {"spec": {"template": {"spec": {"containers": [
            {"name": container, "image": "public.ecr.aws/eks/aws-load-balancer-controller:v2.7.2"}]}}}})

    releaser = threading.Thread(target=release_when_the_rerun_waits, daemon=True)
    releaser.start()
    result = CliRunner().invoke(deploy_command, ["--yes"], env=env, catch_exceptions=False)
    releaser.join(timeout=5)
    assert result.exit_code == 0, result.output
    assert "Nothing to do" not in result.output
    assert "[wait] Wait for the load balancer controller to be ready (2/2 pods)" in result.output
    assert "Install the AWS Load Balancer Controller with Helm: already done" in result.output
    assert "==> Wait for the load balancer controller to be ready" in result.output
    assert "2/2 ready" in result.output and "*** deploy finished." in result.output
    assert apps.read_namespaced_deployment(LBC, "kube-system").status.ready_replicas == 2

    again = CliRunner().invoke(deploy_command, ["--yes"], env=env, catch_exceptions=False)
    assert again.exit_code == 0 and "Nothing to do" in again.output


def test_a_wait_past_its_deadline_says_what_it_waited_for_what_it_saw_and_what_to_do(env, k8s):
    """Pods that can never start (an image whose registry does not resolve) and a rollout deadline
    set short through the setting (IAGENT_WAITS__ROLLOUT)."""
    core, apps = k8s_client.CoreV1Api(k8s), k8s_client.AppsV1Api(k8s)
    core.create_namespace({"metadata": {"name": "team-z"}})
    labels = {"app": "team-z-web"}
    apps.create_namespaced_deployment("team-z", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "team-z-web", "namespace": "team-z"},
        "spec": {"replicas": 1, "progressDeadlineSeconds": 36000, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                     "name": "web", "image": "registry.invalid/web:1",
                     "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}}]}}}})
    wait_for(lambda: [p for p in core.list_namespaced_pod("team-z").items if p.spec.node_name],
             message="team-z pod on an EC2 node")

    result = CliRunner().invoke(add_namespace_command, ["team-z", "--yes", "--restart"],
                                env={**env, "IAGENT_WAITS__ROLLOUT": "4"}, catch_exceptions=False)
    assert result.exit_code == EXIT_FAILED, result.output
    out = " ".join(result.output.split())
    assert "Gave up waiting for workloads in team-z rolled onto Fargate" in out
    assert "(deadline 4 s)" in out
    assert "Latest warning event: Pod team-z/team-z-web-" in out and "registry.invalid/web:1" in out
    assert "kubectl describe -n team-z deployment/team-z-web" in out
    assert "run the action again" in out and "waits.rollout" in out
    last = journals(env, "add-namespace")[-1][-1]
    assert last["result"] == "failed" and last["stopped_at"] == "restart"
    assert "registry.invalid/web:1" in last["message"]


def test_a_bad_waits_setting_is_one_line_and_exit_2(env):
    result = CliRunner().invoke(deploy_command, ["--dry-run"], env={**env, "IAGENT_WAITS__PROFILE_ACTIVE": "soon"})
    assert result.exit_code == 2
    assert result.output.strip() == ("iagent-tui deploy: Invalid settings: environment variable "
                                     "IAGENT_WAITS__PROFILE_ACTIVE: profile_active must be a number of seconds "
                                     "greater than 0, got 'soon'.")
