"""Is the Kubernetes API in use the one of the EKS cluster being changed?

A kubeconfig context and the `cluster` setting are chosen independently; when they disagree, a
deploy would create Fargate profiles on one cluster and restart pods on another. The comparison is
the API server URL (normalised: scheme and host case, default port, trailing slash) and, when the
kubeconfig carries one, the certificate authority, against describe-cluster's `endpoint` and
`certificateAuthority.data`."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"https": 443, "http": 80}


def normalise_url(url: str) -> str:
    """https://ABC.example.com:443/ and https://abc.example.com are the same server."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port that is not a number: compare the text as given
        return url.strip().rstrip("/").lower()
    scheme = (parts.scheme or "https").lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = port or _DEFAULT_PORTS.get(scheme)
    return f"{scheme}://{host}:{port}{parts.path.rstrip('/')}"


def _pem_body(pem: bytes) -> bytes:
    """The certificate bytes without PEM armour and line breaks, so formatting does not matter."""
    lines = [line.strip() for line in pem.strip().splitlines()]
    return b"".join(line for line in lines if line and not line.startswith(b"-----"))


def same_ca(kube_ca: bytes | None, cluster_ca_b64: str | None) -> bool:
    """True when either side has no CA (nothing to compare) or both name the same certificate."""
    if not kube_ca or not cluster_ca_b64:
        return True
    try:
        cluster_ca = base64.b64decode(cluster_ca_b64)
    except (binascii.Error, ValueError):
        return False
    # Contained, not equal: a kubeconfig may carry a bundle that includes the cluster's CA.
    body = _pem_body(cluster_ca)
    return bool(body) and body in _pem_body(kube_ca)


def cluster_mismatch(context: str, server: str, kube_ca: bytes | None, cluster: str, endpoint: str,
                     cluster_ca_b64: str | None) -> str:
    """"" when the Kubernetes side is cluster's API server, else a sentence naming both sides and
    what to do."""
    fix = f"use --context for that cluster or aws eks update-kubeconfig --name {cluster}"
    if not endpoint:
        return ""  # no endpoint yet (cluster CREATING): nothing to compare against
    if normalise_url(server) != normalise_url(endpoint):
        return (f"kubeconfig context {context or '(current)'} points at {server}, but EKS cluster {cluster}'s "
                f"endpoint is {endpoint}; {fix}")
    if not same_ca(kube_ca, cluster_ca_b64):
        return (f"kubeconfig context {context or '(current)'} trusts a different certificate authority than EKS "
                f"cluster {cluster} (same endpoint {endpoint}); {fix}")
    return ""
