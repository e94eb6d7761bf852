"""Does an IAM trust policy let a service assume the role for a given source ARN?

EKS tries to assume the pod execution role when a Fargate profile is created and rejects the
profile if it cannot ("Misconfigured PodExecutionRole Trust Policy", DOMAIN.md §8.1). The common
mistakes are the wrong principal (``pods.eks.amazonaws.com``, which the brief itself names) and an
``aws:SourceArn`` condition naming the cluster instead of ``fargateprofile/<cluster>/*``.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any
from urllib.parse import unquote

FARGATE_PODS_PRINCIPAL = "eks-fargate-pods.amazonaws.com"


def as_list(value: Any) -> list[Any]:
    """IAM lets most fields be one value or a list of them."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _wildcard_match(pattern: str, value: str) -> bool:
    # IAM wildcards are * and ? only; a literal [ must not start a character class.
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _condition_holds(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, clauses in conditions.items():
        op = operator.removeprefix("ForAnyValue:").removeprefix("ForAllValues:")
        for key, expected in (clauses or {}).items():
            actual = context.get(key.lower())
            if actual is None:
                continue  # a key EKS does not send cannot be checked here; be permissive
            patterns = [str(p) for p in as_list(expected)]
            if op in ("StringEquals", "ArnEquals"):
                ok = actual in patterns
            elif op in ("StringLike", "ArnLike"):
                ok = any(_wildcard_match(p, actual) for p in patterns)
            elif op in ("StringNotEquals", "ArnNotEquals"):
                ok = actual not in patterns
            elif op in ("StringNotLike", "ArnNotLike"):
                ok = not any(_wildcard_match(p, actual) for p in patterns)
            else:
                continue
            if not ok:
                return False
    return True


def parse_policy(document: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    try:
        return json.loads(document)
    except json.JSONDecodeError:
        return json.loads(unquote(document))


def allows_service(document: str | dict[str, Any], service: str, context: dict[str, str]) -> bool:
    """True if an Allow statement lets ``service`` call sts:AssumeRole with this context
    (keys lower-case: ``aws:sourcearn``, ``aws:sourceaccount``)."""
    policy = parse_policy(document)
    for statement in as_list(policy.get("Statement")):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal") or {}
        services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if service not in services:
            continue
        actions = [str(a).lower() for a in as_list(statement.get("Action"))]
        if not any(a in ("sts:assumerole", "sts:*", "*") for a in actions):
            continue
        if _condition_holds(statement.get("Condition") or {}, context):
            return True
    return False
