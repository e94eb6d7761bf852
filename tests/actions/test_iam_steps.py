"""deploy's IAM trust checks (actions/iam_steps.py), now answered by iagent_tui/iam_policy.py."""

import json
from urllib.parse import quote

from actions.iam_steps import irsa_trust_problem, pod_role_trust_problem, profile_source_arn
from iagent_tui.services.aws_changes import pod_execution_trust

REGION, ACCOUNT, CLUSTER = "eu-central-1", "111122223333", "iagent-cluster"
SOURCES = [profile_source_arn(REGION, ACCOUNT, CLUSTER, name) for name in ("fp-default", "fp-kube-system")]
ISSUER = "oidc.eks.eu-central-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
SUBJECT = "system:serviceaccount:kube-system:aws-load-balancer-controller"


def role(*statements: dict) -> dict:
    return {"RoleName": "r", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)}}


def fargate(condition: dict | None = None, service="eks-fargate-pods.amazonaws.com") -> dict:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return statement | ({"Condition": condition} if condition else {})


def test_the_trust_deploy_writes_has_no_problem():
    assert pod_role_trust_problem({"AssumeRolePolicyDocument": pod_execution_trust(REGION, ACCOUNT, CLUSTER)}, SOURCES) == ""


def test_a_trust_using_AWS_SourceArn_is_accepted():
    # The old check happened to accept this spelling; the shared evaluator keeps it accepted.
    condition = {"ArnLike": {"AWS:SourceArn": f"arn:aws:eks:{REGION}:{ACCOUNT}:fargateprofile/{CLUSTER}/*"}}
    assert pod_role_trust_problem(role(fargate(condition)), SOURCES) == ""


def test_the_old_messages_for_the_wrong_principal_and_no_condition():
    assert pod_role_trust_problem(role(fargate(service="pods.eks.amazonaws.com"))) == \
        "trusts pods.eks.amazonaws.com (EKS Pod Identity) instead of eks-fargate-pods.amazonaws.com"
    assert pod_role_trust_problem(role(fargate(service="ec2.amazonaws.com"))) == "does not trust eks-fargate-pods.amazonaws.com"
    assert pod_role_trust_problem(role(fargate())) == \
        "trusts Fargate without the aws:SourceArn condition (confused-deputy protection)"


def test_a_trust_for_another_clusters_profiles_is_a_problem_for_this_cluster():
    other = f"arn:aws:eks:{REGION}:{ACCOUNT}:fargateprofile/other/*"
    problem = pod_role_trust_problem(role(fargate({"ArnLike": {"aws:SourceArn": other}})), SOURCES)
    assert problem == (f"does not trust this cluster's Fargate profiles: condition aws:SourceArn ArnLike {other} "
                       f"does not match {SOURCES[0]}")
    assert pod_role_trust_problem(role(fargate({"ArnLike": {"aws:SourceArn": other}}))) == ""  # no cluster given


def irsa(condition: dict, action="sts:AssumeRoleWithWebIdentity") -> dict:
    return role({"Effect": "Allow", "Principal": {"Federated": PROVIDER}, "Action": action, "Condition": condition})


def test_irsa_trust_as_deploy_writes_it_and_url_encoded():
    good = irsa({"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": SUBJECT}})
    assert irsa_trust_problem(good, PROVIDER, ISSUER, SUBJECT) == ""
    encoded = {"AssumeRolePolicyDocument": quote(json.dumps(good["AssumeRolePolicyDocument"]))}
    assert irsa_trust_problem(encoded, PROVIDER, ISSUER, SUBJECT) == ""


def test_irsa_trust_that_sts_accepts_but_the_old_exact_reading_refused():
    assert irsa_trust_problem(irsa({"StringLike": {f"{ISSUER}:sub": "system:serviceaccount:kube-system:*"}}),
                              PROVIDER, ISSUER, SUBJECT) == ""


def test_irsa_trust_problems_name_the_failing_part():
    wrong_sub = irsa({"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:default:other"}})
    problem = irsa_trust_problem(wrong_sub, PROVIDER, ISSUER, SUBJECT)
    assert problem.startswith(f"does not trust {SUBJECT} through {PROVIDER}: condition {ISSUER}:sub StringEquals")
    wrong_action = irsa({"StringEquals": {f"{ISSUER}:sub": SUBJECT}}, action="sts:AssumeRole")
    assert "only sts:AssumeRole, not sts:AssumeRoleWithWebIdentity" in irsa_trust_problem(wrong_action, PROVIDER, ISSUER, SUBJECT)
