"""Input checks made before any call, so bad input changes nothing (exit code 2)."""

from __future__ import annotations

import re

from iagent_tui.names import is_dns1123_label

from .base import InvalidInput

_PROFILE_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]*$")  # EKS fargateProfileName pattern
PROFILE_NAME_MAX = 100
RESERVED_PREFIX = "kube-"


def namespace_name(name: str) -> str:
    """A namespace the operator may add to Fargate: a DNS-1123 label (what Kubernetes accepts
    for a namespace) and not one of the system's kube-* namespaces."""
    if not name:
        raise InvalidInput("The namespace name is empty.")
    if len(name) > 63:
        raise InvalidInput(f"Namespace name {name!r} is {len(name)} characters long; Kubernetes allows at most 63.")
    if not is_dns1123_label(name):
        raise InvalidInput(
            f"Namespace name {name!r} is not a valid DNS-1123 label: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (for example team-x).")
    if name.startswith(RESERVED_PREFIX):
        raise InvalidInput(f"Namespace {name!r} is reserved for Kubernetes (kube-*); "
                           "kube-system pods move with deploy's fp-kube-system profile.")
    return name


def profile_name(name: str) -> str:
    if len(name) > PROFILE_NAME_MAX or not _PROFILE_NAME.match(name):
        raise InvalidInput(
            f"Fargate profile name {name!r} breaks the EKS rule: letters, digits, '-' and '_', starting with a "
            f"letter or digit, at most {PROFILE_NAME_MAX} characters. Change fargate.profile_prefix.")
    return name
