"""The sandbox's identities besides the administrator: a read-only Kubernetes user and a restricted
IAM user, so that partial-permission paths (a viewer running `status`, a deploy refused at its
first write) can be shown and tested end to end.

Kubernetes: ``iagent-readonly`` in group ``iagent:readonly``, bound by the ClusterRoleBinding
``iagent-readonly-view`` to the built-in ``view`` ClusterRole and nothing else. ``view`` is the
honest viewer: it reads workloads, services, events and namespaces, but not secrets, nodes or
leases (cluster-scoped reads that a real cluster also withholds from ``view``).

AWS: the IAM user ``iagent-readonly`` with one inline policy allowing only reads (EKS, ELBv2, EC2
describe/list, IAM get/list). Its EKS tokens authenticate to the cluster as its ARN in the same
``iagent:readonly`` group, as an EKS access entry with the view policy would map it.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from .kube import builtin_roles
from .kube.authz import ADMIN, AUTHENTICATED, UserInfo
from .kube.resources import rt

READONLY_NAME = "iagent-readonly"
READONLY_GROUP = "iagent:readonly"
READONLY_USER = UserInfo(READONLY_NAME, (READONLY_GROUP, AUTHENTICATED))
READONLY_BINDING = "iagent-readonly-view"
READONLY_POLICY_NAME = "iagent-readonly"
READONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "ReadOnly",
        "Effect": "Allow",
        "Action": ["eks:Describe*", "eks:List*", "elasticloadbalancing:Describe*",
                   "ec2:Describe*", "iam:Get*", "iam:List*"],
        "Resource": "*",
    }],
}


def seed_kube(store) -> None:
    """The built-in roles and the read-only user's binding to ``view``."""
    builtin_roles.seed(store)
    if store.get(rt("clusterrolebindings"), None, READONLY_BINDING) is None:
        store.create(rt("clusterrolebindings"), builtin_roles.cluster_role_binding(
            READONLY_BINDING, "view", [{"kind": "Group", "name": READONLY_GROUP}], bootstrap=False))


def create_readonly_iam_user(aws) -> tuple[str, str]:
    """Create the restricted IAM user through the IAM API; return its (access key id, secret)."""
    iam = aws.client("iam")
    # moto's IAM is one per process and global, like IAM in an account: a second sandbox in the
    # same process (tests) finds the user already there and gets a key of its own.
    try:
        iam.create_user(UserName=READONLY_NAME,
                        Tags=[{"Key": "iagent-sandbox", "Value": "read-only"}])
    except iam.exceptions.EntityAlreadyExistsException:
        keys = iam.list_access_keys(UserName=READONLY_NAME)["AccessKeyMetadata"]
        if len(keys) >= 2:  # IAM's limit is two keys a user: the oldest one goes
            oldest = min(keys, key=lambda k: k["CreateDate"])
            iam.delete_access_key(UserName=READONLY_NAME, AccessKeyId=oldest["AccessKeyId"])
    iam.put_user_policy(UserName=READONLY_NAME, PolicyName=READONLY_POLICY_NAME,
                        PolicyDocument=json.dumps(READONLY_POLICY))
    key = iam.create_access_key(UserName=READONLY_NAME)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def eks_token_users(verifier, admin_key: str, account_id: str,
                    readonly_key: Callable[[], str]) -> Callable[[str], Any]:
    """An API-server authenticator for EKS tokens: the admin's keys are the cluster admin, the
    read-only IAM user's keys are its ARN in the read-only group; any other key is unknown."""
    def authenticate(token: str) -> UserInfo | None:
        key = verifier.access_key_id(token)
        if key is None:
            return None
        if key == admin_key:
            return ADMIN
        if key == readonly_key():
            return UserInfo(f"arn:aws:iam::{account_id}:user/{READONLY_NAME}",
                            (READONLY_GROUP, AUTHENTICATED))
        return None
    return authenticate
