"""Who may call the sandbox's AWS endpoint, and what they may do.

Two kinds of keys are accepted: the sandbox's own (generated per run; the account's
administrator, allowed everything) and the access keys of IAM users created in the sandbox's IAM
(``CreateAccessKey``, as the read-only identity is made), whose identity policies are evaluated
for every call. moto's own policy evaluator (``moto.iam.access_control``) reads the user's
inline, attached and group policies and applies Allow/Deny with wildcards; this module only names
the action (``eks:DescribeCluster`` from botocore's service model for EKS's REST paths, the
``Action`` parameter for the query protocols), picks the resource ARN for the message, and words
AccessDenied as each protocol does. Condition keys and resource-level ARNs beyond that are not
modelled (the sandbox's identities use none).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote

from .engine import HttpReply, HttpRequest, MotoEngine
from .protocol import EC2_QUERY, PROTOCOLS, REST_JSON, ec2_error, eks_error, query_error
from .signatures import SignatureError, auth_error, header, request_service, verify

ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})  # AWS answers it even under a Deny


def new_access_key() -> tuple[str, str]:
    """A fresh key pair in AWS's formats: AKIA + 16 upper-case letters/digits, a 40-char secret."""
    key = "AKIA" + "".join(secrets.choice(string.ascii_uppercase + "234567") for _ in range(16))
    alphabet = string.ascii_letters + string.digits + "+/"
    return key, "".join(secrets.choice(alphabet) for _ in range(40))


@cache
def _eks_routes() -> tuple[tuple[str, re.Pattern[str], int, str], ...]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("eks")
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http["requestUri"].split("?", 1)[0]
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(uri))
        literal = len(re.sub(r"\{[^}]+\}", "", uri))
        routes.append((http["method"], re.compile(f"^{pattern}$"), literal, name))
    return tuple(routes)


def operation(service: str, request: HttpRequest) -> str:
    """The API operation a request calls, e.g. DescribeCluster."""
    if PROTOCOLS.get(service) == REST_JSON:
        path = unquote(request.path)
        found = [(literal, name) for method, pattern, literal, name in _eks_routes()
                 if method == request.method and pattern.match(path)]
        return max(found)[1] if found else "Unknown"
    return _params(request).get("Action", "Unknown")


def _params(request: HttpRequest) -> dict[str, str]:
    params = parse_qs(request.query_string)
    if "x-www-form-urlencoded" in header(request.headers, "Content-Type"):
        params.update(parse_qs(request.body.decode("utf-8", "replace")))
    return {k: v[0] for k, v in params.items() if v}


def resource_arn(service: str, request: HttpRequest, region: str, account: str) -> str:
    """The resource AWS names in an AccessDenied message, as near as the request tells it."""
    if service == "eks":
        match = re.match(r"^/clusters/([^/]+)", unquote(request.path))
        return f"arn:aws:eks:{region}:{account}:cluster/{match.group(1) if match else '*'}"
    p = _params(request)
    if service == "iam":
        if p.get("PolicyArn"):
            return p["PolicyArn"]
        for key, kind in (("RoleName", "role"), ("UserName", "user"), ("InstanceProfileName",
                                                                       "instance-profile")):
            if p.get(key):
                return f"arn:aws:iam::{account}:{kind}/{p[key]}"
        return f"arn:aws:iam::{account}:*"
    if service == "elasticloadbalancing":
        for key in ("TargetGroupArn", "LoadBalancerArn", "ListenerArn", "ResourceArns.member.1"):
            if p.get(key):
                return p[key]
        if p.get("Action") == "CreateTargetGroup" and p.get("Name"):
            return f"arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{p['Name']}/*"
        return f"arn:aws:elasticloadbalancing:{region}:{account}:*"
    if service == "ec2":
        for key, kind in (("VpcId", "vpc"), ("GroupId", "security-group"), ("SubnetId", "subnet")):
            if p.get(key):
                return f"arn:aws:ec2:{region}:{account}:{kind}/{p[key]}"
        return f"arn:aws:ec2:{region}:{account}:*"
    return "*"


def access_denied(service: str, user_arn: str, action: str, resource: str, explicit: bool) -> HttpReply:
    why = ("with an explicit deny in an identity-based policy" if explicit
           else f"because no identity-based policy allows the {action} action")
    message = f"User: {user_arn} is not authorized to perform: {action} on resource: {resource} {why}"
    protocol = PROTOCOLS.get(service)
    if protocol == REST_JSON:
        return eks_error(403, "AccessDeniedException", message)
    if protocol == EC2_QUERY:
        # The encoded message is opaque to the caller (sts:DecodeAuthorizationMessage reads it).
        encoded = base64.urlsafe_b64encode(json.dumps(
            {"allowed": False, "explicitDeny": explicit, "action": action,
             "resource": resource}).encode()).decode().rstrip("=")
        return ec2_error(403, "UnauthorizedOperation",
                         f"You are not authorized to perform this operation. {message}. "
                         f"Encoded authorization failure message: {encoded}")
    return query_error(403, "AccessDenied", message)


class AccessGuard:
    """Checks a request's signature and, for IAM users' keys, their policies. Call with the
    engine's lock held (IAM users and policies live in moto)."""

    def __init__(self, engine: MotoEngine, admin_key: str, admin_secret: str) -> None:
        self.engine = engine
        self.admin_key = admin_key
        self.admin_secret = admin_secret

    def _iam_key(self, access_key_id: str) -> Any:
        iam = self.engine.backend("iam")
        for user in iam.users.values():
            for key in user.access_keys:
                if key.access_key_id == access_key_id and key.status == "Active":
                    return user, key
        return None

    def secret_for(self, access_key_id: str) -> str | None:
        if access_key_id == self.admin_key:
            return self.admin_secret
        found = self._iam_key(access_key_id)
        return found[1].secret_access_key if found else None

    def check(self, request: HttpRequest) -> HttpReply | None:
        """None when the request may go on; otherwise the error AWS would answer."""
        service = request_service(request)
        with self.engine.lock:
            try:
                signed = verify(request, self.secret_for)
            except SignatureError as err:
                return auth_error(service, err)
            if signed.access_key_id == self.admin_key:
                return None
            return self._authorize(service, request, signed.access_key_id)

    def _authorize(self, service: str, request: HttpRequest, access_key_id: str) -> HttpReply | None:
        from moto.iam.access_control import IAMPolicy, IAMUserAccessKey, PermissionResult

        action = f"{service}:{operation(service, request)}"
        if action in ALWAYS_ALLOWED:
            return None
        key = IAMUserAccessKey(self.engine.account_id, "aws", access_key_id, {})
        resource = resource_arn(service, request, self.engine.region, self.engine.account_id)
        permitted = False
        for policy in key.collect_policies():
            result = IAMPolicy(policy).is_action_permitted(action, resource)
            if result == PermissionResult.DENIED:
                return access_denied(service, key.arn, action, resource, explicit=True)
            permitted = permitted or result == PermissionResult.PERMITTED
        if permitted:
            return None
        return access_denied(service, key.arn, action, resource, explicit=False)
