"""Authorization as kube-apiserver does it: the privileged ``system:masters`` group first, then RBAC.

Every request is turned into attributes the way k8s.io/apiserver's RequestInfoFactory does (verb
from the method, list/watch/deletecollection for collections, a ``metadata.name`` field selector
naming the object, non-resource paths such as /api, /version and /openapi/v3) and checked against
the stored ClusterRoleBindings, and the RoleBindings of the request's namespace, with the rule
matching of k8s.io/kubernetes/pkg/apis/rbac/v1/evaluation_helpers.go. A denial is the 403 Status
the API server writes (``forbidden``). The reviews (``reviews.py``) answer from the same rules.

Aggregated ClusterRoles (view, edit, admin) are seeded with their rules already aggregated, as the
clusterrole-aggregation controller leaves them; that controller itself is not simulated, so a
user-made ClusterRole labelled ``aggregate-to-view`` does not widen ``view``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from aiohttp import web

from .errors import ApiError
from .resources import RBAC, rt

MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"


@dataclass(frozen=True)
class UserInfo:
    username: str
    groups: tuple[str, ...] = ()
    uid: str = ""

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"username": self.username}
        if self.uid:
            out["uid"] = self.uid
        out["groups"] = list(self.groups)
        return out


ADMIN = UserInfo("kubernetes-admin", (MASTERS, AUTHENTICATED))
USER_KEY = web.RequestKey("kube.user", UserInfo)  # set by the server once a request is authenticated


@dataclass(frozen=True)
class Attributes:
    verb: str
    path: str = ""
    resource_request: bool = False
    namespace: str = ""
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""


_NAMESPACE_SUBRESOURCES = ("status", "finalize")
_METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "GET": "get", "HEAD": "get",
                 "DELETE": "delete"}


def request_attributes(method: str, path: str, query: Mapping[str, str]) -> Attributes:
    """What kube-apiserver's RequestInfoFactory makes of a request (verb, group, resource, ...)."""
    parts = [p for p in path.strip("/").split("/") if p]
    nonresource = Attributes(verb=method.lower(), path=path)
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return nonresource
    rest = parts[1:]
    group = ""
    if parts[0] == "apis":
        group, rest = rest[0], rest[1:]
    version, rest = rest[0], rest[1:]
    if not rest:
        return nonresource
    verb = _METHOD_VERBS.get(method.upper(), method.lower())
    legacy_watch = rest[0] == "watch"
    if legacy_watch:
        rest = rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if legacy_watch:
        verb = "watch"
    elif not name and verb == "get":
        verb = "watch" if query.get("watch", "").lower() in ("1", "true") else "list"
    elif not name and verb == "delete":
        verb = "deletecollection"
    if verb in ("list", "watch") and not name:
        # A list or watch of one object by name is authorized as that object (resourceNames).
        for term in (query.get("fieldSelector") or "").split(","):
            key, sep, value = term.partition("=")
            if key.strip() == "metadata.name" and sep and not value.startswith("="):
                name = value.strip()
    return Attributes(verb=verb, path=path, resource_request=True, namespace=namespace,
                      group=group, version=version, resource=resource, subresource=subresource,
                      name=name)


def forbidden(user: UserInfo, attrs: Attributes) -> ApiError:
    """The 403 kube-apiserver writes (responsewriters.Forbidden + apierrors.NewForbidden)."""
    if not attrs.resource_request:
        return ApiError(403, "Forbidden",
                        f'forbidden: User "{user.username}" cannot {attrs.verb} path "{attrs.path}"', {})
    resource = attrs.resource + (f"/{attrs.subresource}" if attrs.subresource else "")
    scope = (f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope")
    why = (f'User "{user.username}" cannot {attrs.verb} resource "{resource}" in API group '
           f'"{attrs.group}" {scope}')
    qualified = attrs.resource + (f".{attrs.group}" if attrs.group else "")
    if attrs.name:
        message = f'{qualified} "{attrs.name}" is forbidden: {why}'
    else:
        message = f"{qualified} is forbidden: {why}"
    details: dict[str, Any] = {}
    if attrs.name:
        details["name"] = attrs.name
    if attrs.group:
        details["group"] = attrs.group
    if attrs.resource:
        details["kind"] = attrs.resource
    return ApiError(403, "Forbidden", message, details)


# -- rule matching (evaluation_helpers.go) ------------------------------------------------------
def _has(values: Iterable[str], wanted: str) -> bool:
    values = list(values or ())
    return "*" in values or wanted in values


def _resource_matches(rule: dict, resource: str, subresource: str) -> bool:
    combined = f"{resource}/{subresource}" if subresource else resource
    for r in rule.get("resources") or ():
        if r in ("*", combined):
            return True
        if subresource and r == f"*/{subresource}":
            return True
    return False


def _non_resource_url_matches(rule: dict, path: str) -> bool:
    for url in rule.get("nonResourceURLs") or ():
        if url == "*" or url == path or (url.endswith("*") and path.startswith(url[:-1])):
            return True
    return False


def rule_allows(rule: dict, attrs: Attributes) -> bool:
    if not _has(rule.get("verbs"), attrs.verb):
        return False
    if not attrs.resource_request:
        return _non_resource_url_matches(rule, attrs.path)
    names = rule.get("resourceNames") or []
    return (_has(rule.get("apiGroups"), attrs.group)
            and _resource_matches(rule, attrs.resource, attrs.subresource)
            and (not names or attrs.name in names))


def _subject_matches(subject: dict, user: UserInfo, namespace: str) -> bool:
    kind = subject.get("kind")
    if kind == "User":
        return subject.get("name") == user.username
    if kind == "Group":
        return subject.get("name") in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or namespace
        return user.username == f"system:serviceaccount:{ns}:{subject.get('name')}"
    return False


@dataclass
class Grant:
    """A rule set reached through one binding (for the reason an allowed review gives)."""

    binding_kind: str
    binding_name: str
    binding_namespace: str
    role_kind: str
    role_name: str
    subject: dict
    rules: list[dict] = field(default_factory=list)

    def reason(self) -> str:
        where = (f'RoleBinding "{self.binding_name}/{self.binding_namespace}"'
                 if self.binding_kind == "RoleBinding"
                 else f'ClusterRoleBinding "{self.binding_name}"')
        role = (f'Role "{self.role_name}"' if self.role_kind == "Role"
                else f'ClusterRole "{self.role_name}"')
        return f'RBAC: allowed by {where} of {role} to {self.subject.get("kind")} "{self.subject.get("name")}"'


class Authorizer:
    """RBAC over the store's bindings and roles (read on every decision: no cache to go stale)."""

    def __init__(self, store) -> None:
        self.store = store

    def grants(self, user: UserInfo, namespace: str) -> list[Grant]:
        """Every rule set the user holds cluster-wide, plus those bound in ``namespace``."""
        out: list[Grant] = []
        bindings, _ = self.store.list(rt("clusterrolebindings"))
        for b in bindings:
            out.extend(self._grant(b, user, "", cluster=True))
        if namespace:
            bindings, _ = self.store.list(rt("rolebindings"), namespace)
            for b in bindings:
                out.extend(self._grant(b, user, namespace, cluster=False))
        return out

    def _grant(self, binding: dict, user: UserInfo, namespace: str, cluster: bool) -> list[Grant]:
        subject = next((s for s in binding.get("subjects") or ()
                        if _subject_matches(s, user, namespace)), None)
        ref = binding.get("roleRef") or {}
        if subject is None or ref.get("apiGroup", RBAC) != RBAC:
            return []
        kind, name = ref.get("kind"), ref.get("name") or ""
        if kind == "ClusterRole":
            role = self.store.get(rt("clusterroles"), None, name)
        elif kind == "Role" and not cluster:
            role = self.store.get(rt("roles"), namespace, name)
        else:
            return []
        if role is None:
            return []
        return [Grant("ClusterRoleBinding" if cluster else "RoleBinding",
                      binding["metadata"]["name"], namespace, kind, name, subject,
                      list(role.get("rules") or []))]

    def allowed(self, user: UserInfo, attrs: Attributes) -> tuple[bool, str]:
        """(allowed, reason). system:masters is allowed everything, with no reason given."""
        if MASTERS in user.groups:
            return True, ""
        for grant in self.grants(user, attrs.namespace):
            if any(rule_allows(rule, attrs) for rule in grant.rules):
                return True, grant.reason()
        return False, ""

    def check(self, user: UserInfo, attrs: Attributes) -> None:
        if not self.allowed(user, attrs)[0]:
            raise forbidden(user, attrs)

    def rules(self, user: UserInfo, namespace: str) -> tuple[list[dict], list[dict]]:
        """(resourceRules, nonResourceRules) as SelfSubjectRulesReview lists them."""
        resource_rules: list[dict] = []
        non_resource: list[dict] = []
        for grant in self.grants(user, namespace):
            for rule in grant.rules:
                if rule.get("nonResourceURLs"):
                    non_resource.append({"verbs": list(rule.get("verbs") or []),
                                         "nonResourceURLs": list(rule["nonResourceURLs"])})
                    continue
                entry: dict[str, Any] = {"verbs": list(rule.get("verbs") or [])}
                if rule.get("apiGroups") is not None:
                    entry["apiGroups"] = list(rule.get("apiGroups") or [])
                if rule.get("resources") is not None:
                    entry["resources"] = list(rule.get("resources") or [])
                if rule.get("resourceNames"):
                    entry["resourceNames"] = list(rule["resourceNames"])
                resource_rules.append(entry)
        return resource_rules, non_resource


AUTHORIZER_KEY = web.RequestKey("kube.authorizer", Authorizer)
