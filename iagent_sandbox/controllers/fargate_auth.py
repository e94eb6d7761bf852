"""Can Fargate launch pods for a profile? EKS checks the profile's pod execution role when it
launches each pod: the role must exist, trust ``eks-fargate-pods.amazonaws.com`` for this profile's
ARN, and carry the ECR pull permissions of AmazonEKSFargatePodExecutionRolePolicy (DOMAIN.md 8.1).
A role broken after the profile was created (trust edited, policy detached, role deleted) blocks
new launches with the event text of DOMAIN.md 3.8; running pods are not affected.
"""

from __future__ import annotations

import contextlib
import json

from ..aws.trust import FARGATE_PODS_PRINCIPAL, allows_service

EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"
ECR_ACTIONS = ("ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
               "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")


def blocked_message(profile_name: str) -> str:
    return (f"Misconfigured Fargate Profile: fargate profile {profile_name} blocked for new launches due "
            "to: Pod execution role is not found in auth config or does not have all required "
            "permissions for launching fargate pods.")


def _inline_allows_ecr(role) -> bool:
    """An inline policy granting the four ECR actions (on "*") stands in for the managed one."""
    granted: set[str] = set()
    for document in (getattr(role, "policies", None) or {}).values():
        policy = json.loads(document) if isinstance(document, str) else document
        statements = policy.get("Statement") or []
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement.get("Effect") != "Allow":
                continue
            actions = statement.get("Action") or []
            granted.update(a.lower() for a in (actions if isinstance(actions, list) else [actions]))
    return "*" in granted or "ecr:*" in granted or all(a.lower() in granted for a in ECR_ACTIONS)


def execution_role_ok(world, profile: dict) -> bool:
    arn = profile.get("podExecutionRoleArn") or ""
    role_name = arn.rsplit("/", 1)[-1]
    lock = getattr(world.aws, "lock", None) or contextlib.nullcontext()
    try:
        with lock:
            role = world.aws.backend("iam").get_role(role_name)
            trust = role.assume_role_policy_document
            managed = set(getattr(role, "managed_policies", {}) or {})
            inline_ok = _inline_allows_ecr(role)
    except Exception:  # noqa: BLE001 - moto raises NoSuchEntity for a deleted role
        return False
    context = {"aws:sourcearn": profile.get("fargateProfileArn", ""),
               "aws:sourceaccount": getattr(world.aws, "account_id", "")}
    if not allows_service(trust, FARGATE_PODS_PRINCIPAL, context):
        return False
    return EXECUTION_POLICY_ARN in managed or inline_ok
