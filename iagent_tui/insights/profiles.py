"""Fargate profile selection: which profile (if any) a new pod lands on.

Sources (DOMAIN.md 3.5; EKS User Guide ``fargate-profile.adoc`` and the API's
``FargateProfileSelector``):

* a pod matches a selector iff its namespace matches AND it carries **all** the selector's labels;
  it matches a profile iff it matches **any** of the profile's selectors;
* ``*`` (none, one or many characters) and ``?`` (exactly one character) are allowed in
  namespaces, label keys and label values, in any position; there is no regex, so ``[`` and every
  other character match only themselves;
* when several profiles match, "Fargate picks up the profile based on alphanumeric sorting by
  profile name" (``beta-workload`` before ``prod-workload``);
* a pod can pin a profile with the label ``eks.amazonaws.com/fargate-profile: <name>``; it must
  still match a selector of that profile. Assumption: a pinned pod whose profile does not match is
  not placed anywhere else (the pin is an explicit choice, so nothing else is tried).

A pod annotated ``eks.amazonaws.com/compute-type: ec2`` is never given to Fargate: this is how EKS
keeps CoreDNS on EC2 by default, and removing it is the documented first step of moving CoreDNS
(DOMAIN.md 4.1). Pass the pod's annotations to honour it.

Only ACTIVE profiles place pods: matching happens in the admission webhook at pod creation, and a
profile still CREATING (or DELETING, or failed) takes no new pods. Profiles are the model's
``FargateProfile`` records (``services.aws.profile_from_api`` turns an EKS API dict into one).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Mapping

from ..model import FargateProfile, Selector

PROFILE_LABEL = "eks.amazonaws.com/fargate-profile"
COMPUTE_TYPE_ANNOTATION = "eks.amazonaws.com/compute-type"
ACTIVE = "ACTIVE"


@lru_cache(maxsize=1024)
def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.DOTALL)


def wildcard_match(pattern: str, value: str) -> bool:
    """True iff ``value`` matches ``pattern`` with ``*``/``?`` wildcards (whole string)."""
    return _wildcard_regex(pattern).fullmatch(value) is not None


def selector_matches(selector: Selector, namespace: str, labels: Mapping[str, str]) -> bool:
    """Namespace matches and every selector label (key and value patterns) is on the pod."""
    if not wildcard_match(selector.namespace, namespace):
        return False
    for key_pattern, value_pattern in selector.labels.items():
        if not any(
            wildcard_match(key_pattern, key) and wildcard_match(str(value_pattern), str(value))
            for key, value in labels.items()
        ):
            return False
    return True


def profile_matches(profile: FargateProfile, namespace: str, labels: Mapping[str, str]) -> bool:
    """Any selector of the profile matches (status is not considered here)."""
    return any(selector_matches(s, namespace, labels) for s in profile.selectors)


def matching_profiles(
    namespace: str,
    labels: Mapping[str, str] | None,
    profiles: Iterable[FargateProfile],
    *,
    active_only: bool = True,
) -> list[FargateProfile]:
    """Every profile whose selectors match, in the order Fargate would prefer them (by name)."""
    labels = labels or {}
    found = [
        p
        for p in profiles
        if (not active_only or p.status == ACTIVE) and profile_matches(p, namespace, labels)
    ]
    return sorted(found, key=lambda p: p.name)


def match_profile(
    namespace: str,
    labels: Mapping[str, str] | None,
    profiles: Iterable[FargateProfile],
    *,
    active_only: bool = True,
    annotations: Mapping[str, str] | None = None,
) -> FargateProfile | None:
    """The profile a pod created now would be scheduled with, or None (it stays with the
    default-scheduler: Pending on a Fargate-only cluster)."""
    if (annotations or {}).get(COMPUTE_TYPE_ANNOTATION) == "ec2":
        return None
    labels = labels or {}
    candidates = matching_profiles(namespace, labels, profiles, active_only=active_only)
    pinned = labels.get(PROFILE_LABEL)
    if pinned is not None:
        candidates = [p for p in candidates if p.name == pinned]
    return candidates[0] if candidates else None
