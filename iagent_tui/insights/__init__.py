"""Pure functions over Kubernetes/EKS JSON that answer an operator's questions: what size and
cost a pod has on Fargate, whether and where it can run there, how long pods take to start.

No I/O, no Textual, no AWS/Kubernetes clients. Kubernetes objects are the API's JSON dicts
(camelCase), EKS objects the EKS API's JSON shape. The sandbox's fargate-scheduler uses
``fargate_size``, ``match_profile`` and ``fargate_rejection_reasons`` so there is one
implementation of each documented rule.
"""

from .compatibility import check_workloads, placement
from .cost import CostRollup, PodCost, pod_hourly_cost, rollup
from .findings import CHECKS, Finding, count_by_severity
from .pricing import HOURS_PER_MONTH, RateCard, rate_card
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
from .startup import StartPhases, StartStats, pod_start_phases, start_time_stats

__all__ = [
    "CAPACITY_PROVISIONED_ANNOTATION",
    "CHECKS",
    "HOURS_PER_MONTH",
    "MESSAGE_PREFIX",
    "PROFILE_LABEL",
    "TOO_LARGE_MESSAGE",
    "TOO_LARGE_REASON",
    "UNSUPPORTED_REASON",
    "CostRollup",
    "FargateSize",
    "Finding",
    "PodCost",
    "RateCard",
    "StartPhases",
    "StartStats",
    "check_workloads",
    "count_by_severity",
    "fargate_rejection_reasons",
    "fargate_size",
    "match_profile",
    "matching_profiles",
    "parse_capacity_provisioned",
    "placement",
    "pod_hourly_cost",
    "pod_request",
    "pod_start_phases",
    "rate_card",
    "rejection_message",
    "rollup",
    "start_time_stats",
]
