"""Kubernetes name rules, checked in one place (settings, commands and actions all ask here)."""

from __future__ import annotations

import re

# RFC 1123 label, as Kubernetes requires for namespaces: at most 63 characters, lowercase
# alphanumerics and '-', starting and ending with an alphanumeric.
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DNS1123_RULE = "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"


def is_dns1123_label(name: str) -> bool:
    return bool(_DNS1123_LABEL.fullmatch(name))


# Label keys: an optional DNS-1123 subdomain prefix and "/", then a name of at most 63 characters
# (alphanumerics, '-', '_', '.', starting and ending alphanumeric); values: the same name rule, or empty.
_LABEL_NAME = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def is_label_value(value: str) -> bool:
    return bool(_LABEL_NAME.fullmatch(value))


def is_label_key(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(prefix)):
        return False
    return bool(name) and is_label_value(name)
