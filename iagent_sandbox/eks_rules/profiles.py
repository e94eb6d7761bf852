"""Which Fargate profile takes a new pod (DOMAIN.md 3.5).

- A selector matches when its namespace matches and the pod carries every one of its labels; a
  profile matches when any of its selectors does.
- Namespaces, label keys and label values may use ``*`` (any run of characters, also none) and
  ``?`` (exactly one character), anywhere; nothing else is special (no regex, no ``[...]``).
- Several matching profiles: the first by name in alphanumeric order wins.
- The label ``eks.amazonaws.com/fargate-profile: <name>`` on the pod pins that profile; the pod
  must still match one of its selectors, and nothing else is tried when it does not.
- Only ACTIVE profiles take pods: selection happens once, when the pod is created.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, Iterable, Mapping

PROFILE_LABEL = "eks.amazonaws.com/fargate-profile"


def wildcard_match(pattern: str, value: str) -> bool:
    # fnmatch knows * and ?, but also [...] classes, which EKS does not: make "[" literal.
    return fnmatchcase(value, pattern.replace("[", "[[]"))


def selector_matches(selector: Mapping[str, Any], namespace: str, labels: Mapping[str, str]) -> bool:
    if not wildcard_match(str(selector.get("namespace") or ""), namespace):
        return False
    return all(any(wildcard_match(str(key_pattern), key) and wildcard_match(str(value_pattern), str(value))
                   for key, value in labels.items())
               for key_pattern, value_pattern in (selector.get("labels") or {}).items())


def profile_matches(profile: Mapping[str, Any], namespace: str, labels: Mapping[str, str]) -> bool:
    return any(selector_matches(s, namespace, labels) for s in profile.get("selectors") or ())


def match_profile(namespace: str, labels: Mapping[str, str] | None,
                  profiles: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The profile a pod created now lands on, or None (it stays with the default-scheduler)."""
    labels = labels or {}
    pinned = labels.get(PROFILE_LABEL)
    candidates = sorted((p for p in profiles
                         if p.get("status") == "ACTIVE"
                         and (pinned is None or p.get("fargateProfileName") == pinned)
                         and profile_matches(p, namespace, labels)),
                        key=lambda p: str(p.get("fargateProfileName")))
    return candidates[0] if candidates else None
