"""Fargate profile matching: wildcards, all-labels rule, ACTIVE only, name tie-break, pinning."""

import pytest

from iagent_tui.insights.profiles import match_profile, matching_profiles, wildcard_match
from iagent_tui.services.aws import profile_from_api


def profile(name, *selectors, status="ACTIVE"):
    return profile_from_api({
        "fargateProfileName": name,
        "status": status,
        "selectors": [{"namespace": ns, **({"labels": labels} if labels else {})} for ns, labels in selectors],
    })


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("prod*", "prod", True),
        ("prod*", "prod-metrics", True),
        ("prod*", "staging", False),
        ("value?", "valuea", True),
        ("value?", "value", False),
        ("value?", "value-a", False),
        ("*dev", "team-dev", True),
        ("*dev", "dev-team", False),
        ("frontend*?", "frontend", False),
        ("frontend*?", "frontend1", True),
        ("a[b]c", "a[b]c", True),  # no character classes: '[' is literal
        ("a[b]c", "abc", False),
        ("a.c", "abc", False),  # no regex either
        ("default", "default", True),
        ("default", "default2", False),
    ],
)
def test_wildcards(pattern, value, expected):
    assert wildcard_match(pattern, value) is expected


def test_selector_needs_namespace_and_all_labels():
    p = profile("fp", ("prod", {"app": "api", "tier": "web"}))
    assert match_profile("prod", {"app": "api", "tier": "web", "extra": "x"}, [p]) is p
    assert match_profile("prod", {"app": "api"}, [p]) is None
    assert match_profile("staging", {"app": "api", "tier": "web"}, [p]) is None


def test_any_selector_of_a_profile_matches():
    p = profile("fp", ("prod", None), ("staging", {"app": "api"}))
    assert match_profile("staging", {"app": "api"}, [p]) is p
    assert match_profile("staging", {"app": "web"}, [p]) is None


def test_wildcards_in_label_keys_and_values():
    p = profile("fp", ("*", {"app.kubernetes.io/*": "api-?"}))
    assert match_profile("any", {"app.kubernetes.io/name": "api-1"}, [p]) is p
    assert match_profile("any", {"app.kubernetes.io/name": "api-12"}, [p]) is None


def test_alphabetical_tie_break():
    prod = profile("prod-workload", ("prod*", None))
    beta = profile("beta-workload", ("prod", None))
    assert match_profile("prod", {}, [prod, beta]).name == "beta-workload"
    assert [p.name for p in matching_profiles("prod", {}, [prod, beta])] == [
        "beta-workload",
        "prod-workload",
    ]


@pytest.mark.parametrize("status", ["CREATING", "DELETING", "CREATE_FAILED", "DELETE_FAILED", None])
def test_only_active_profiles_place_pods(status):
    p = profile("fp", ("prod", None), status=status)
    assert match_profile("prod", {}, [p]) is None
    assert match_profile("prod", {}, [p], active_only=False) is p


def test_pin_label_selects_a_later_profile():
    beta = profile("beta-workload", ("prod", None))
    prod = profile("prod-workload", ("prod", None))
    pinned = {"eks.amazonaws.com/fargate-profile": "prod-workload"}
    assert match_profile("prod", pinned, [beta, prod]) is prod


def test_pin_to_a_profile_that_does_not_match_places_nowhere():
    beta = profile("beta-workload", ("prod", None))
    other = profile("zeta", ("staging", None))
    assert match_profile("prod", {"eks.amazonaws.com/fargate-profile": "zeta"}, [beta, other]) is None


def test_profile_without_name_is_a_clear_error():
    with pytest.raises(ValueError, match="fargateProfileName"):
        profile_from_api({"status": "ACTIVE", "selectors": [{"namespace": "prod"}]})


def test_ec2_compute_type_annotation_keeps_the_pod_off_fargate():
    p = profile("coredns", ("kube-system", {"k8s-app": "kube-dns"}))
    labels = {"k8s-app": "kube-dns"}
    assert match_profile("kube-system", labels, [p], annotations={"eks.amazonaws.com/compute-type": "ec2"}) is None
    assert match_profile("kube-system", labels, [p], annotations={"eks.amazonaws.com/compute-type": "fargate"}) is p
    assert match_profile("kube-system", labels, [p]) is p
