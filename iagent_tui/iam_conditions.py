"""The Condition block of an IAM policy statement, decided against a request context.

Rules from the IAM User Guide:
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
  (context key names are not case-sensitive; value case depends on the operator)
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
  ("If the key that you specify in a policy condition is not present in the request context, the
  values do not match and the condition is false. If the policy condition requires that the key is
  not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition
  is true. This logic applies to all condition operators except ...IfExists and Null check.")
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
  (ForAllValues "also returns true if there are no context keys in the request"; ForAnyValue needs
  the key present, negated operators included)
Policy variables (``${aws:username}``) are compared literally.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable


class _Any:
    """A context value the caller cannot know (e.g. the ARN of a profile not created yet)."""

    def __repr__(self) -> str:
        return "ANY"


# Existential on purpose: conditions on an ANY key hold in Allow statements and do not in Deny
# statements, so the answer is "could such a request be allowed?" — what a trust check wants when
# it does not know the exact source.
ANY = _Any()
_SET_QUALIFIERS = ("ForAnyValue:", "ForAllValues:")


def as_list(value: Any) -> list:
    """IAM lets most elements be one value or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def text(value: Any) -> str:
    # JSON true/false and numbers appear unquoted in hand-written policies; IAM compares them as text.
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


@lru_cache(maxsize=512)
def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM wildcards are * and ? only; every other character is literal.
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _wildcard_regex(pattern, ignore_case).fullmatch(value) is not None


def arn_match(pattern: str, value: str) -> bool:
    """ArnEquals/ArnLike: each of the six colon-separated parts is matched on its own, so a * in the
    region cannot swallow the account. A bare wildcard (``*``) matches as a string; any other
    pattern or value short of six parts is not an ARN and matches nothing."""
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    if len(pattern_parts) == 1:
        return wildcard_match(pattern, value)
    if len(pattern_parts) < 6 or len(value_parts) < 6:
        return False
    return all(wildcard_match(p, v) for p, v in zip(pattern_parts, value_parts))


_Matcher = Callable[[str, str], bool]
# base operator -> (does one policy value match one request value, is the operator negated)
_OPERATORS: dict[str, tuple[_Matcher, bool]] = {
    "StringEquals": (str.__eq__, False),
    "StringNotEquals": (str.__eq__, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.casefold() == v.casefold(), False),
    "StringNotEqualsIgnoreCase": (lambda p, v: p.casefold() == v.casefold(), True),
    "StringLike": (wildcard_match, False),
    "StringNotLike": (wildcard_match, True),
    "ArnEquals": (arn_match, False),  # the User Guide gives ArnEquals the same wildcards as ArnLike
    "ArnLike": (arn_match, False),
    "ArnNotEquals": (arn_match, True),
    "ArnNotLike": (arn_match, True),
    "Bool": (lambda p, v: p.lower() == v.lower(), False),
}


@dataclass(frozen=True)
class ConditionResult:
    holds: bool | None  # None: an operator this module does not evaluate (Numeric*, Date*, IpAddress...)
    reason: str = ""  # for an operator: which clause failed or was not evaluated


def _split_operator(operator: str) -> tuple[str, str, bool]:
    qualifier = next((q[:-1] for q in _SET_QUALIFIERS if operator.startswith(q)), "")
    base = operator[len(qualifier) + 1:] if qualifier else operator
    if_exists = base.endswith("IfExists") and base != "IfExists"
    return qualifier, base.removesuffix("IfExists"), if_exists


def _clause_holds(operator: str, expected: list[str], actual: Any, in_deny: bool) -> bool | None:
    qualifier, base, if_exists = _split_operator(operator)
    if actual is ANY:
        return not in_deny
    if base == "Null":
        return any((e.lower() == "true") == (actual is None) for e in expected)
    if base not in _OPERATORS:
        return None
    matches, negated = _OPERATORS[base]
    values = [text(v) for v in as_list(actual)]
    if not values:
        if if_exists or qualifier == "ForAllValues":
            return True
        return negated and qualifier != "ForAnyValue"

    def value_ok(value: str) -> bool:
        return any(matches(p, value) for p in expected) != negated

    # A negated operator without a qualifier must hold for every request value ("matches none of").
    if qualifier == "ForAllValues" or (negated and not qualifier):
        return all(map(value_ok, values))
    return any(map(value_ok, values))


def evaluate(condition: Mapping[str, Any] | None, context: Mapping[str, Any], in_deny: bool = False) -> ConditionResult:
    """Every operator and every key must hold (AND); the values listed for one key are
    alternatives (OR). ``context`` keys must already be lower-case (see ``lower_keys``)."""
    unknown = ""
    for operator, clauses in (condition or {}).items():
        for key, expected in (clauses or {}).items():
            patterns = [text(e) for e in as_list(expected)]
            actual = context.get(key.lower())
            holds = _clause_holds(operator, patterns, actual, in_deny)
            if holds is None:
                unknown = unknown or f"condition operator {operator} on {key} is not evaluated"
            elif not holds:
                clause = f"condition {key} {operator} {', '.join(patterns)}"
                seen = ", ".join(map(text, as_list(actual)))
                return ConditionResult(False, f"{clause} does not match {seen}" if seen
                                       else f"{clause} fails: {key} is not in the request")
    return ConditionResult(None, unknown) if unknown else ConditionResult(True)


def lower_keys(context: Mapping[str, Any] | None) -> dict[str, Any]:
    return {key.lower(): value for key, value in (context or {}).items()}
