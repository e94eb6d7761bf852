"""The product's one reading of IAM policy documents: trust policies of the pod execution role
(DOMAIN.md 8.1) and of IRSA roles (6.1, 8.2), and permission policies.

Pure: no I/O and no AWS clients, so insights and actions share it. The sandbox keeps its own
evaluator (sandbox/aws/trust.py) on purpose: it is the oracle the product is tested against.

What is evaluated, and where it stays on the safe side:
- Explicit Deny wins over Allow; nothing allowed means an implicit deny.
- Action/NotAction match with * and ? and ignore case (IAM actions are case-insensitive).
- NotAction and NotResource are evaluated as AWS defines them (everything except the list).
- NotPrincipal: a Deny applies to every principal it does not name; an Allow with NotPrincipal is
  never counted as granting (AWS advises against it and its meaning for role sessions depends on
  ARNs we don't see), so a check reports "not trusted" rather than a false "trusted".
- A condition operator this module does not know (Numeric*, Date*, IpAddress, Binary) makes an
  Allow statement not grant and a Deny statement apply: again "not allowed" rather than a wrong yes.
- Condition semantics and missing keys: see iam_conditions.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .iam_conditions import ANY, arn_match, as_list, evaluate, lower_keys, text, wildcard_match

__all__ = ["ANY", "Decision", "Principal", "Statement", "allows", "named_principals", "parse_policy", "statements"]


@dataclass(frozen=True)
class Principal:
    kind: str  # the key under "Principal": Service, Federated, AWS or CanonicalUser
    id: str

    @classmethod
    def service(cls, name: str) -> Principal:
        return cls("Service", name)

    @classmethod
    def federated(cls, arn: str) -> Principal:
        return cls("Federated", arn)

    @classmethod
    def aws(cls, arn_or_account: str) -> Principal:
        return cls("AWS", arn_or_account)

    def __str__(self) -> str:
        return self.id


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    principal: Mapping[str, tuple[str, ...]] | None  # None: no Principal element (identity policy)
    not_principal: Mapping[str, tuple[str, ...]] | None
    action: tuple[str, ...] | None
    not_action: tuple[str, ...] | None
    resource: tuple[str, ...] | None
    not_resource: tuple[str, ...] | None
    condition: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # a sentence fragment for an operator: "trusts X, not Y", "condition ... does not match ..."
    explicit_deny: bool = False

    def __bool__(self) -> bool:
        return self.allowed


def parse_policy(document: str | Mapping[str, Any]) -> Mapping[str, Any]:
    """A policy as a dict. botocore (and so aiobotocore) decodes IAM's policy documents
    (handlers.json_decode_policies), but IAM's raw API returns them URL-encoded JSON and tests or
    files may hold plain JSON text, so all three are accepted."""
    if isinstance(document, Mapping):
        return document
    try:
        try:
            parsed = json.loads(document)
        except ValueError:
            parsed = json.loads(unquote(document))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"policy is not a JSON document: {exc}") from None
    if not isinstance(parsed, Mapping):
        raise ValueError(f"policy is not a JSON object: {document!r:.80}")
    return parsed


def _principal_map(value: Any) -> Mapping[str, tuple[str, ...]] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):  # "Principal": "*" is the same as {"AWS": "*"}
        return {"AWS": tuple(text(v) for v in as_list(value))}
    return {kind: tuple(text(v) for v in as_list(ids)) for kind, ids in value.items()}


def _strings(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(text(v) for v in as_list(value))


def statements(policy: str | Mapping[str, Any]) -> tuple[Statement, ...]:
    return tuple(
        Statement(
            sid=text(raw.get("Sid") or ""),
            effect=text(raw.get("Effect") or ""),
            principal=_principal_map(raw.get("Principal")),
            not_principal=_principal_map(raw.get("NotPrincipal")),
            action=_strings(raw.get("Action")),
            not_action=_strings(raw.get("NotAction")),
            resource=_strings(raw.get("Resource")),
            not_resource=_strings(raw.get("NotResource")),
            condition=raw.get("Condition") or {},
        )
        for raw in as_list(parse_policy(policy).get("Statement"))
        if isinstance(raw, Mapping)
    )


def _account_of(arn_or_account: str) -> str:
    parts = arn_or_account.split(":")
    return parts[4] if len(parts) >= 6 else arn_or_account


def _names(ids: Mapping[str, tuple[str, ...]], principal: Principal) -> bool:
    if "*" in ids.get("AWS", ()):
        return True
    for named in ids.get(principal.kind, ()):
        if named in ("*", principal.id):
            return True
        # An account (or its :root ARN) stands for every principal of that account.
        account_wide = named.isdigit() or named.endswith(":root")
        if principal.kind == "AWS" and account_wide and _account_of(named) == _account_of(principal.id):
            return True
    return False


def _principal_applies(statement: Statement, principal: Principal | None) -> bool:
    if principal is None:
        return True
    if statement.not_principal is not None:
        return statement.effect == "Deny" and not _names(statement.not_principal, principal)
    return statement.principal is None or _names(statement.principal, principal)


def _action_applies(statement: Statement, action: str) -> bool:
    if statement.not_action is not None:
        return not any(wildcard_match(p, action, ignore_case=True) for p in statement.not_action)
    return any(wildcard_match(p, action, ignore_case=True) for p in statement.action or ())


def _resource_applies(statement: Statement, resource: str | None) -> bool:
    if resource is None:  # trust policies have no Resource; callers checking one pass it
        return True
    if statement.not_resource is not None:
        return not any(arn_match(p, resource) for p in statement.not_resource)
    return any(arn_match(p, resource) for p in statement.resource or ("*",))


def named_principals(policy: str | Mapping[str, Any], kind: str, action: str | None = None) -> list[str]:
    """The principals of one kind that Allow statements name (for ``action``, when given), in order."""
    found: dict[str, None] = {}
    for statement in statements(policy):
        if statement.effect != "Allow" or statement.principal is None:
            continue
        if action is None or _action_applies(statement, action):
            found.update(dict.fromkeys(statement.principal.get(kind, ())))
    return list(found)


def _refusal(found: list[Statement], conditions: list[str], principal: Principal | None, action: str,
             policy: str | Mapping[str, Any]) -> str:
    if conditions:
        return "; ".join(dict.fromkeys(conditions))
    if principal is None:
        return f"no statement allows {action}"
    if found:
        actions = sorted({a for s in found for a in s.action or ()}) or ["(NotAction only)"]
        return f"allows {principal} only {', '.join(actions)}, not {action}"
    others = [p for p in named_principals(policy, principal.kind, action) if p != principal.id]
    if others:
        return f"trusts {', '.join(others)}, not {principal}"
    return f"does not trust {principal} for {action}"


def allows(policy: str | Mapping[str, Any], *, action: str, principal: Principal | None = None,
           context: Mapping[str, Any] | None = None, resource: str | None = None) -> Decision:
    """May ``principal`` call ``action`` (on ``resource``) with this request ``context``?

    ``context`` maps condition keys (any case) to a string, a list of strings (multivalued keys),
    a bool, or ``ANY`` for a value the caller cannot know. Keys not given are absent from the
    request, as IAM treats them. ``principal=None`` evaluates an identity policy."""
    request = lower_keys(context)
    granted: Statement | None = None
    principal_found: list[Statement] = []
    failed_conditions: list[str] = []
    for statement in statements(policy):
        if statement.effect not in ("Allow", "Deny") or not _principal_applies(statement, principal):
            continue
        if not _action_applies(statement, action):
            if statement.effect == "Allow":
                principal_found.append(statement)
            continue
        if not _resource_applies(statement, resource):
            continue
        result = evaluate(statement.condition, request, in_deny=statement.effect == "Deny")
        if statement.effect == "Deny" and result.holds is not False:
            label = f" ({statement.sid})" if statement.sid else ""
            why = f": {result.reason}" if result.reason else ""
            return Decision(False, f"explicitly denies {action}{label}{why}", explicit_deny=True)
        if statement.effect == "Allow" and result.holds:
            granted = granted or statement
        elif statement.effect == "Allow":
            failed_conditions.append(result.reason)
    if granted is not None:
        who = f"{principal} " if principal else ""
        return Decision(True, f"allows {who}{action}" + (f" ({granted.sid})" if granted.sid else ""))
    return Decision(False, _refusal(principal_found, failed_conditions, principal, action, policy))
