"""Pure functions over Kubernetes/EKS JSON that answer an operator's questions: what size and
cost a pod has on Fargate, whether and where it can run there, how long pods take to start.

No I/O, no Textual, no AWS/Kubernetes clients. Kubernetes objects are the API's JSON dicts
(camelCase), EKS objects the EKS API's JSON shape. The sandbox's fargate-scheduler uses
``fargate_size``, ``match_profile`` and ``fargate_rejection_reasons`` so there is one
implementation of each documented rule.
"""

from .profiles import PROFILE_LABEL, match_profile, matching_profiles
from .rejection import MESSAGE_PREFIX, UNSUPPORTED_REASON, fargate_rejection_reasons, rejection_message
from .sizing import (
    CAPACITY_PROVISIONED_ANNOTATION,
    TOO_LARGE_MESSAGE,
    TOO_LARGE_REASON,
    FargateSize,
    fargate_size,
    parse_capacity_provisioned,
    pod_request,
)

__all__ = [
    "CAPACITY_PROVISIONED_ANNOTATION",
    "MESSAGE_PREFIX",
    "PROFILE_LABEL",
    "TOO_LARGE_MESSAGE",
    "TOO_LARGE_REASON",
    "UNSUPPORTED_REASON",
    "FargateSize",
    "fargate_rejection_reasons",
    "fargate_size",
    "match_profile",
    "matching_profiles",
    "parse_capacity_provisioned",
    "pod_request",
    "rejection_message",
]
