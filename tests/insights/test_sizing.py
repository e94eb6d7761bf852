"""Fargate sizing against the shared fixture and every example in DOMAIN.md section 1."""

import json
from pathlib import Path

import pytest

from iagent_tui.insights import sizing
from iagent_tui.insights.sizing import SUPPORTED_SIZES, FargateSize, parse_capacity_provisioned
from iagent_tui.services.convert import pod_spec_from_raw


# The cases are written as the API writes pod specs; each goes through the converter the monitor
# uses, so the converter is tested with the rule.
def fargate_size(raw):
    return sizing.fargate_size(pod_spec_from_raw(raw))


def pod_request(raw):
    return sizing.pod_request(pod_spec_from_raw(raw))


def provisioned_ephemeral_gib(raw):
    return sizing.provisioned_ephemeral_gib(pod_spec_from_raw(raw))


def billable_ephemeral_gib(raw):
    return sizing.billable_ephemeral_gib(pod_spec_from_raw(raw))

LOCAL_FIXTURE = Path(__file__).parent / "fixtures" / "fargate_sizing_cases.json"
SHARED_FIXTURE = Path(__file__).parents[2].parent / "shared" / "fixtures" / "fargate_sizing_cases.json"
FIXTURE = SHARED_FIXTURE if SHARED_FIXTURE.exists() else LOCAL_FIXTURE
CASES = json.loads(FIXTURE.read_text())["cases"]


def spec(cpu=None, memory=None, *, limits=None, init=None, sidecars=None):
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    resources = {"requests": requests}
    if limits:
        resources["limits"] = limits
    pod = {"containers": [{"name": "app", "image": "x", "resources": resources}]}
    if init or sidecars:
        pod["initContainers"] = [
            *({"name": f"s{i}", "restartPolicy": "Always", "resources": {"requests": r}} for i, r in enumerate(sidecars or [])),
            *({"name": f"i{i}", "resources": {"requests": r}} for i, r in enumerate(init or [])),
        ]
    return pod


def test_local_fixture_copy_matches_shared():
    if not SHARED_FIXTURE.exists():
        pytest.skip("../shared is absent; the local copy is the only fixture")
    assert json.loads(LOCAL_FIXTURE.read_text()) == json.loads(SHARED_FIXTURE.read_text())


def test_fixture_has_cases():
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fixture_case(case):
    size = fargate_size(case["pod_spec"])
    assert (str(size) if size else None) == case["capacity_provisioned"]


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        ({"containers": [{"name": "c"}]}, "0.25vCPU 0.5GB"),
        (spec("1", "8Gi"), "2vCPU 9GB"),  # the documented worked example
        (spec("500m", "750M"), "0.5vCPU 1GB"),
        (spec("2", "2Gi"), "2vCPU 4GB"),
        (spec("250m", "256Mi"), "0.25vCPU 0.5GB"),
        (spec("250m", "257Mi"), "0.25vCPU 1GB"),
        (spec("0.25", "256M"), "0.25vCPU 0.5GB"),
        (spec("16", "119Gi"), "16vCPU 120GB"),
        (spec("8", "60Gi"), "16vCPU 64GB"),  # 60.25 GB > 8 vCPU max, next vCPU step
        (spec("17", "1Gi"), None),
    ],
)
def test_documented_examples(pod, expected):
    size = fargate_size(pod)
    assert (str(size) if size else None) == expected


def test_every_supported_size_is_reachable_and_tight():
    # (vcpu, memory - 256 MiB) lands on that very size; one MiB more needs a larger one.
    for vcpu, memories in SUPPORTED_SIZES:
        for memory_gb in memories:
            cpu = f"{int(vcpu * 1000)}m"
            exact = fargate_size(spec(cpu, f"{int(memory_gb * 1024) - 256}Mi"))
            assert exact == FargateSize(vcpu, memory_gb)
            bigger = fargate_size(spec(cpu, f"{int(memory_gb * 1024) - 255}Mi"))
            assert bigger is None or bigger.memory_gb > memory_gb


def test_limits_stand_in_for_missing_requests_per_resource():
    pod = spec("250m", None, limits={"cpu": "2", "memory": "3Gi"})
    assert pod_request(pod) == (0.25, 3072.0)


def test_init_container_max_versus_app_sum():
    pod = spec("250m", "256Mi", init=[{"cpu": "1", "memory": "100Mi"}, {"cpu": "100m", "memory": "2Gi"}])
    assert pod_request(pod) == (1.0, 2048.0)


def test_native_sidecars_are_summed_with_app_containers():
    pod = spec("500m", "512Mi", sidecars=[{"cpu": "500m", "memory": "512Mi"}])
    assert pod_request(pod) == (1.0, 1024.0)
    assert str(fargate_size(pod)) == "1vCPU 2GB"


def test_init_after_sidecar_counts_the_sidecar():
    # Kubernetes' rule: an ordinary init container runs next to the sidecars started before it.
    pod = spec("100m", "100Mi", sidecars=[{"cpu": "1", "memory": "1Gi"}], init=[{"cpu": "1", "memory": "1Gi"}])
    assert pod_request(pod) == (2.0, 2048.0)


def test_bad_quantity_names_the_container():
    with pytest.raises(ValueError, match="container 'app': cpu"):
        fargate_size(spec("lots", "1Gi"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.25vCPU 0.5GB", FargateSize(0.25, 0.5)),
        ("2vCPU 9GB", FargateSize(2, 9)),
        ("  1vCPU   3GB ", FargateSize(1, 3)),
        ("16vCPU120GB", FargateSize(16, 120)),
    ],
)
def test_parse_capacity_provisioned(text, expected):
    assert parse_capacity_provisioned(text) == expected


@pytest.mark.parametrize("bad", ["", "2 vCPUs", "vCPU GB", "2GB 1vCPU", "0.25vCPU", None])
def test_parse_capacity_provisioned_rejects_malformed(bad):
    with pytest.raises(ValueError, match="CapacityProvisioned"):
        parse_capacity_provisioned(bad)


@pytest.mark.parametrize("size", ["0.25vCPU 0.5GB", "0.5vCPU 1GB", "1vCPU 5GB", "2vCPU 9GB", "16vCPU 120GB"])
def test_str_round_trips_the_annotation_format(size):
    assert str(parse_capacity_provisioned(size)) == size


def test_ephemeral_storage_provisioning_and_billing():
    pod = {"containers": [{"name": "c", "resources": {"requests": {"ephemeral-storage": "100Gi"}}}]}
    assert provisioned_ephemeral_gib(pod) == pytest.approx(115)  # the documented example
    assert billable_ephemeral_gib(pod) == 80
    assert provisioned_ephemeral_gib({"containers": [{"name": "c"}]}) == 20
    assert billable_ephemeral_gib({"containers": [{"name": "c"}]}) == 0


def reference_size(cpu: float, mem_mib: float):
    """DOMAIN.md 1.2's reference sketch, transcribed literally (floats, GiB)."""
    mem_gib = (mem_mib + 256) / 1024
    for vcpu, memories in SUPPORTED_SIZES:
        if vcpu >= cpu:
            for m in memories:
                if m >= mem_gib:
                    return (vcpu, m)
    return None


def test_agrees_with_the_documented_reference_sketch_on_a_grid():
    import random

    rng = random.Random(20261126)
    cpus = [0, 1, 100, 250, 251, 500, 999, 1000, 2000, 4000, 8000, 16000, 16001]
    mems = [0, 1, 255, 256, 257, 767, 768, 3840, 7936, 8192, 30720, 122624, 122625]
    pairs = [(c, m) for c in cpus for m in mems]
    pairs += [(rng.randint(0, 17000), rng.randint(0, 125_000)) for _ in range(2000)]
    for millicores, mib in pairs:
        size = fargate_size(spec(f"{millicores}m", f"{mib}Mi"))
        expected = reference_size(millicores / 1000, mib)
        assert (None if size is None else (size.vcpu, size.memory_gb)) == expected, (millicores, mib)
