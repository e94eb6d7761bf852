"""ClusterMonitor against real servers: moto for AWS, the sandbox's Kubernetes API server."""

from __future__ import annotations

import boto3
import pytest

from iagent_tui.config import Settings
from iagent_tui.model import FargateProfile
from iagent_sandbox.kube.resources import rt
from iagent_tui.services.errors import ServiceError
from iagent_tui.services.kube import NODES, PODS, KubeClient
from iagent_tui.services.monitor import ClusterMonitor

from .conftest import CLUSTER, REGION, make_connection, seed_aws, seed_kube


@pytest.fixture
def cluster(moto, kube_server):
    seeded = seed_aws(moto)
    seed_kube(kube_server.store)
    return {"aws": moto, "kube": kube_server, **seeded}


def monitor_for(cluster, **kwargs) -> ClusterMonitor:
    conn = make_connection(cluster["kube"].url, cluster["kube"].ca_pem, cluster["aws"])
    kwargs.setdefault("slow_interval", 30.0)
    return ClusterMonitor(conn, Settings(cluster=CLUSTER, region=REGION), **kwargs)


async def test_one_shot_matches_what_boto3_and_the_store_hold(cluster):
    snap = await monitor_for(cluster).one_shot()
    truth = boto3.client("eks", region_name=REGION, endpoint_url=cluster["aws"]).describe_cluster(name=CLUSTER)["cluster"]
    assert (snap.cluster.name, snap.cluster.status, snap.cluster.version) == (CLUSTER, truth["status"], truth["version"])
    assert [(p.name, p.status) for p in snap.profiles] == [("fp-default", "ACTIVE"), ("fp-prod", "ACTIVE")]
    assert {n.name: n.compute_type for n in snap.nodes} == {
        "fargate-ip-10-0-0-21.eu-central-1.compute.internal": "fargate",
        "ip-10-0-0-10.eu-central-1.compute.internal": "ec2",
    }
    web = snap.pod("default", "web-1")
    assert (web.compute_type, web.capacity_provisioned, web.fargate_profile) == ("fargate", "0.25vCPU 0.5GB", "fp-default")
    assert [p.name for p in snap.coredns_pods()] == ["coredns-abc"] and snap.coredns_pods()[0].compute_type == "ec2"
    assert [r["RoleName"] for r in snap.pod_execution_roles] == ["AmazonEKSFargatePodExecutionRole"]
    # moto has no EKS add-ons API: that one source fails on its own, the rest is complete
    assert all(s.ok for name, s in snap.sources.items() if name != "addons")


async def test_live_snapshots_follow_kubernetes_and_aws(cluster):
    store = cluster["kube"].store
    async with monitor_for(cluster) as monitor:
        first = await monitor.wait_for(lambda s: s.cluster is not None and len(s.pods) == 2, timeout=15)
        store.create(rt("pods"), {"metadata": {"name": "api-1"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, namespace="default")
        later = await monitor.wait_for(lambda s: s.pod("default", "api-1") is not None, timeout=10)
        assert later.version > first.version
        assert later.pod("default", "api-1").reason == "Pending" and later.pod("default", "api-1").compute_type == ""
        boto3.client("eks", region_name=REGION, endpoint_url=cluster["aws"]).create_fargate_profile(
            fargateProfileName="fp-staging", clusterName=CLUSTER, podExecutionRoleArn=cluster["role"],
            subnets=cluster["subnets"][:1], selectors=[{"namespace": "staging"}])
        monitor.poll_now()  # what an action does after changing AWS
        snap = await monitor.wait_for(lambda s: s.profile("fp-staging") is not None, timeout=10)
        assert snap.profile("fp-staging").status_since is not None
        assert snap.pod("default", "api-1") is not None  # kube data carried along
        with pytest.raises(TimeoutError):
            await monitor.wait_for(lambda s: False, timeout=0.2)
        assert monitor._subs == []  # every wait_for unsubscribed, even the one that timed out
    assert not monitor.running


async def test_bursts_are_coalesced(cluster):
    store = cluster["kube"].store
    async with monitor_for(cluster) as monitor:
        await monitor.wait_for(lambda s: len(s.pods) == 2, timeout=15)
        published = []
        monitor.add_listener(published.append)
        published.clear()
        for i in range(60):
            store.create(rt("configmaps"), {"metadata": {"name": f"x{i}"}}, namespace="default")  # not watched
            store.create(rt("pods"), {"metadata": {"name": f"burst-{i}"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, namespace="default")
        await monitor.wait_for(lambda s: s.pod("default", "burst-59") is not None, timeout=10)
    assert 1 <= len(published) <= 10, f"{len(published)} snapshots for one burst of 60 pods"


async def test_failing_sources_keep_their_data_and_say_since_when(cluster):
    server = cluster["kube"]
    async with monitor_for(cluster, watch_max_backoff=0.5) as monitor:
        await monitor.wait_for(lambda s: len(s.pods) == 2, timeout=15)
        server.expire_token()
        server.drop_watches()
        snap = await monitor.wait_for(lambda s: not s.sources["pods"].ok, timeout=10)
        assert len(snap.pods) == 2  # stale, not blank
        assert snap.sources["pods"].stale_since is not None
        assert "credentials" in snap.sources["pods"].error
        server.set_token("services-test-token")
        recovered = await monitor.wait_for(lambda s: all(s.sources[n].ok for n in ("pods", "nodes", "events")), timeout=20)
        assert recovered.sources["pods"].stale_since is None and len(recovered.pods) == 2


def test_poll_interval_adapts_to_transitions_and_backs_off_on_throttling(cluster):
    monitor = monitor_for(cluster, fast_interval=2.0, slow_interval=30.0, max_interval=120.0)
    assert monitor._next_interval() == 30.0  # nothing changing
    creating = FargateProfile("fp-new", "CREATING", (), (), "arn:aws:iam::1:role/r", None)
    monitor._aws_data["fargate_profiles"] = (creating,)
    assert monitor._next_interval() == 2.0  # a profile in transition: poll fast
    monitor._last_errors["iam_roles"] = ServiceError("not_permitted", "no iam:GetRole")
    assert monitor._next_interval() == 2.0  # a missing permission does not slow the others down
    monitor._last_errors["addons"] = ServiceError("throttled", "slow down")
    monitor.current_interval = 2.0
    assert monitor._next_interval() == 4.0
    monitor.current_interval = 100.0
    assert monitor._next_interval() == 120.0  # capped


async def test_namespace_scope_watches_chosen_namespaces_and_kube_system(cluster):
    store = cluster["kube"].store
    store.create(rt("namespaces"), {"metadata": {"name": "prod"}})
    store.create(rt("pods"), {"metadata": {"name": "api-1"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, namespace="prod")
    conn = make_connection(cluster["kube"].url, cluster["kube"].ca_pem, cluster["aws"])
    monitor = ClusterMonitor(conn, Settings(cluster=CLUSTER, region=REGION, namespaces=["prod"]))
    async with monitor:
        snap = await monitor.wait_for(lambda s: len(s.nodes) == 2 and len(s.pods) == 2, timeout=15)
        assert sorted(p.key for p in snap.pods) == ["kube-system/coredns-abc", "prod/api-1"]  # default/web-1 is out of scope
        assert {r.namespace for r in monitor.reflectors if r.resource.plural == "pods"} == {"kube-system", "prod"}
        assert [r.namespace for r in monitor.reflectors if r.resource.plural == "nodes"] == [None]


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


async def test_objects_are_kept_without_managed_fields_or_last_applied_configuration(cluster):
    """What no view reads is dropped when an object arrives (listed or watched); the rest of the
    raw object, which the YAML view shows, is kept as the API server sent it."""
    conn = make_connection(cluster["kube"].url, cluster["kube"].ca_pem, cluster["aws"])

    async def apply(kube: KubeClient, name: str, note: str) -> None:
        # kubectl apply --server-side: the API server records managedFields
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "annotations": {
            LAST_APPLIED: '{"a": "' + "x" * 500 + '"}', "team": note}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
        await kube.request_json("PATCH", PODS.path("default", name), [("fieldManager", "kubectl")],
                                body=pod, content_type="application/apply-patch+yaml")

    async with KubeClient(conn) as kube:
        await apply(kube, "listed", "a")
        async with monitor_for(cluster) as monitor:
            await monitor.wait_for(lambda s: s.pod("default", "listed") is not None, timeout=15)
            await apply(kube, "watched", "b")
            snap = await monitor.wait_for(lambda s: s.pod("default", "watched") is not None, timeout=10)
            kept = [raw for r in monitor.reflectors if r.resource is PODS for raw in r.items.values()]
        served = await kube.get(PODS, "default", "watched")
    assert served["metadata"]["managedFields"] and LAST_APPLIED in served["metadata"]["annotations"]
    for name, note in (("listed", "a"), ("watched", "b")):
        pod = snap.pod("default", name)
        assert "managedFields" not in pod.raw["metadata"]
        assert pod.raw["metadata"]["annotations"] == {"team": note} and dict(pod.annotations) == {"team": note}
        assert pod.raw["spec"]["containers"][0]["image"] == "nginx" and pod.raw["metadata"]["uid"] == pod.uid
    assert all("managedFields" not in raw["metadata"] for raw in kept)
    nodes = next(r for r in monitor.reflectors if r.resource is NODES).items
    assert all(set(raw) == {"kind", "metadata", "status"} for raw in nodes.values())  # nodes: what Node reads
