"""The product's IAM policy evaluator (iagent_tui/iam_policy.py) against DOMAIN.md's two trust
policies (8.1 pod execution role, 6.1 IRSA) and the ways real roles get them wrong."""

import ast
import json
from pathlib import Path
from urllib.parse import quote

import pytest

from iagent_tui.iam_policy import ANY, Principal, allows, named_principals, parse_policy, statements

# DOMAIN.md 8.1, verbatim.
POD_EXECUTION_TRUST = json.loads("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
 "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:eks:region-code:111122223333:fargateprofile/my-cluster/*"}},
 "Principal":{"Service":"eks-fargate-pods.amazonaws.com"},
 "Action":"sts:AssumeRole"}]}""")
# DOMAIN.md 6.1, verbatim.
IRSA_TRUST = json.loads("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
 "Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.region-code.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"},
 "Action":"sts:AssumeRoleWithWebIdentity",
 "Condition":{"StringEquals":{
   "oidc.eks.region-code.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:aud":"sts.amazonaws.com",
   "oidc.eks.region-code.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub":"system:serviceaccount:kube-system:aws-load-balancer-controller"}}}]}""")

FARGATE = Principal.service("eks-fargate-pods.amazonaws.com")
POD_IDENTITY = Principal.service("pods.eks.amazonaws.com")
PROFILE_ARN = "arn:aws:eks:region-code:111122223333:fargateprofile/my-cluster/fp-default/4ac6a1d2-0000-1111-2222-333344445555"
OTHER_CLUSTER_PROFILE_ARN = "arn:aws:eks:region-code:111122223333:fargateprofile/other/fp-default/4ac6a1d2-0000-1111-2222-333344445555"
ISSUER = "oidc.eks.region-code.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
PROVIDER = Principal.federated(f"arn:aws:iam::111122223333:oidc-provider/{ISSUER}")
LBC_SUBJECT = "system:serviceaccount:kube-system:aws-load-balancer-controller"


def trust(*statements_: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements_)}


def allow_fargate(condition: dict | None = None, action="sts:AssumeRole", effect="Allow") -> dict:
    statement = {"Effect": effect, "Principal": {"Service": "eks-fargate-pods.amazonaws.com"}, "Action": action}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def assume(policy, principal=FARGATE, action="sts:AssumeRole", **context):
    return allows(policy, principal=principal, action=action, context=context)


# -- DOMAIN.md's pod execution role trust ----------------------------------------------------------
def test_documented_pod_execution_trust_allows_the_clusters_profiles():
    decision = assume(POD_EXECUTION_TRUST, **{"aws:SourceArn": PROFILE_ARN})
    assert decision.allowed and bool(decision) and not decision.explicit_deny


def test_documented_pod_execution_trust_refuses_another_clusters_profile_and_says_why():
    decision = assume(POD_EXECUTION_TRUST, **{"aws:SourceArn": OTHER_CLUSTER_PROFILE_ARN})
    assert not decision.allowed
    assert decision.reason == ("condition aws:SourceArn ArnLike arn:aws:eks:region-code:111122223333:fargateprofile/my-cluster/* "
                               f"does not match {OTHER_CLUSTER_PROFILE_ARN}")


def test_the_briefs_principal_is_not_the_fargate_principal():
    wrong = trust({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"})
    decision = assume(wrong)
    assert not decision.allowed
    assert decision.reason == "trusts pods.eks.amazonaws.com, not eks-fargate-pods.amazonaws.com"
    assert not assume(POD_EXECUTION_TRUST, principal=POD_IDENTITY, **{"aws:SourceArn": PROFILE_ARN}).allowed


@pytest.mark.parametrize("key", ["aws:SourceArn", "AWS:SourceArn", "aws:sourcearn", "AWS:SOURCEARN"])
def test_condition_keys_are_case_insensitive_in_the_policy_and_the_context(key):
    policy = trust(allow_fargate({"ArnLike": {key: "arn:aws:eks:*:111122223333:fargateprofile/my-cluster/*"}}))
    assert assume(policy, **{"aws:SourceArn": PROFILE_ARN}).allowed
    assert assume(policy, **{"Aws:SOURCEarn": PROFILE_ARN}).allowed
    assert not assume(policy, **{"aws:SourceArn": OTHER_CLUSTER_PROFILE_ARN}).allowed


def test_condition_values_stay_case_sensitive():
    policy = trust(allow_fargate({"StringEquals": {"aws:SourceAccount": "abc"}}))
    assert assume(policy, **{"aws:SourceAccount": "abc"}).allowed
    assert not assume(policy, **{"aws:SourceAccount": "ABC"}).allowed
    ignore_case = trust(allow_fargate({"StringEqualsIgnoreCase": {"aws:SourceAccount": "abc"}}))
    assert assume(ignore_case, **{"aws:SourceAccount": "ABC"}).allowed


def test_a_missing_key_fails_a_positive_operator():
    decision = assume(POD_EXECUTION_TRUST)
    assert not decision.allowed and "aws:SourceArn is not in the request" in decision.reason


# -- DOMAIN.md's IRSA trust --------------------------------------------------------------------------
def irsa_context(subject=LBC_SUBJECT, audience="sts.amazonaws.com") -> dict:
    return {f"{ISSUER}:sub": subject, f"{ISSUER}:aud": audience}


def test_documented_irsa_trust_allows_the_controllers_service_account():
    assert allows(IRSA_TRUST, principal=PROVIDER, action="sts:AssumeRoleWithWebIdentity", context=irsa_context()).allowed


@pytest.mark.parametrize("context", [irsa_context(subject="system:serviceaccount:default:other"),
                                     irsa_context(audience="other"),
                                     {f"{ISSUER}:sub": LBC_SUBJECT}])
def test_irsa_trust_refuses_other_subjects_audiences_and_missing_claims(context):
    assert not allows(IRSA_TRUST, principal=PROVIDER, action="sts:AssumeRoleWithWebIdentity", context=context).allowed


def test_irsa_trust_refuses_another_provider_and_plain_assume_role():
    other = Principal.federated("arn:aws:iam::111122223333:oidc-provider/oidc.eks.region-code.amazonaws.com/id/OTHER")
    decision = allows(IRSA_TRUST, principal=other, action="sts:AssumeRoleWithWebIdentity", context=irsa_context())
    assert not decision.allowed and decision.reason.startswith(f"trusts {PROVIDER.id}, not ")
    decision = allows(IRSA_TRUST, principal=PROVIDER, action="sts:AssumeRole", context=irsa_context())
    assert decision.reason == f"allows {PROVIDER.id} only sts:AssumeRoleWithWebIdentity, not sts:AssumeRole"


# -- Effect, actions, principals ----------------------------------------------------------------------
def test_explicit_deny_overrides_allow():
    policy = trust(allow_fargate(), {"Sid": "NoFargate", **allow_fargate(effect="Deny", action="sts:*")})
    decision = assume(policy)
    assert not decision.allowed and decision.explicit_deny and "NoFargate" in decision.reason


def test_a_deny_whose_condition_fails_does_not_apply():
    policy = trust(allow_fargate(), allow_fargate({"StringNotEquals": {"aws:SourceAccount": "111122223333"}}, effect="Deny"))
    assert assume(policy, **{"aws:SourceAccount": "111122223333"}).allowed
    assert assume(policy, **{"aws:SourceAccount": "999999999999"}).explicit_deny


@pytest.mark.parametrize("action", ["sts:AssumeRole", "sts:*", "*", "STS:assumerole", "sts:Assume*", "sts:AssumeRol?"])
def test_action_wildcards_and_case(action):
    assert assume(trust(allow_fargate(action=action))).allowed


def test_action_patterns_do_not_over_match():
    assert not assume(trust(allow_fargate(action="sts:AssumeRoleWith*"))).allowed
    assert not assume(trust(allow_fargate(action=["sts:TagSession", "sts:AssumeRole?"]))).allowed


def test_not_action_is_everything_but_the_list():
    assert assume(trust({"Effect": "Allow", "Principal": {"Service": FARGATE.id}, "NotAction": "iam:*"})).allowed
    assert not assume(trust({"Effect": "Allow", "Principal": {"Service": FARGATE.id}, "NotAction": "sts:*"})).allowed


def test_not_principal_never_grants_but_a_deny_with_it_applies_to_the_others():
    allow_not = trust({"Effect": "Allow", "NotPrincipal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
    assert not assume(allow_not).allowed
    deny_others = trust(allow_fargate(), {"Effect": "Deny", "NotPrincipal": {"Service": FARGATE.id}, "Action": "*"})
    assert assume(deny_others).allowed
    assert assume(deny_others, principal=POD_IDENTITY).explicit_deny


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}])
def test_star_principal_trusts_everyone(principal):
    policy = trust({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})
    assert assume(policy).allowed and assume(policy, principal=Principal.aws("arn:aws:iam::1:role/x")).allowed


def test_an_account_principal_stands_for_its_roles():
    policy = trust({"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]}, "Action": "sts:AssumeRole"})
    assert assume(policy, principal=Principal.aws("arn:aws:iam::111122223333:role/admin")).allowed
    assert not assume(policy, principal=Principal.aws("arn:aws:iam::444455556666:role/admin")).allowed
    assert not assume(policy).allowed


def test_principals_may_be_a_list_and_are_enumerable():
    policy = trust({"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", FARGATE.id]}, "Action": ["sts:AssumeRole"]})
    assert assume(policy).allowed
    assert named_principals(policy, "Service") == ["ec2.amazonaws.com", FARGATE.id]
    assert named_principals(policy, "Service", action="sts:AssumeRoleWithWebIdentity") == []


# -- Condition operators -------------------------------------------------------------------------------
ARN_PATTERN = "arn:aws:eks:*:111122223333:fargateprofile/my-cluster/*"


@pytest.mark.parametrize("operator, value, allowed", [
    ("ArnLike", PROFILE_ARN, True),
    ("ArnEquals", PROFILE_ARN, True),  # ArnEquals takes the same wildcards
    ("ArnLike", OTHER_CLUSTER_PROFILE_ARN, False),
    ("ArnNotLike", OTHER_CLUSTER_PROFILE_ARN, True),
    ("ArnNotEquals", PROFILE_ARN, False),
    ("StringLike", PROFILE_ARN, True),
    ("StringNotLike", PROFILE_ARN, False),
])
def test_arn_and_string_wildcards(operator, value, allowed):
    assert assume(trust(allow_fargate({operator: {"aws:SourceArn": ARN_PATTERN}})), **{"aws:SourceArn": value}).allowed is allowed


def test_arn_wildcards_stay_inside_their_part():
    # the * for the region must not swallow the account
    policy = trust(allow_fargate({"ArnLike": {"aws:SourceArn": "arn:aws:eks:*:fargateprofile/my-cluster/*"}}))
    assert not assume(policy, **{"aws:SourceArn": PROFILE_ARN}).allowed
    question = trust(allow_fargate({"ArnLike": {"aws:SourceArn": "arn:aws:eks:region-cod?:111122223333:fargateprofile/my-cluster/*"}}))
    assert assume(question, **{"aws:SourceArn": PROFILE_ARN}).allowed


def test_several_values_are_or_and_several_keys_and_operators_are_and():
    policy = trust(allow_fargate({
        "ArnLike": {"aws:SourceArn": ["arn:aws:eks:*:*:fargateprofile/a/*", ARN_PATTERN]},
        "StringEquals": {"aws:SourceAccount": "111122223333"},
    }))
    assert assume(policy, **{"aws:SourceArn": PROFILE_ARN, "aws:SourceAccount": "111122223333"}).allowed
    assert not assume(policy, **{"aws:SourceArn": PROFILE_ARN, "aws:SourceAccount": "999"}).allowed
    assert not assume(policy, **{"aws:SourceArn": PROFILE_ARN}).allowed


def test_negated_operators_hold_when_the_key_is_missing():
    assert assume(trust(allow_fargate({"StringNotEquals": {"aws:SourceAccount": "999"}}))).allowed
    assert assume(trust(allow_fargate({"ArnNotLike": {"aws:SourceArn": ARN_PATTERN}}))).allowed


def test_if_exists_holds_when_missing_and_checks_when_present():
    policy = trust(allow_fargate({"ArnLikeIfExists": {"aws:SourceArn": ARN_PATTERN}}))
    assert assume(policy).allowed
    assert assume(policy, **{"aws:SourceArn": PROFILE_ARN}).allowed
    assert not assume(policy, **{"aws:SourceArn": OTHER_CLUSTER_PROFILE_ARN}).allowed


def test_for_any_value_and_for_all_values():
    any_tag = trust(allow_fargate({"ForAnyValue:StringLike": {"aws:TagKeys": ["team*", "owner"]}}))
    assert assume(any_tag, **{"aws:TagKeys": ["cost", "team-a"]}).allowed
    assert not assume(any_tag, **{"aws:TagKeys": ["cost"]}).allowed
    assert not assume(any_tag).allowed  # ForAnyValue needs the key
    all_tags = trust(allow_fargate({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "owner"]}}))
    assert assume(all_tags, **{"aws:TagKeys": ["team", "owner"]}).allowed
    assert not assume(all_tags, **{"aws:TagKeys": ["team", "cost"]}).allowed
    assert assume(all_tags).allowed  # ForAllValues holds on a missing key (the documented trap)
    any_not = trust(allow_fargate({"ForAnyValue:StringNotEquals": {"aws:TagKeys": "team"}}))
    assert not assume(any_not).allowed and assume(any_not, **{"aws:TagKeys": ["team", "x"]}).allowed


def test_bool_and_null():
    secure = trust(allow_fargate({"Bool": {"aws:SecureTransport": "true"}}))
    assert assume(secure, **{"aws:SecureTransport": True}).allowed
    assert not assume(secure, **{"aws:SecureTransport": "false"}).allowed
    assert not assume(secure).allowed
    absent = trust(allow_fargate({"Null": {"aws:SourceArn": "true"}}))
    assert assume(absent).allowed and not assume(absent, **{"aws:SourceArn": PROFILE_ARN}).allowed
    present = trust(allow_fargate({"Null": {"aws:SourceArn": False}}))
    assert assume(present, **{"aws:SourceArn": PROFILE_ARN}).allowed and not assume(present).allowed


def test_unknown_operators_never_grant_and_always_deny():
    numeric = {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}
    decision = assume(trust(allow_fargate(numeric)))
    assert not decision.allowed and "NumericLessThan" in decision.reason
    assert assume(trust(allow_fargate(), allow_fargate(numeric, effect="Deny"))).explicit_deny


def test_any_is_existential_allow_conditions_hold_deny_conditions_do_not():
    policy = trust(allow_fargate({"ArnLike": {"aws:SourceArn": ARN_PATTERN}}),
                   allow_fargate({"StringNotEquals": {"aws:SourceAccount": "111122223333"}}, effect="Deny"))
    assert assume(policy, **{"aws:SourceArn": ANY, "aws:SourceAccount": ANY}).allowed
    assert not assume(policy, **{"aws:SourceArn": OTHER_CLUSTER_PROFILE_ARN, "aws:SourceAccount": ANY}).allowed


# -- Document shapes -------------------------------------------------------------------------------------
def test_a_policy_as_json_text_or_url_encoded_json():
    text = json.dumps(POD_EXECUTION_TRUST)
    for document in (text, quote(text)):
        assert assume(document, **{"aws:SourceArn": PROFILE_ARN}).allowed
    assert parse_policy(quote(text)) == POD_EXECUTION_TRUST


def test_a_single_statement_object_and_single_values():
    policy = {"Statement": {"Effect": "Allow", "Principal": {"Service": FARGATE.id}, "Action": "sts:AssumeRole"}}
    (statement,) = statements(policy)
    assert statement.principal == {"Service": (FARGATE.id,)} and statement.action == ("sts:AssumeRole",)
    assert assume(policy).allowed


@pytest.mark.parametrize("document", ["not json", "[1, 2]", quote("{broken")])
def test_unreadable_documents_raise_value_error(document):
    with pytest.raises(ValueError):
        parse_policy(document)


def test_identity_policy_actions_and_resources():
    policy = {"Statement": [
        {"Effect": "Allow", "Action": "elasticloadbalancing:Describe*", "Resource": "*"},
        {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "arn:aws:ec2:*:*:security-group/*"},
        {"Effect": "Deny", "Action": "ec2:*", "NotResource": "arn:aws:ec2:*:*:security-group/*"},
    ]}
    assert allows(policy, action="ElasticLoadBalancing:DescribeTargetHealth").allowed
    assert allows(policy, action="ec2:CreateTags", resource="arn:aws:ec2:eu-central-1:1:security-group/sg-1").allowed
    assert not allows(policy, action="ec2:CreateTags", resource="arn:aws:ec2:eu-central-1:1:subnet/subnet-1").allowed
    assert not allows(policy, action="iam:CreateRole").allowed


def test_the_evaluator_is_pure():
    root = Path(__file__).resolve().parents[1] / "iagent_tui"
    for name in ("iam_policy.py", "iam_conditions.py"):
        tree = ast.parse((root / name).read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and not node.level}
        assert imported <= {"__future__", "json", "re", "collections", "dataclasses", "functools", "typing", "urllib"}, name
