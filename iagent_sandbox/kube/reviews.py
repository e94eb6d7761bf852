"""Reviews the API server answers without storing anything: SelfSubjectReview (`kubectl auth
whoami`), SelfSubjectAccessReview (`kubectl auth can-i`), SelfSubjectRulesReview (`can-i --list`)
and SubjectAccessReview.

Every identity the sandbox accepts — its static token and EKS tokens of its own AWS account —
is the cluster's admin, in ``system:masters``. The API server's privileged-group authorizer
allows that group anything before RBAC is consulted, with no reason given; its rules are the
cluster-admin role's plus what every authenticated user is granted by the default cluster roles
(system:basic-user, system:discovery, system:public-info-viewer). RBAC objects are stored and
listed, but not enforced (there are no non-admin identities to enforce them on).
"""

from __future__ import annotations

import copy

from .errors import FieldError, bad_request, invalid
from .resources import ResourceType

ADMIN_USER = {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]}

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


def answer(rt: ResourceType, body: dict) -> dict:
    """The review with its status filled in, as the API server returns it (201 Created)."""
    out = {"kind": rt.kind, "apiVersion": rt.api_version,
           "metadata": {**(body.get("metadata") or {}), "creationTimestamp": None}}
    if rt.plural == "selfsubjectreviews":
        out["status"] = {"userInfo": copy.deepcopy(ADMIN_USER)}
        return out
    spec = body.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    out["spec"] = spec
    if rt.plural == "selfsubjectrulesreviews":
        if not spec.get("namespace"):
            raise bad_request("no namespace on request")
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
        groups = spec.get("groups") or []
        allowed = "system:masters" in groups or spec.get("user") == ADMIN_USER["username"]
        out["status"] = {"allowed": allowed}
        return out
    out["status"] = {"allowed": True}
    return out
