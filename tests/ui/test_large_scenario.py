"""The large scenario in a bounded form (1,000 tenant pods instead of 5,000): paging with the
official client returns every pod exactly once while a rolling update replaces pods, and the
dashboard's pods table (Pilot) shows exactly the pods the API lists. Waits on conditions only."""

from __future__ import annotations

import asyncio
import json

import pytest
from kubernetes import client as k8s_client

from iagent_tui.app import build_app
from iagent_tui.config import Settings
from iagent_tui.services.connection import AwsTarget, from_kubeconfig
from iagent_tui.insights.startup import pod_start_phases
from iagent_tui.services.convert import event_from_raw
from iagent_tui.services.event_window import MAX_EVENTS, MAX_WARNINGS, pull_pod
from iagent_tui.services.monitor import ClusterMonitor
from screens.keyed_table import KeyedTable
from tests.conftest import TEST_SPEED

from .helpers import until

PODS = 1000
TENANTS = [f"tenant-{i:02d}" for i in range(10)]


@pytest.fixture(scope="module")
def sandbox():
    """The large scenario at 1,000 pods, churn off: the tests make their own churn, so what the
    API lists is stable when the dashboard is compared with it."""
    from iagent_sandbox.runtime import SandboxThread
    sb = SandboxThread(speed=TEST_SPEED, seed=1, scenario="large", pods=PODS, churn=0)
    sb.start(timeout=240)
    try:
        yield sb
    finally:
        sb.stop()


def _all_pods(core: k8s_client.CoreV1Api) -> set[tuple[str, str]]:
    return {(p.metadata.namespace, p.metadata.name) for p in core.list_pod_for_all_namespaces().items}


def test_large_scenario_shape(k8s):
    core = k8s_client.CoreV1Api(k8s)
    pods = core.list_pod_for_all_namespaces().items
    tenant = [p for p in pods if p.metadata.namespace in TENANTS]
    assert len(tenant) == PODS
    nodes = {n.metadata.name: n for n in core.list_node().items}
    for pod in tenant:  # one microVM per pod, as fargate-scheduler provisions them
        assert pod.spec.node_name.startswith("fargate-ip-") and pod.spec.node_name in nodes
        assert pod.metadata.annotations["CapacityProvisioned"] in ("0.25vCPU 1GB", "0.5vCPU 2GB")
        assert pod.status.pod_ip == pod.status.host_ip
    assert len({p.status.pod_ip for p in tenant}) == PODS
    copy = tenant[-1]  # grown in bulk: it has the events the controllers write for a pod
    events = core.list_namespaced_event(copy.metadata.namespace, field_selector=f"involvedObject.uid={copy.metadata.uid}")
    assert {"Scheduled", "Pulled", "Started"} <= {e.reason for e in events.items}
    assert any(copy.spec.node_name in e.message for e in events.items if e.reason == "Scheduled")


def test_paging_returns_every_pod_once_under_a_rolling_update(k8s):
    core, apps = k8s_client.CoreV1Api(k8s), k8s_client.AppsV1Api(k8s)
    before = _all_pods(core)
    # kubectl rollout restart: the Deployment controller replaces worker-0's pods while we page
    apps.patch_namespaced_deployment("worker-0", "tenant-09", {"spec": {"template": {"metadata": {
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}})
    first = core.list_pod_for_all_namespaces(limit=100)
    seen = [(p.metadata.namespace, p.metadata.name) for p in first.items]
    token, pages = first.metadata._continue, 1
    # a pod of a late page, deleted after the first page: still listed once (the list is the
    # first page's resourceVersion), and its replacement, created after, is not
    victim = sorted(k for k in before if k[0] == "tenant-08")[-1]
    core.delete_namespaced_pod(victim[1], victim[0], grace_period_seconds=0)
    while token:
        page = core.list_pod_for_all_namespaces(limit=100, _continue=token)
        seen += [(p.metadata.namespace, p.metadata.name) for p in page.items]
        token, pages = page.metadata._continue, pages + 1
    after = _all_pods(core)
    assert pages >= 10
    assert len(seen) == len(set(seen)), "a pod listed twice"
    assert victim in seen
    assert before <= set(seen) | (before - after - {victim}) and victim not in after
    assert before & after <= set(seen), "a pod present throughout is missing from the pages"
    assert after != before, "nothing changed while paging: not a test of churn"


async def test_pods_table_shows_exactly_the_pods_the_api_lists(sandbox, sandbox_files, k8s, tmp_path):
    info = sandbox.info
    kubeconfig, _ = sandbox_files
    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig),
                        journal_dir=tmp_path)
    connection = await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))
    app = build_app(settings, connection, source=ClusterMonitor(connection, settings))
    core = k8s_client.CoreV1Api(k8s)

    def api_keys() -> set[str]:
        return {f"{ns}/{name}" for ns, name in _all_pods(core)}

    async with app.run_test(size=(200, 50)) as pilot:
        table = app.dashboard.query_one("#table-pods", KeyedTable)
        # the rolling update of the previous test settles, then screen and API agree
        await until(pilot, lambda: all(
            d.status.updated_replicas == d.spec.replicas == d.status.ready_replicas == d.status.replicas
            for d in k8s_client.AppsV1Api(k8s).list_namespaced_deployment("tenant-09").items),
            timeout=60, what="tenant-09's rollout to finish")
        await until(pilot, lambda: len(table.row_keys) > PODS and set(table.row_keys) == api_keys(),
                    timeout=60, what="every listed pod in the pods table, and no other")


async def test_an_objects_full_event_history_is_read_on_demand(sandbox, sandbox_files, k8s):
    from iagent_tui.wiring import PodLogs

    _, connection = await _connect(sandbox, sandbox_files)
    core = k8s_client.CoreV1Api(k8s)
    pod = core.list_namespaced_pod("tenant-05", limit=1).items[0]
    reads = PodLogs(connection)
    try:
        events = await reads.events("Pod", "tenant-05", pod.metadata.name)
    finally:
        await reads.close()
    official = core.list_namespaced_event(
        "tenant-05", field_selector=f"involvedObject.kind=Pod,involvedObject.name={pod.metadata.name}").items
    assert sorted((e.reason, e.message) for e in events) == sorted((e.reason, e.message) for e in official)
    assert {"Scheduled", "Started"} <= {e.reason for e in events}


async def _connect(sandbox, sandbox_files):
    """Settings and a connection to the test's sandbox, as the dashboard makes them."""
    info = sandbox.info
    kubeconfig, _ = sandbox_files
    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig))
    connection = await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))
    return settings, connection


async def _monitor(sandbox, sandbox_files) -> ClusterMonitor:
    settings, connection = await _connect(sandbox, sandbox_files)
    return ClusterMonitor(connection, settings)


def _api_events(core: k8s_client.CoreV1Api) -> list:
    raw = json.loads(core.list_event_for_all_namespaces(_preload_content=False).data)["items"]
    return [event_from_raw(e) for e in raw]


async def test_the_monitor_bounds_events_yet_keeps_every_live_pods_pull_events(sandbox, sandbox_files, k8s):
    """The events kept are a recent window, far fewer than the API holds, plus the Pulling/Pulled
    events of every live pod: each pod's start phases come out as from the API's whole list; a
    deleted pod's pull events go with it."""
    core = k8s_client.CoreV1Api(k8s)
    async with await _monitor(sandbox, sandbox_files) as monitor:
        # 1,000 pods' pulls cannot fit in the window: only pull events kept apart reach this
        snap = await monitor.wait_for(lambda s: sum(e.reason == "Pulled" for e in s.events) >= PODS, timeout=120)
        everything = _api_events(core)
        pods = {(p.namespace, p.name): p for p in snap.pods}
        kept_pulls = {(e.namespace, e.name, e.reason, e.message) for e in snap.events if pull_pod(e)}
        api_pulls = {(e.namespace, e.name, e.reason, e.message) for e in everything
                     if pull_pod(e) in pods and e.object_uid == pods[pull_pod(e)].uid}
        assert kept_pulls == api_pulls
        window = MAX_EVENTS + MAX_WARNINGS
        assert sum(1 for e in snap.events if not pull_pod(e)) <= window < sum(1 for e in everything if not pull_pod(e))
        by_pod: dict = {}
        for e in everything:
            by_pod.setdefault((e.namespace, e.name), []).append(e)
        kept_by_pod: dict = {}
        for e in snap.events:
            kept_by_pod.setdefault((e.namespace, e.name), []).append(e)
        for key, pod in pods.items():
            assert pod_start_phases(pod, kept_by_pod.get(key, ())) == pod_start_phases(pod, by_pod.get(key, ())), key

        gone = sorted(k for k in pods if k[0] == "tenant-00")[0]
        assert any(pull_pod(e) == gone for e in snap.events)
        core.delete_namespaced_pod(gone[1], gone[0], grace_period_seconds=0)
        await monitor.wait_for(lambda s: s.pod(*gone) is None and not any(pull_pod(e) == gone for e in s.events),
                               timeout=30)


async def test_the_monitors_pods_follow_the_api_through_churn(sandbox, sandbox_files, k8s):
    """Snapshots are built from changes only: after a rolling update and deletions, the pods a
    snapshot holds are exactly those the API lists, each at the resourceVersion it lists."""
    core, apps = k8s_client.CoreV1Api(k8s), k8s_client.AppsV1Api(k8s)

    def api() -> dict:
        return {(p.metadata.namespace, p.metadata.name): p.metadata.resource_version
                for p in core.list_pod_for_all_namespaces().items}

    async with await _monitor(sandbox, sandbox_files) as monitor:
        await monitor.wait_for(lambda s: len(s.pods) > PODS, timeout=60)
        apps.patch_namespaced_deployment("worker-1", "tenant-08", {"spec": {"template": {"metadata": {
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-02T00:00:00Z"}}}}})
        for pod in core.list_namespaced_pod("tenant-07", limit=5).items:
            core.delete_namespaced_pod(pod.metadata.name, "tenant-07", grace_period_seconds=0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        while True:
            settled = all(d.status.updated_replicas == d.spec.replicas == d.status.ready_replicas == d.status.replicas
                          for d in apps.list_namespaced_deployment("tenant-08").items)
            listed = api()
            shown = {(p.namespace, p.name): p.resource_version for p in monitor.snapshot.pods}
            if settled and shown == listed:
                break
            assert loop.time() < deadline, f"snapshot and API differ: {set(shown.items()) ^ set(listed.items())}"
            await asyncio.sleep(0.5)
