"""The sandbox's own EKS rules (iagent_sandbox.eks_rules) against DOMAIN.md: the shared sizing
fixture, the documented wildcard and tie-break examples, the observed rejection texts — and the
product's sizing agreeing with the twin's on every fixture case (agreement is the evidence)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iagent_sandbox.eks_rules.profiles import PROFILE_LABEL, match_profile, wildcard_match
from iagent_sandbox.eks_rules.quantities import cpu_millicores, memory_bytes
from iagent_sandbox.eks_rules.rejection import rejection_clauses, rejection_message
from iagent_sandbox.eks_rules.sizing import CONFIGURATIONS, FargateSize, fargate_size

TESTS = Path(__file__).resolve().parents[1]
SHARED_FIXTURE = TESTS.parents[1] / "shared" / "fixtures" / "fargate_sizing_cases.json"
LOCAL_FIXTURE = TESTS / "insights" / "fixtures" / "fargate_sizing_cases.json"
CASES = json.loads((SHARED_FIXTURE if SHARED_FIXTURE.exists() else LOCAL_FIXTURE).read_text())["cases"]


def _text(size) -> str | None:
    return str(size) if size is not None else None


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_sandbox_sizing_matches_the_fixture(case):
    assert _text(fargate_size(case["pod_spec"])) == case["capacity_provisioned"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_product_and_sandbox_sizing_agree(case):
    from iagent_tui.insights.sizing import fargate_size as product_fargate_size
    from iagent_tui.services.convert import pod_spec_from_raw

    assert _text(product_fargate_size(pod_spec_from_raw(case["pod_spec"]))) == _text(fargate_size(case["pod_spec"])) \
        == case["capacity_provisioned"]


def containers(*requests, init=()):
    spec = {"containers": [{"name": f"c{i}", "resources": {"requests": r}} for i, r in enumerate(requests)]}
    if init:
        spec["initContainers"] = [{"name": f"i{i}", "resources": {"requests": r}} for i, r in enumerate(init)]
    return spec


def test_every_configuration_is_reached_by_exactly_its_request():
    for vcpu, memories in CONFIGURATIONS:
        for memory_gb in memories:
            request = {"cpu": f"{int(vcpu * 1000)}m", "memory": f"{int(memory_gb * 1024) - 256}Mi"}
            assert fargate_size(containers(request)) == FargateSize(vcpu, memory_gb), request


def test_init_containers_count_by_their_largest_request_not_their_sum():
    spec = containers({"cpu": "250m", "memory": "256Mi"}, init=({"cpu": "1", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"}))
    assert str(fargate_size(spec)) == "1vCPU 2GB"


def test_native_sidecars_run_beside_the_app_containers():
    spec = containers({"cpu": "250m", "memory": "512Mi"})
    spec["initContainers"] = [{"name": "proxy", "restartPolicy": "Always",
                               "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}}]
    assert str(fargate_size(spec)) == "0.5vCPU 2GB"


def test_the_annotation_text_has_no_trailing_zero():
    assert [str(FargateSize(0.25, 0.5)), str(FargateSize(2, 9))] == ["0.25vCPU 0.5GB", "2vCPU 9GB"]


@pytest.mark.parametrize(("text", "millicores"), [("250m", 250), ("0.25", 250), (1, 1000), ("1e3", 1_000_000),
                                                   ("0.0001", 1), ("2k", 2_000_000)])
def test_cpu_quantities(text, millicores):
    assert cpu_millicores(text) == millicores


@pytest.mark.parametrize(("text", "size"), [("256Mi", 256 * 2**20), ("750M", 750_000_000), ("1Gi", 2**30),
                                             ("0.5Gi", 2**29), ("1.5", 2), ("5e2", 500)])
def test_memory_quantities(text, size):
    assert memory_bytes(text) == size


@pytest.mark.parametrize("bad", ["", "1.2.3", "5 Mi", "Mi", "1mi", "-1", True, None])
def test_bad_quantities_are_refused(bad):
    with pytest.raises(ValueError):
        memory_bytes(bad)


@pytest.mark.parametrize(("pattern", "value", "matches"), [
    ("prod*", "prod", True), ("prod*", "prod-metrics", True), ("*dev", "team-dev", True),
    ("value?", "valuea", True), ("value?", "value", False), ("value?", "value-a", False),
    ("frontend*?", "frontend1", True), ("frontend*?", "frontend", False),
    ("[ab]", "a", False), ("[ab]", "[ab]", True), ("a.c", "abc", False),
])
def test_wildcards_are_star_and_question_mark_only(pattern, value, matches):
    assert wildcard_match(pattern, value) is matches


def profile(name, *selectors, status="ACTIVE"):
    return {"fargateProfileName": name, "status": status, "selectors": list(selectors)}


def test_alphabetical_tie_break_between_matching_profiles():
    profiles = [profile("prod-workload", {"namespace": "prod*"}), profile("beta-workload", {"namespace": "prod"})]
    assert match_profile("prod", {}, profiles)["fargateProfileName"] == "beta-workload"


def test_a_selector_needs_every_one_of_its_labels():
    profiles = [profile("fp", {"namespace": "prod", "labels": {"app": "web", "tier": "fr*"}})]
    assert match_profile("prod", {"app": "web"}, profiles) is None
    assert match_profile("prod", {"app": "web", "tier": "front", "x": "y"}, profiles)["fargateProfileName"] == "fp"


def test_only_active_profiles_take_pods():
    assert match_profile("prod", {}, [profile("fp", {"namespace": "prod"}, status="CREATING")]) is None


def test_the_pinning_label_chooses_among_matching_profiles():
    profiles = [profile("a", {"namespace": "prod"}), profile("b", {"namespace": "prod"}), profile("c", {"namespace": "dev"})]
    assert match_profile("prod", {PROFILE_LABEL: "b"}, profiles)["fargateProfileName"] == "b"
    assert match_profile("prod", {PROFILE_LABEL: "c"}, profiles) is None  # pinned but not selected


def pod(**spec):
    return {"containers": [{"name": "app", "image": "x"}], **spec}


def test_rejection_clauses_are_the_observed_texts():
    assert rejection_clauses(pod(hostNetwork=True)) == ["fields not supported: HostNetwork"]
    assert rejection_clauses(pod(hostNetwork=True, hostPID=True, hostIPC=True)) == \
        ["fields not supported: HostNetwork, HostPID, HostIPC"]
    assert rejection_clauses({"containers": [{"name": "a", "ports": [{"containerPort": 80, "hostPort": 80}]}]}) == \
        ["port contains HostIP or HostPort"]
    privileged = {"name": "p", "securityContext": {"privileged": True}}
    assert rejection_message(rejection_clauses({"containers": [privileged, {**privileged, "name": "q"}]})) == \
        "Pod not supported on Fargate: invalid SecurityContext fields: Privileged,Privileged"
    for cap in ("NET_ADMIN", "CAP_CHOWN", "DAC_READ_SEARCH"):
        spec = {"containers": [{"name": "a", "securityContext": {"capabilities": {"add": [cap]}}}]}
        assert rejection_clauses(spec) == [f"invalid SecurityContext fields: Capabilities added: {cap}"]
    assert rejection_clauses(pod(volumes=[{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}])) == \
        ["volumes not supported: sock is of an unsupported volume Type"]


def test_claims_must_be_bound_to_an_efs_volume():
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "c"}}]
    assert rejection_clauses(pod(volumes=volumes)) == \
        ['volumes not supported: data not supported because: persistentvolumeclaim "c" not found']
    pending = {"c": {"spec": {}, "status": {"phase": "Pending"}}}
    assert rejection_clauses(pod(volumes=volumes), pending) == ["volumes not supported: data not supported because: PVC c not bound"]
    bound = {"c": {"spec": {"volumeName": "pv1"}, "status": {"phase": "Bound"}}}
    ebs = {"pv1": {"spec": {"csi": {"driver": "ebs.csi.aws.com"}}}}
    assert rejection_clauses(pod(volumes=volumes), bound, ebs) == \
        ["volumes not supported: data not supported because: PVC c bound to invalid PV pv1 with CSI Driver: ebs.csi.aws.com"]
    efs = {"pv1": {"spec": {"csi": {"driver": "efs.csi.aws.com"}}}}
    assert rejection_clauses(pod(volumes=volumes), bound, efs) == []


def test_the_documented_safe_volumes_are_admitted():
    safe = [{"name": k, k: {}} for k in ("emptyDir", "configMap", "secret", "projected", "downwardAPI")]
    assert rejection_clauses(pod(volumes=safe)) == []
