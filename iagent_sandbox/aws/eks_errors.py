"""EKS API errors the gateway raises itself, with the exact texts of DOMAIN.md §3.2 and §4.3."""

from __future__ import annotations

from typing import Any

from .engine import HttpReply
from .protocol import eks_error


class EksApiError(Exception):
    status = 400
    code = "ClientException"

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def reply(self) -> HttpReply:
        return eks_error(self.status, self.code, self.message, **self.fields)


class InvalidParameter(EksApiError):
    code = "InvalidParameterException"


class InvalidRequest(EksApiError):
    code = "InvalidRequestException"


class ResourceInUse(EksApiError):
    status = 409
    code = "ResourceInUseException"


class ResourceNotFound(EksApiError):
    status = 404
    code = "ResourceNotFoundException"


class ResourceLimitExceeded(EksApiError):
    code = "ResourceLimitExceededException"


# Exact texts (DOMAIN.md §3.2; moto's constants were taken from real responses).
CLUSTER_NOT_FOUND = "No cluster found for name: {cluster}."
PROFILE_EXISTS = "A Fargate Profile already exists with this name in this cluster."
PROFILE_NOT_FOUND = "No Fargate Profile found with name: {profile}."
PROFILE_BUSY_CREATE = (
    "Cannot create Fargate Profile {profile} because cluster {cluster} currently has "
    "Fargate profile {other} in status {status}"
)
PROFILE_BUSY_DELETE = (
    "Cannot delete Fargate Profile {profile} because cluster {cluster} currently has "
    "Fargate profile {other} in status {status}"
)
PROFILE_LIMIT = "Fargate Profile limit exceeded for cluster."
PROFILE_NEEDS_SELECTOR = "Fargate Profile requires at least one selector."
PROFILE_SELECTOR_NEEDS_NAMESPACE = (
    "Fargate Profile must have at least one selector with at least one namespace value."
)
PROFILE_TOO_MANY_LABELS = "Request contains Selector with more than 5 Label pairs"
PROFILE_SUBNET_NOT_PRIVATE = "Subnet {subnet} provided in Fargate Profile is not a private subnet"
POD_ROLE_TRUST = (
    "Misconfigured PodExecutionRole Trust Policy; Please add the "
    "eks-fargate-pods.amazonaws.com Service Principal"
)
ADDON_NOT_FOUND = "No addon: {addon} found in cluster: {cluster}"
ADDON_EXISTS = "Addon already exists."
ADDON_NOT_SUPPORTED = "Addon specified is not supported"
ADDON_VERSION_NOT_SUPPORTED = "Addon version specified is not supported"
CONFIG_NOT_SUPPORTED = "ConfigurationValue provided in request is not supported: {detail}"
UPDATE_NOT_FOUND = "No update found for ID: {update}"


def cluster_not_found(cluster: str) -> ResourceNotFound:
    return ResourceNotFound(CLUSTER_NOT_FOUND.format(cluster=cluster), clusterName=cluster)
