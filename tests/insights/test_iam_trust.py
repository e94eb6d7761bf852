"""FG021/FG022 now read trust policies through iagent_tui/iam_policy.py: the cases the old
hand-written parsing got wrong."""

import json
from urllib.parse import quote

from iagent_tui.insights.cluster_checks import check_pod_execution_roles, trusted_services

FARGATE = "eks-fargate-pods.amazonaws.com"
OWN_PROFILES = "arn:aws:eks:eu-central-1:111122223333:fargateprofile/iagent-cluster/*"


def role(*statements: dict) -> dict:
    return {"RoleName": "AmazonEKSFargatePodExecutionRole",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)}}


def allow(condition: dict | None = None, action="sts:AssumeRole", service=FARGATE, effect="Allow") -> dict:
    statement = {"Effect": effect, "Principal": {"Service": service}, "Action": action}
    return statement | ({"Condition": condition} if condition else {})


def codes(roles) -> list[str]:
    return [f.code for f in check_pod_execution_roles(roles)]


def test_a_trust_limited_by_a_mixed_case_source_arn_key_is_accepted():
    # Old bug: only the exact spelling aws:SourceArn counted, so AWS:SourceArn drew a false FG022.
    for key in ("AWS:SourceArn", "aws:sourcearn"):
        assert codes([role(allow({"ArnLike": {key: OWN_PROFILES}}))]) == []


def test_a_source_arn_condition_that_admits_any_account_does_not_count():
    assert codes([role(allow({"ArnLike": {"aws:SourceArn": "*"}}))]) == ["FG022"]
    assert codes([role(allow({"ArnLike": {"aws:SourceArn": "arn:aws:eks:*:*:fargateprofile/*"}}))]) == ["FG022"]


def test_source_arn_in_a_deny_also_limits_the_trust():
    deny_others = allow({"ArnNotLike": {"aws:SourceArn": OWN_PROFILES}}, action="sts:*", effect="Deny")
    assert codes([role(allow(), deny_others)]) == []


def test_an_explicit_deny_of_the_fargate_principal_is_not_trust():
    assert codes([role(allow({"ArnLike": {"aws:SourceArn": OWN_PROFILES}}), allow(effect="Deny"))]) == ["FG021"]


def test_action_wildcards_and_case_count_as_assume_role():
    for action in ("sts:Assume*", "STS:AssumeRole", ["sts:TagSession", "sts:AssumeRole"]):
        assert trusted_services(role(allow({"ArnLike": {"aws:SourceArn": OWN_PROFILES}}, action=action))["AssumeRolePolicyDocument"]) == {FARGATE: True}
    assert trusted_services(role(allow(action="sts:AssumeRoleWithWebIdentity"))["AssumeRolePolicyDocument"]) == {}


def test_the_briefs_principal_still_reports_pod_identity_from_url_encoded_json():
    document = quote(json.dumps({"Statement": [allow(service="pods.eks.amazonaws.com")]}))
    (finding,) = check_pod_execution_roles([{"RoleName": "r", "AssumeRolePolicyDocument": document}])
    assert finding.code == "FG021" and "pods.eks.amazonaws.com" in finding.message


def test_a_trust_limited_to_another_clusters_profiles_blocks_this_clusters_profiles():
    from iagent_tui.insights.compatibility import check_workloads
    from iagent_tui.model import FargateProfile, Selector
    role_arn = "arn:aws:iam::123456789012:role/AmazonEKSFargatePodExecutionRole"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "eks-fargate-pods.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:eks:eu-central-1:123456789012:fargateprofile/other-cluster/*"}}}]}
    role = {"RoleName": "AmazonEKSFargatePodExecutionRole", "Arn": role_arn, "AssumeRolePolicyDocument": trust}
    mine = FargateProfile("fp-prod", "ACTIVE", (Selector("prod"),), ("subnet-1",), role_arn, None,
                          arn="arn:aws:eks:eu-central-1:123456789012:fargateprofile/iagent-cluster/fp-prod/1a2b")
    (found,) = [f for f in check_workloads([], profiles=[mine], pod_execution_roles=[role]) if f.code == "FG021"]
    assert found.object == "IAMRole/AmazonEKSFargatePodExecutionRole" and "fp-prod" in found.evidence[0]
    assert "other-cluster" in found.evidence[0]  # the evaluator's reason names the condition that fails
    same_cluster = {**trust, "Statement": [{**trust["Statement"][0], "Condition": {"ArnLike": {
        "aws:SourceArn": "arn:aws:eks:eu-central-1:123456789012:fargateprofile/iagent-cluster/*"}}}]}
    assert [f.code for f in check_workloads([], profiles=[mine], pod_execution_roles=[
        {**role, "AssumeRolePolicyDocument": same_cluster}])] == []
