"""IAM checks and changes for deploy: the pod execution role (DOMAIN.md 8.1), the IAM OIDC provider
for the cluster's issuer and the load balancer controller's IRSA role and policy (DOMAIN.md 6.1)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import ssl
from collections.abc import Iterable, Mapping
from importlib import resources

from iagent_tui.iam_policy import Principal, allows, parse_policy
from iagent_tui.insights.cluster_checks import trusted_services
from iagent_tui.services.aws_changes import FARGATE_POD_PRINCIPAL, OIDC_AUDIENCE

WRONG_POD_PRINCIPAL = "pods.eks.amazonaws.com"  # EKS Pod Identity: not what Fargate assumes
LBC_POLICY_NAME = "AWSLoadBalancerControllerIAMPolicy"
LBC_ROLE_NAME = "AmazonEKSLoadBalancerControllerRole"
LBC_NAMESPACE = "kube-system"
LBC_SERVICE_ACCOUNT = "aws-load-balancer-controller"


def _document(role: dict) -> Mapping:
    return parse_policy(role.get("AssumeRolePolicyDocument") or {})


def profile_source_arn(region: str, account: str, cluster: str, profile: str) -> str:
    """The aws:SourceArn EKS sends for a profile; its last part is an id EKS assigns at creation,
    so a profile not created yet is probed with *, which only a wildcard in the trust admits."""
    return f"arn:aws:eks:{region}:{account}:fargateprofile/{cluster}/{profile}/*"


def pod_role_trust_problem(role: dict, profile_arns: Iterable[str] = ()) -> str:
    """'' when the role trusts eks-fargate-pods.amazonaws.com with an aws:SourceArn limit and, for
    each of ``profile_arns`` (see profile_source_arn), would let EKS assume it for that profile;
    otherwise what is wrong (the plan shows it next to the fix)."""
    document = _document(role)
    services = trusted_services(document)
    if FARGATE_POD_PRINCIPAL not in services:
        return (f"trusts {WRONG_POD_PRINCIPAL} (EKS Pod Identity) instead of {FARGATE_POD_PRINCIPAL}"
                if WRONG_POD_PRINCIPAL in services else f"does not trust {FARGATE_POD_PRINCIPAL}")
    if not services[FARGATE_POD_PRINCIPAL]:
        return "trusts Fargate without the aws:SourceArn condition (confused-deputy protection)"
    for arn in profile_arns:
        decision = allows(document, principal=Principal.service(FARGATE_POD_PRINCIPAL), action="sts:AssumeRole",
                          context={"aws:SourceArn": arn, "aws:SourceAccount": arn.split(":")[4]})
        if not decision.allowed:
            return f"does not trust this cluster's Fargate profiles: {decision.reason}"
    return ""


def irsa_trust_problem(role: dict, provider_arn: str, issuer_host: str, subject: str) -> str:
    """'' when STS would let ``subject`` assume the role with a token of ``issuer_host`` (the claims
    EKS's tokens carry: sub and aud); otherwise what is wrong."""
    decision = allows(_document(role), principal=Principal.federated(provider_arn),
                      action="sts:AssumeRoleWithWebIdentity",
                      context={f"{issuer_host}:sub": subject, f"{issuer_host}:aud": OIDC_AUDIENCE})
    return "" if decision.allowed else f"does not trust {subject} through {provider_arn}: {decision.reason}"


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
