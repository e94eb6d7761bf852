"""Usage records and right-sizing as pure functions: scrapes counted once, rings bounded and
pruned to the window, p95 nearest rank, and recommendations that never go under usage + headroom
nor land on a size Fargate does not offer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st

from iagent_tui.insights.cost import pod_hourly_cost
from iagent_tui.insights.pricing import rate_card
from iagent_tui.insights.quantities import MIB
from iagent_tui.insights.rightsizing import rightsize
from iagent_tui.insights.sizing import SUPPORTED_SIZES
from iagent_tui.insights.usage import UsageRecord
from iagent_tui.model import Pod
from iagent_tui.services.convert import pod_from_raw

T0 = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
RATES = rate_card("eu-central-1")


def item(pod: str, seconds: int, cpu: str, memory: str, container: str = "app") -> dict:
    stamp = (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"metadata": {"namespace": "prod", "name": pod}, "timestamp": stamp,
            "containers": [{"name": container, "usage": {"cpu": cpu, "memory": memory}}]}


def owner(namespace: str, pod: str) -> str:
    return "Deployment/prod/api"


def test_same_scrape_read_twice_counts_once_and_replicas_pool():
    record = UsageRecord(600)
    assert record.add([item("api-1", 0, "100m", "100Mi"), item("api-2", 0, "200m", "50Mi")], owner) == 2
    assert record.add([item("api-1", 0, "100m", "100Mi")], owner) == 0
    assert record.add([item("api-1", 15, "150000000n", "120Mi")], owner) == 1
    stat = record.summary().stats[("Deployment/prod/api", "app")]
    assert (stat.samples, stat.pods, stat.cpu_max_millicores, stat.memory_max_bytes) == (3, 2, 200, 120 * MIB)
    assert record.summary().scrapes == 2


def test_window_prunes_old_samples_and_p95_is_nearest_rank():
    record = UsageRecord(300)
    for i in range(40):  # 10 minutes of scrapes, values 1..40 m
        record.add([item("api-1", i * 15, f"{i + 1}m", "10Mi")], owner)
    summary = record.summary()
    stat = summary.stats[("Deployment/prod/api", "app")]
    assert stat.samples == 21 and summary.span_seconds == 300  # the last 5 minutes only: 20m..40m
    assert stat.cpu_p95_millicores == 39  # nearest rank: the 20th of 21 sorted values (ceil(0.95 x 21))


def test_a_pod_without_a_known_workload_is_read_again_later():
    record = UsageRecord(600)
    assert record.add([item("new-1", 0, "10m", "10Mi")], lambda ns, pod: None) == 0
    assert record.add([item("new-1", 0, "10m", "10Mi")], owner) == 1


def pod(cpu: str, memory: str) -> Pod:
    return pod_from_raw({"metadata": {"name": "api-1", "namespace": "prod", "labels": {"pod-template-hash": "abc"},
                                      "ownerReferences": [{"kind": "ReplicaSet", "name": "api-abc", "controller": True}]},
                         "spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]}})


@settings(max_examples=200, deadline=None)
@given(cpu=st.integers(1, 15000), memory_mib=st.integers(1, 100_000), headroom=st.sampled_from([0, 10, 20, 50]))
def test_recommendation_never_below_usage_plus_headroom_and_always_a_fargate_size(cpu, memory_mib, headroom):
    record = UsageRecord(600)
    record.add([item("api-1", 0, f"{cpu}m", f"{memory_mib}Mi")], owner)
    p = pod("16", "100Gi")
    result = rightsize([(p, pod_hourly_cost(p, RATES))], record.summary(), RATES, headroom)
    advice = result.workloads[0]
    c = advice.containers[0]
    assert c.recommended_millicores >= cpu * (1 + headroom / 100) - 1e-6
    assert c.recommended_bytes >= memory_mib * MIB * (1 + headroom / 100) - 1
    size = advice.rightsized_size
    assert any(size.vcpu == v and size.memory_gb in memories for v, memories in SUPPORTED_SIZES)
    fits = size.millicores >= c.recommended_millicores and size.memory_mib * MIB >= c.recommended_bytes + 256 * MIB
    # Usage beyond 16 vCPU / 120 GB fits no Fargate size: the pod keeps its own (largest) size.
    assert fits or size == advice.current_size


def test_the_saving_is_the_price_difference_per_pod_and_month():
    record = UsageRecord(600)
    record.add([item("api-1", 0, "100m", "500Mi")], owner)  # -> 120m, 600Mi + 256 -> 0.25 vCPU 1 GB
    p = pod("500m", "4Gi")  # 0.5 vCPU + 4.25 GiB -> 1 vCPU 5 GB today
    advice = rightsize([(p, pod_hourly_cost(p, RATES))], record.summary(), RATES, 20).workloads[0]
    assert (str(advice.current_size), str(advice.rightsized_size), advice.verdict) == ("1vCPU 5GB", "0.25vCPU 1GB", "smaller")
    expected = ((1 * 0.04656 + 5 * 0.00511) - (0.25 * 0.04656 + 1 * 0.00511)) * 730
    assert abs(advice.monthly_saving - expected) < 1e-9
