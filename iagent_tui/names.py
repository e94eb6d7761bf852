"""Kubernetes name rules, checked in one place (settings, commands and actions all ask here)."""

from __future__ import annotations

import re

# RFC 1123 label, as Kubernetes requires for namespaces: at most 63 characters, lowercase
# alphanumerics and '-', starting and ending with an alphanumeric.
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DNS1123_RULE = "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"


def is_dns1123_label(name: str) -> bool:
    return bool(_DNS1123_LABEL.fullmatch(name))
