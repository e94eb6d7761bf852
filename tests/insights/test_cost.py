"""Pod cost: annotation vs projection, rollups, waste."""

import pytest

from iagent_tui.insights.cost import pod_hourly_cost, rollup, rounding_waste_hourly, waste_hourly
from iagent_tui.insights.pricing import HOURS_PER_MONTH, rate_card
from iagent_tui.services.convert import pod_from_raw

US = rate_card("us-east-1")
EU = rate_card("eu-central-1")


def pod(name, namespace="prod", *, cpu="250m", memory="256Mi", capacity=None, profile=None, owner=None, hash_=None, storage=None):
    requests = {"cpu": cpu, "memory": memory}
    if storage:
        requests["ephemeral-storage"] = storage
    meta = {"name": name, "namespace": namespace, "labels": {}, "annotations": {}}
    if capacity:
        meta["annotations"]["CapacityProvisioned"] = capacity
    if profile:
        meta["labels"]["eks.amazonaws.com/fargate-profile"] = profile
    if hash_:
        meta["labels"]["pod-template-hash"] = hash_
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    return pod_from_raw({"metadata": meta, "spec": {"containers": [{"name": "c", "resources": {"requests": requests}}]}})


def test_annotation_decides_the_bill():
    # Requests say 0.25/0.5 but Fargate provisioned 2vCPU 9GB: the annotation wins.
    cost = pod_hourly_cost(pod("a", capacity="2vCPU 9GB", profile="fp"), US)
    assert cost.basis == "provisioned"
    assert cost.hourly == pytest.approx(0.120965)
    assert cost.monthly == pytest.approx(0.120965 * HOURS_PER_MONTH)
    assert cost.profile == "fp"


def test_projection_from_requests_without_annotation():
    cost = pod_hourly_cost(pod("a", cpu="1", memory="8Gi"), US)
    assert cost.basis == "projected"
    assert str(cost.size) == "2vCPU 9GB"
    assert cost.hourly == pytest.approx(0.120965)


def test_malformed_annotation_falls_back_with_a_note():
    cost = pod_hourly_cost(pod("a", capacity="lots"), US)
    assert cost.basis == "projected"
    assert "malformed CapacityProvisioned" in cost.note
    assert cost.hourly == pytest.approx(0.0123425)


def test_too_large_pod_is_unpriced():
    cost = pod_hourly_cost(pod("a", cpu="32", memory="1Gi"), US)
    assert cost.size is None and cost.hourly is None
    assert "too large" in cost.note


def test_waste_in_units_and_dollars():
    cost = pod_hourly_cost(pod("a", cpu="1", memory="8Gi"), US)
    assert cost.waste_vcpu == pytest.approx(1.0)
    assert cost.waste_gb == pytest.approx(1.0)
    assert waste_hourly(cost, US) == pytest.approx(1 * 0.04048 + 1 * 0.004445)
    assert rounding_waste_hourly(cost, US) == pytest.approx(1 * 0.04048 + 0.75 * 0.004445)


def test_exact_fit_has_no_rounding_waste():
    cost = pod_hourly_cost(pod("a", cpu="250m", memory="256Mi"), US)
    assert rounding_waste_hourly(cost, US) == pytest.approx(0.0)
    assert cost.waste_gb == pytest.approx(0.25)


def test_ephemeral_storage_is_billed_beyond_20_gib():
    cost = pod_hourly_cost(pod("a", storage="30Gi"), US)
    assert cost.ephemeral_hourly == pytest.approx(10 * 0.000111)
    assert cost.hourly == pytest.approx(0.0123425 + 10 * 0.000111)
    unpriced = pod_hourly_cost(pod("a", storage="30Gi"), EU)
    assert unpriced.ephemeral_hourly is None and "unpriced" in unpriced.note


def test_rollups_by_workload_namespace_and_profile():
    pods = [
        pod("api-5d9c7-x1", owner=("ReplicaSet", "api-5d9c7"), hash_="5d9c7", capacity="0.25vCPU 0.5GB", profile="fp-prod"),
        pod("api-5d9c7-x2", owner=("ReplicaSet", "api-5d9c7"), hash_="5d9c7", capacity="0.25vCPU 0.5GB", profile="fp-prod"),
        pod("db-0", owner=("StatefulSet", "db"), cpu="1", memory="8Gi"),
        pod("loose", namespace="staging", capacity="2vCPU 9GB", profile="fp-staging"),
        pod("huge", namespace="staging", cpu="64", memory="1Gi"),
    ]
    costs = [pod_hourly_cost(p, US) for p in pods]
    by_workload = {r.key: r for r in rollup(costs, US, "workload")}
    assert set(by_workload) == {"Deployment/prod/api", "StatefulSet/prod/db", "Pod/staging/loose", "Pod/staging/huge"}
    api = by_workload["Deployment/prod/api"]
    assert (api.pods, api.provisioned_pods) == (2, 2)
    assert api.hourly == pytest.approx(2 * 0.0123425)
    assert api.monthly == pytest.approx(2 * 0.0123425 * 730)
    assert by_workload["Pod/staging/huge"].unpriced_pods == 1

    by_namespace = rollup(costs, US, "namespace")
    assert [r.key for r in by_namespace] == ["prod", "staging"]  # prod: 0.0247 + 0.121 > staging: 0.121
    assert by_namespace[0].provisioned_hourly == pytest.approx(2 * 0.0123425)

    by_profile = {r.key: r for r in rollup(costs, US, "profile")}
    assert set(by_profile) == {"fp-prod", "fp-staging", "(no profile)"}
    assert by_profile["(no profile)"].pods == 2


def test_rollup_rejects_unknown_grouping():
    with pytest.raises(ValueError, match="workload, namespace or profile"):
        rollup([], US, "node")


def test_unreadable_requests_keep_a_provisioned_bill():
    bad = pod("a", cpu="lots", capacity="0.5vCPU 1GB")
    cost = pod_hourly_cost(bad, US)
    assert cost.basis == "provisioned" and cost.hourly == pytest.approx(0.5 * 0.04048 + 0.004445)
    assert "requests unreadable" in cost.note
    unpriced = pod_hourly_cost(pod("b", cpu="lots"), US)
    assert unpriced.hourly is None and "requests unreadable" in unpriced.note
