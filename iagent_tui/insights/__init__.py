"""Pure functions over a cluster Snapshot that answer an operator's questions: what size and cost
a pod has on Fargate, whether and where it can run there, what is broken now, how long pods take to
start, where the migration stands.

One entry point for every view: ``assess(snapshot, settings) -> Assessment``. No I/O, no Textual,
no AWS/Kubernetes clients. The sandbox keeps its own implementation of EKS's rules (it is the test
oracle); agreement between the two is evidence, not a copy.
"""

from .assessment import Assessment, Assessor, assess
from .compatibility import check_workloads, placement
from .cost import CostRollup, PodCost, pod_hourly_cost, rollup
from .finding import Finding, count_by_severity
from .findings import CHECKS
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
    "Assessment",
    "Assessor",
    "assess",
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
