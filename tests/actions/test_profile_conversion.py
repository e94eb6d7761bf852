"""A cluster migrated with namespace-wide profiles (the "migrated" scenario) is converted to a
label-scoped profile by `add-namespace prod`, and rolled back, without any workload dropping to
zero ready replicas — watched independently with the official kubernetes client."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from kubernetes import client as k8s_client
from kubernetes import watch as k8s_watch

from iagent_tui.commands.actions import add_namespace_command, rollback_command
from tests.conftest import wait_for

pytestmark = pytest.mark.scenario("migrated")
CLUSTER = "iagent-cluster"


@pytest.fixture(scope="module")
def env(sandbox_env, tmp_path_factory) -> dict[str, str]:
    from iagent_tui.commands.sandbox import _write_helm_shim
    workdir: Path = tmp_path_factory.mktemp("conversion")
    _write_helm_shim(workdir / "bin")
    return {**sandbox_env, "PATH": f"{workdir / 'bin'}:{sandbox_env['PATH']}", "IAGENT_ACTION_POLL_SECONDS": "0.05",
            "IAGENT_JOURNAL_DIR": str(workdir / "journal"), "HOME": str(workdir)}


class ZeroReadyWatch:
    """Every Deployment of a namespace seen with replicas > 0 and no ready replica, from a watch."""

    def __init__(self, k8s, namespace: str) -> None:
        self.apps = k8s_client.AppsV1Api(k8s)
        self.namespace = namespace
        self.down: set[str] = set()
        self.seen: set[str] = set()
        self.errors: list[str] = []
        self.stopped = False
        self._watch = k8s_watch.Watch()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # Streams can end (server timeout, the sandbox stopping at teardown): resume from the last
        # resourceVersion until stopped, and remember any failure seen while still watching.
        version = None
        while not self.stopped:
            try:
                for event in self._watch.stream(self.apps.list_namespaced_deployment, self.namespace,
                                                resource_version=version, timeout_seconds=60):
                    d = event["object"]
                    version = d.metadata.resource_version
                    self.seen.add(d.metadata.name)
                    if (d.spec.replicas or 0) > 0 and not (d.status.ready_replicas or 0):
                        self.down.add(d.metadata.name)
            except Exception as exc:  # noqa: BLE001 - reported by the test unless we were stopping
                if not self.stopped:
                    self.errors.append(repr(exc))
                    version = None  # re-list: a gap in the stream must not hide a state

    def __enter__(self) -> "ZeroReadyWatch":
        self._thread.start()
        wait_for(lambda: self.seen, message="the watch's initial list")  # connected before anything changes
        return self

    def __exit__(self, *exc) -> None:
        self.stopped = True
        self._watch.stop()


def test_namespace_wide_profile_converts_and_rolls_back_without_zero_ready_replicas(env, aws, k8s):
    eks, core = aws("eks"), k8s_client.CoreV1Api(k8s)
    old = eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="fp-prod")["fargateProfile"]
    assert old["selectors"] == [{"namespace": "prod"}]  # namespace-wide, as the scenario made it
    with ZeroReadyWatch(k8s, "prod") as watched:
        result = CliRunner().invoke(add_namespace_command, ["prod", "--yes"], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert "Delete the namespace-wide Fargate profile fp-prod" in result.output
    names = eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"]
    assert "fp-prod" not in names and "fp-prod-labelled" in names
    new = eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="fp-prod-labelled")["fargateProfile"]
    assert new["selectors"] == [{"namespace": "prod", "labels": {"iagent.io/compute": "fargate"}}]
    api = [p for p in core.list_namespaced_pod("prod", label_selector="app.kubernetes.io/name=iagent-api").items
           if p.metadata.deletion_timestamp is None]
    assert api and all(p.spec.node_name.startswith("fargate-ip-")
                       and p.metadata.labels["eks.amazonaws.com/fargate-profile"] == "fp-prod-labelled" for p in api)
    assert "iagent-api" in watched.seen and watched.down == set() and watched.errors == []

    with ZeroReadyWatch(k8s, "prod") as watched:
        result = CliRunner().invoke(rollback_command, ["--yes"], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []
    api = [p for p in core.list_namespaced_pod("prod", label_selector="app.kubernetes.io/name=iagent-api").items
           if p.metadata.deletion_timestamp is None]
    assert api and not any(p.spec.node_name.startswith("fargate-") for p in api)
    assert "iagent-api" in watched.seen and watched.down == set() and watched.errors == []
