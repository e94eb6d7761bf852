"""Reviews the API server answers without storing anything: SelfSubjectReview (`kubectl auth
whoami`), SelfSubjectAccessReview (`kubectl auth can-i`), SelfSubjectRulesReview (`can-i --list`)
and SubjectAccessReview.

The admin (the sandbox's static token and EKS tokens of its admin keys) is in ``system:masters``:
the API server's privileged-group authorizer allows that group anything before RBAC is consulted,
with no reason given; its rules are the cluster-admin role's plus what every authenticated user is
granted by the default cluster roles (system:basic-user, system:discovery,
system:public-info-viewer). Every other identity (the read-only user) is answered by RBAC through
``authz.Authorizer``, the same evaluation that guards its requests.
"""

from __future__ import annotations

import copy

from .authz import ADMIN, MASTERS, Attributes, Authorizer, UserInfo
from .errors import FieldError, bad_request, invalid
from .resources import ResourceType

ADMIN_USER = ADMIN.to_api()

_AUTHENTICATED_RESOURCE_RULES = [
    {"verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"]},
    {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
     "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]},
]
_AUTHENTICATED_NON_RESOURCE_RULES = [
    {"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                           "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]},
    {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"]},
]


def _review_attributes(spec: dict) -> Attributes:
    res = spec.get("resourceAttributes")
    if isinstance(res, dict):
        return Attributes(verb=res.get("verb") or "", resource_request=True,
                          namespace=res.get("namespace") or "", group=res.get("group") or "",
                          version=res.get("version") or "", resource=res.get("resource") or "",
                          subresource=res.get("subresource") or "", name=res.get("name") or "")
    non = spec.get("nonResourceAttributes") or {}
    return Attributes(verb=non.get("verb") or "", path=non.get("path") or "")


def answer(rt: ResourceType, body: dict, user: UserInfo | None = None,
           authorizer: Authorizer | None = None) -> dict:
    """The review with its status filled in, as the API server returns it (201 Created), for
    ``user`` (the admin when not given)."""
    user = user or ADMIN
    privileged = MASTERS in user.groups or authorizer is None
    out = {"kind": rt.kind, "apiVersion": rt.api_version,
           "metadata": {**(body.get("metadata") or {}), "creationTimestamp": None}}
    if rt.plural == "selfsubjectreviews":
        out["status"] = {"userInfo": user.to_api()}
        return out
    spec = body.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    out["spec"] = spec
    if rt.plural == "selfsubjectrulesreviews":
        if not spec.get("namespace"):
            raise bad_request("no namespace on request")
        if not privileged:
            resource_rules, non_resource_rules = authorizer.rules(user, spec["namespace"])
            out["status"] = {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules,
                             "incomplete": False}
            return out
        out["status"] = {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
                              *copy.deepcopy(_AUTHENTICATED_RESOURCE_RULES)],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]},
                                 *copy.deepcopy(_AUTHENTICATED_NON_RESOURCE_RULES)],
            "incomplete": False}
        return out
    if not spec.get("resourceAttributes") and not spec.get("nonResourceAttributes"):
        raise invalid(rt, "", [FieldError("FieldValueInvalid", "spec.resourceAttributes",
                                          'Invalid value: "null": exactly one of '
                                          "nonResourceAttributes or resourceAttributes must be "
                                          "specified")])
    if rt.plural == "subjectaccessreviews":
        subject = UserInfo(spec.get("user") or "", tuple(spec.get("groups") or ()), spec.get("uid") or "")
        if authorizer is None:
            allowed, reason = MASTERS in subject.groups or subject.username == ADMIN.username, ""
        else:
            allowed, reason = authorizer.allowed(subject, _review_attributes(spec))
        out["status"] = {"allowed": allowed, **({"reason": reason} if reason else {})}
        return out
    if privileged:
        out["status"] = {"allowed": True}
        return out
    allowed, reason = authorizer.allowed(user, _review_attributes(spec))
    out["status"] = {"allowed": allowed, **({"reason": reason} if reason else {})}
    return out
