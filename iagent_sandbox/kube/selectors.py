"""Label and field selectors with the syntax and semantics of k8s.io/apimachinery.

Label selectors: ``a=b``, ``a==b``, ``a!=b``, ``a in (b,c)``, ``a notin (b,c)``, ``a`` (exists),
``!a`` (does not exist), ``a>1``, ``a<1``; requirements joined by commas. Field selectors:
``field=value``, ``field==value``, ``field!=value`` over the fields each resource supports; any other
field is rejected as a real API server does ("field label not supported: x").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .errors import ApiError, bad_request
from .resources import ResourceType
from .validation import label_value_errors, qualified_name_errors

# -- label selectors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", ">", "<"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        try:  # ">" and "<" compare integers; a non-integer label never matches
            number, bound = int(value), int(self.values[0])
        except (TypeError, ValueError):
            return False
        return number > bound if self.op == ">" else number < bound

    def __str__(self) -> str:
        if self.op == "exists":
            return self.key
        if self.op == "!":
            return "!" + self.key
        if self.op in ("in", "notin"):
            return f"{self.key} {self.op} ({','.join(sorted(self.values))})"
        return f"{self.key}{self.op}{self.values[0]}"


class Matcher:
    """A parsed label selector. ``Matcher.nothing()`` (a nil selector) matches no object;
    an empty selector matches every object."""

    def __init__(self, requirements: tuple[Requirement, ...] = (), nothing: bool = False) -> None:
        self.requirements = requirements
        self._nothing = nothing

    @classmethod
    def nothing(cls) -> "Matcher":
        return cls((), nothing=True)

    @property
    def empty(self) -> bool:
        """True when the selector selects everything."""
        return not self.requirements and not self._nothing

    def matches(self, labels: dict[str, str] | None) -> bool:
        if self._nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    __call__ = matches

    def matches_object(self, obj: dict) -> bool:
        return self.matches((obj.get("metadata") or {}).get("labels"))

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def __repr__(self) -> str:
        return f"Matcher({str(self)!r})"


_SPECIAL = "!=<>(),"


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith("!=", i) or text.startswith("==", i):
            tokens.append(text[i:i + 2])
            i += 2
        elif ch in _SPECIAL:
            tokens.append(ch)
            i += 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in _SPECIAL:
                j += 1
            tokens.append(text[i:j])
            i = j
    return tokens


def _is_identifier(tok: str | None) -> bool:
    return tok is not None and tok not in _SPECIAL and tok not in ("!=", "==")


class _LabelParser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> str | None:
        tok = self.peek()
        self.pos += 1
        return tok

    @staticmethod
    def fail(found: str | None, expected: str, in_requirement: bool = True) -> ApiError:
        # Errors inside one requirement carry labels.Parse's "unable to parse requirement:"
        # prefix; errors between requirements do not (same as apimachinery).
        prefix = "unable to parse requirement: " if in_requirement else ""
        return bad_request(f"{prefix}found '{found or ''}', expected: {expected}")

    def parse(self) -> tuple[Requirement, ...]:
        reqs: list[Requirement] = []
        tok = self.peek()
        if tok is None:
            return ()
        if tok != "!" and not _is_identifier(tok):
            raise self.fail(tok, "!, identifier, or 'end of string'", in_requirement=False)
        while True:
            reqs.append(self.requirement())
            tok = self.take()
            if tok is None:
                return tuple(reqs)
            if tok != ",":
                raise self.fail(tok, "',' or 'end of string'", in_requirement=False)
            nxt = self.peek()
            if nxt != "!" and not _is_identifier(nxt):
                raise self.fail(nxt, "identifier after ','", in_requirement=False)

    def identifier(self, what: str = "identifier") -> str:
        tok = self.take()
        if not _is_identifier(tok):
            raise self.fail(tok, what)
        return tok

    def requirement(self) -> Requirement:
        if self.peek() == "!":
            self.take()
            return _checked(Requirement(self.identifier(), "!"))
        key = self.identifier()
        op = self.peek()
        if op is None or op == ",":
            return _checked(Requirement(key, "exists"))
        self.take()
        if op in ("=", "==", "!="):
            nxt = self.peek()
            value = "" if nxt is None or nxt == "," else self.identifier()
            return _checked(Requirement(key, "!=" if op == "!=" else "=", (value,)))
        if op in ("in", "notin"):
            tok = self.take()
            if tok != "(":
                raise bad_request(f"unable to parse requirement: found '{tok or ''}' expected: '('")
            return _checked(Requirement(key, op, self.value_set()))
        if op in (">", "<"):
            value = self.identifier()
            try:
                int(value)
            except ValueError:
                raise bad_request(f"unable to parse requirement: for 'Gt', 'Lt' operators, the value "
                                  f"must be an integer: {value}") from None
            return _checked(Requirement(key, op, (value,)))
        raise self.fail(op, "in, notin, =, ==, !=, gt, lt")

    def value_set(self) -> tuple[str, ...]:
        values: list[str] = []
        if self.peek() == ")":
            self.take()
            raise bad_request("unable to parse requirement: for 'in', 'notin' operators, values "
                              "set can't be empty")
        while True:
            tok = self.take()
            if tok in (",", ")"):  # an empty value inside the set: "a in (,b)"
                values.append("")
            else:
                if not _is_identifier(tok):
                    raise self.fail(tok, "',', or identifier")
                values.append(tok)
                tok = self.take()
            if tok == ")":
                return tuple(values)
            if tok != ",":
                raise self.fail(tok, "',' or ')'")


def _checked(req: Requirement) -> Requirement:
    for msg in qualified_name_errors(req.key):
        raise bad_request(f'unable to parse requirement: key: Invalid value: "{req.key}": {msg}')
    if req.op not in (">", "<"):
        for i, value in enumerate(req.values):
            for msg in label_value_errors(value):
                raise bad_request(f'unable to parse requirement: values[{i}][{req.key}]: '
                                  f'Invalid value: "{value}": {msg}')
    return req


def parse_label_selector(text: str | None) -> Matcher:
    """Parse ``?labelSelector=``; bad syntax raises ApiError 400 BadRequest."""
    if not text or not text.strip():
        return Matcher()
    return Matcher(_LabelParser(text).parse())


def label_selector_from_match(selector: dict | None) -> Matcher:
    """A metav1.LabelSelector (matchLabels / matchExpressions) as a Matcher. None selects nothing
    and {} selects everything, as in LabelSelectorAsSelector."""
    if selector is None:
        return Matcher.nothing()
    reqs = [_checked(Requirement(k, "=", (str(v),)))
            for k, v in sorted((selector.get("matchLabels") or {}).items())]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        operator, values = expr.get("operator"), tuple(expr.get("values") or ())
        if operator not in ops:
            raise bad_request(f'"{operator}" is not a valid label selector operator')
        op = ops[operator]
        if op in ("in", "notin") and not values:
            raise bad_request("values: Invalid value: []string{}: for 'in', 'notin' operators, "
                              "values set can't be empty")
        if op in ("exists", "!") and values:
            raise bad_request("values: Invalid value: values set must be empty for exists and "
                              "does not exist")
        reqs.append(_checked(Requirement(expr.get("key", ""), op, values)))
    return Matcher(tuple(reqs))


# -- field selectors ------------------------------------------------------------------------------

def _path(*keys: str) -> Callable[[dict], Any]:
    def get(obj: dict) -> Any:
        cur: Any = obj
        for k in keys:
            cur = cur.get(k) if isinstance(cur, dict) else None
        return cur
    return get


_COMMON = {"metadata.name": _path("metadata", "name"),
           "metadata.namespace": _path("metadata", "namespace")}

_FIELDS: dict[str, dict[str, Callable[[dict], Any]]] = {
    "pods": {f: _path(*f.split(".")) for f in (
        "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName")},
    "events": {**{f"involvedObject.{k}": _path("involvedObject", k) for k in (
        "kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")},
        "reason": _path("reason"), "reportingComponent": _path("reportingComponent"),
        "source": _path("source", "component"), "type": _path("type")},
    "namespaces": {"status.phase": _path("status", "phase")},
    "nodes": {"spec.unschedulable": _path("spec", "unschedulable")},
    "secrets": {"type": _path("type")},
    "replicasets": {"status.replicas": _path("status", "replicas")},
}


def _as_field_text(value: Any, field: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        # Absent booleans and counters read as their zero value, as in Go structs.
        return "false" if field in ("spec.hostNetwork", "spec.unschedulable") else (
            "0" if field == "status.replicas" else "")
    return str(value)


@dataclass(frozen=True)
class FieldTerm:
    field: str
    op: str  # "=" or "!="
    value: str
    getter: Callable[[dict], Any]

    def matches(self, obj: dict) -> bool:
        equal = _as_field_text(self.getter(obj), self.field) == self.value
        return equal if self.op == "=" else not equal


class FieldMatcher:
    def __init__(self, terms: tuple[FieldTerm, ...] = ()) -> None:
        self.terms = terms

    @property
    def empty(self) -> bool:
        return not self.terms

    def matches(self, obj: dict) -> bool:
        return all(t.matches(obj) for t in self.terms)

    __call__ = matches

    def __str__(self) -> str:
        return ",".join(f"{t.field}{t.op}{t.value}" for t in self.terms)


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, cur, i = [], [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if text[i] == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(text[i])
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            if value[i + 1] not in "\\,=":
                raise bad_request(f"invalid field selector: invalid escape sequence: \\{value[i + 1]}")
            out.append(value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i, ch in enumerate(term):
        if ch == "\\":
            continue
        for op in ("!=", "==", "="):
            if term.startswith(op, i) and (i == 0 or term[i - 1] != "\\"):
                return term[:i], "!=" if op == "!=" else "=", term[i + len(op):]
    return None


def parse_field_selector(text: str | None, rt: ResourceType) -> FieldMatcher:
    """Parse ``?fieldSelector=`` for one resource type; unsupported fields and bad syntax raise
    ApiError 400 BadRequest."""
    if not text or not text.strip():
        return FieldMatcher()
    supported = {**_COMMON, **_FIELDS.get(rt.plural, {})}
    terms = []
    for raw in _split_unescaped(text, ","):
        parsed = _split_term(raw)
        if parsed is None:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{raw}'")
        field, op, value = parsed
        field = field.strip()
        if field not in supported:
            raise bad_request(f'field label not supported: {field}')
        terms.append(FieldTerm(field, op, _unescape(value), supported[field]))
    return FieldMatcher(tuple(terms))
