"""IAM checks and changes for deploy: the pod execution role (DOMAIN.md 8.1), the IAM OIDC provider
for the cluster's issuer and the load balancer controller's IRSA role and policy (DOMAIN.md 6.1)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import ssl
from importlib import resources

from iagent_tui.services.aws_changes import FARGATE_POD_PRINCIPAL

WRONG_POD_PRINCIPAL = "pods.eks.amazonaws.com"  # EKS Pod Identity: not what Fargate assumes
LBC_POLICY_NAME = "AWSLoadBalancerControllerIAMPolicy"
LBC_ROLE_NAME = "AmazonEKSLoadBalancerControllerRole"
LBC_NAMESPACE = "kube-system"
LBC_SERVICE_ACCOUNT = "aws-load-balancer-controller"


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _document(role: dict) -> dict:
    doc = role.get("AssumeRolePolicyDocument") or {}
    return json.loads(doc) if isinstance(doc, str) else doc


def pod_role_trust_problem(role: dict) -> str:
    """'' when the role trusts eks-fargate-pods.amazonaws.com with an aws:SourceArn condition;
    otherwise what is wrong (the plan shows it next to the fix)."""
    trusts, conditioned, wrong = False, False, False
    for statement in _as_list(_document(role).get("Statement")):
        if statement.get("Effect") != "Allow":
            continue
        services = _as_list((statement.get("Principal") or {}).get("Service"))
        if WRONG_POD_PRINCIPAL in services:
            wrong = True
        if FARGATE_POD_PRINCIPAL in services:
            trusts = True
            conditions = statement.get("Condition") or {}
            conditioned = conditioned or any("aws:SourceArn" in (clause or {}) or "aws:sourcearn" in
                                             {k.lower() for k in (clause or {})} for clause in conditions.values())
    if not trusts:
        return (f"trusts {WRONG_POD_PRINCIPAL} (EKS Pod Identity) instead of {FARGATE_POD_PRINCIPAL}" if wrong
                else f"does not trust {FARGATE_POD_PRINCIPAL}")
    if not conditioned:
        return "trusts Fargate without the aws:SourceArn condition (confused-deputy protection)"
    return ""


def irsa_trust_problem(role: dict, provider_arn: str, issuer_host: str, subject: str) -> str:
    for statement in _as_list(_document(role).get("Statement")):
        if statement.get("Effect") != "Allow":
            continue
        if provider_arn not in _as_list((statement.get("Principal") or {}).get("Federated")):
            continue
        equals = (statement.get("Condition") or {}).get("StringEquals") or {}
        if equals.get(f"{issuer_host}:sub") == subject and equals.get(f"{issuer_host}:aud") == "sts.amazonaws.com":
            return ""
    return f"does not trust {subject} through {provider_arn}"


def lbc_policy_document() -> dict:
    """The controller's IAM policy (a subset of upstream's iam_policy.json) shipped in manifests/."""
    return json.loads(resources.files("manifests").joinpath("lbc-iam-policy.json").read_text())


def _root_thumbprint(host: str, timeout: float) -> str:
    context = ssl.create_default_context()
    with socket.create_connection((host, 443), timeout=timeout) as sock:
        with context.wrap_socket(sock, server_hostname=host) as tls:
            chain = tls._sslobj.get_verified_chain()  # noqa: SLF001 - public from Python 3.13
            root = chain[-1].public_bytes(ssl._ssl.ENCODING_DER) if chain else tls.getpeercert(True)  # noqa: SLF001
    return hashlib.sha1(root).hexdigest()


async def issuer_thumbprint(issuer_url: str, timeout: float = 5.0) -> str:
    """SHA-1 of the issuer's root CA certificate, as eksctl computes it; '' when the issuer cannot be
    reached — IAM then validates EKS issuers against its own trusted CAs (the thumbprint is
    optional in CreateOpenIDConnectProvider)."""
    host = issuer_url.removeprefix("https://").split("/", 1)[0]
    try:
        return await asyncio.wait_for(asyncio.to_thread(_root_thumbprint, host, timeout), timeout + 1)
    except (OSError, ssl.SSLError, asyncio.TimeoutError, AttributeError, IndexError, ValueError):
        return ""
