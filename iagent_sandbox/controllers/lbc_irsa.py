"""Can the load balancer controller's pods get AWS credentials through IRSA (DOMAIN.md 6.1, 8.2)?

The real controller calls sts:AssumeRoleWithWebIdentity with the projected service-account token;
STS accepts when the role exists, trusts the cluster's OIDC provider (which must exist in IAM) as
``Federated`` principal, and its ``StringEquals``/``StringLike`` conditions on ``<issuer>:aud`` and
``<issuer>:sub`` hold. ``check`` returns None when they do, otherwise the error text the AWS SDK in
the controller reports, which is what ends up in its log and in the ingress's Warning event.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from ..aws.trust import as_list, parse_policy

ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
AUDIENCE = "sts.amazonaws.com"

# What aws-sdk-go-v2 (LBC v2.5+) says when no credential source works: no web identity token is
# mounted (no role-arn annotation), so it falls back to instance metadata, which Fargate lacks and
# which an EC2 node's role does not grant the controller's permissions through.
NO_CREDENTIALS = ("failed to refresh cached credentials, no EC2 IMDS role found, operation error "
                  "ec2imds: GetMetadata, request canceled, context deadline exceeded")


def _web_identity_error(message: str) -> str:
    return ("WebIdentityErr: failed to retrieve credentials\ncaused by: AccessDenied: " + message
            + "\n\tstatus code: 403")


def _conditions_hold(conditions: dict, context: dict[str, str]) -> bool:
    """Every condition key must be present and match: STS evaluates the token's claims, and a key
    the token does not carry fails a StringEquals."""
    for operator, clauses in (conditions or {}).items():
        for key, expected in (clauses or {}).items():
            actual = context.get(key)
            patterns = [str(p) for p in as_list(expected)]
            if operator == "StringEquals":
                ok = actual in patterns
            elif operator == "StringLike":
                ok = actual is not None and any(
                    fnmatch.fnmatchcase(actual, p.replace("[", "[[]")) for p in patterns)
            else:
                continue   # other operators do not appear in IRSA trust policies
            if not ok:
                return False
    return True


def trusts_web_identity(document: str | dict, provider_arn: str, issuer_host: str,
                        subject: str) -> bool:
    context = {f"{issuer_host}:aud": AUDIENCE, f"{issuer_host}:sub": subject}
    for statement in as_list(parse_policy(document).get("Statement")):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal") or {}
        if not isinstance(principal, dict) or provider_arn not in as_list(principal.get("Federated")):
            continue
        actions = [str(a).lower() for a in as_list(statement.get("Action"))]
        if not any(a in ("sts:assumerolewithwebidentity", "sts:*", "*") for a in actions):
            continue
        if _conditions_hold(statement.get("Condition") or {}, context):
            return True
    return False


def check(*, role_arn: str | None, namespace: str, service_account: str, issuer: str | None,
          account_id: str, roles_by_arn: dict[str, Any], oidc_provider_urls: set[str]) -> str | None:
    """None when the pods can assume ``role_arn``; otherwise the SDK's error text.

    ``roles_by_arn``: role ARN -> trust policy document; ``oidc_provider_urls``: the IAM OIDC
    providers' URLs without scheme (``oidc.eks.<region>.amazonaws.com/id/<ID>``)."""
    if not role_arn:
        return NO_CREDENTIALS
    issuer_host = (issuer or "").removeprefix("https://")
    provider_arn = f"arn:aws:iam::{account_id}:oidc-provider/{issuer_host}"
    if issuer_host not in oidc_provider_urls:
        # STS cannot validate a token from an issuer IAM does not know.
        return _web_identity_error(
            f"No OpenIDConnect provider found in your account for https://{issuer_host}")
    document = roles_by_arn.get(role_arn)
    subject = f"system:serviceaccount:{namespace}:{service_account}"
    if document is None or not trusts_web_identity(document, provider_arn, issuer_host, subject):
        return _web_identity_error("Not authorized to perform sts:AssumeRoleWithWebIdentity")
    return None
