"""EC2 on-demand prices and shapes for the instance types EKS node groups typically use.

Prices: USD per instance-hour, Linux, on-demand, shared tenancy, no Savings Plans or Reserved
Instances. Source: the AWS EC2 on-demand pricing page (https://aws.amazon.com/ec2/pricing/on-demand/)
as transcribed in public price tables found in code snapshots (checked 2026-12-02, find_string over
stored repositories). us-east-1 figures agree across every table found. eu-central-1 tables
disagree for t3 and c5 (t3.large 0.096 vs 0.0992/0.0999, c5.large 0.097 vs 0.102).

Decision on that disagreement (re-checked 2026-12-02 with the public sources reachable offline:
code snapshots via find_string, the docs and pages corpora; no AWS page or Price List record for
EUC1-BoxUsage on-demand rates was among them):
* t3: 0.096 for t3.large. T3 prices double exactly with each size in every region (us-east-1:
  0.0208, 0.0416, 0.0832) and every table agrees on eu-central-1 t3.small = 0.024, so t3.medium
  = 0.048 and t3.large = 0.096. The tables with t3.large 0.0992 also list t3.small 0.024 beside
  t3.medium 0.0496, which breaks that doubling; the one with 0.0999 is labelled us-gov-west-1
  (GovCloud), not Frankfurt.
* c5: 0.097 for c5.large, *unconfirmed*. 0.102 appears only in the tables above (with r5.large
  0.151 against 0.152 here) and 0.097 in none with provenance either; the difference is 5 %.
  The sandbox's node groups are t3 only, so none of its figures depend on it.
Confirm against the Price List API (``aws pricing get-products --service-code AmazonEC2``) before
a purchasing decision: every price is overridable in settings
(``pricing: {<region>: {ec2: {<instance type>: <usd per hour>}}}``).

Shapes (vCPU, memory GiB, max pods with the VPC CNI) are from the EC2 instance-type documentation
and the EKS AMI's eni-max-pods.txt; allocatable follows the EKS AMI bootstrap: kube-reserved CPU
6 % of the first core, 1 % of the second, 0.5 % of cores 3-4, 0.25 % above; kube-reserved memory
255 MiB + 11 MiB per max pod; eviction threshold 100 MiB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .quantities import GIB, MIB

PRICES_CHECKED = "2026-12-02"
PRICES_SOURCE = "AWS EC2 on-demand pricing (Linux), public transcriptions; see iagent_tui/insights/ec2_pricing.py"

EC2_PRICES: dict[str, dict[str, float]] = {
    "us-east-1": {
        "t3.small": 0.0208, "t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664, "t3.2xlarge": 0.3328,
        "m5.large": 0.096, "m5.xlarge": 0.192, "m5.2xlarge": 0.384, "m5.4xlarge": 0.768,
        "m6i.large": 0.096, "m6i.xlarge": 0.192, "m6i.2xlarge": 0.384, "m6i.4xlarge": 0.768,
        "c5.large": 0.085, "c5.xlarge": 0.17, "c5.2xlarge": 0.34,
        "r5.large": 0.126, "r5.xlarge": 0.252, "r5.2xlarge": 0.504,
    },
    "eu-central-1": {
        "t3.small": 0.024, "t3.medium": 0.048, "t3.large": 0.096, "t3.xlarge": 0.192, "t3.2xlarge": 0.384,
        "m5.large": 0.115, "m5.xlarge": 0.23, "m5.2xlarge": 0.46, "m5.4xlarge": 0.92,
        "m6i.large": 0.115, "m6i.xlarge": 0.23, "m6i.2xlarge": 0.46, "m6i.4xlarge": 0.92,
        "c5.large": 0.097, "c5.xlarge": 0.194, "c5.2xlarge": 0.388,
        "r5.large": 0.152, "r5.xlarge": 0.304, "r5.2xlarge": 0.608,
    },
}


@dataclass(frozen=True)
class InstanceShape:
    vcpu: int
    memory_gib: float
    max_pods: int

    @property
    def allocatable_millicores(self) -> int:
        reserved = sum(60 if core == 1 else 10 if core == 2 else 5 if core <= 4 else 2.5
                       for core in range(1, self.vcpu + 1))
        return self.vcpu * 1000 - int(reserved)

    @property
    def allocatable_bytes(self) -> int:
        return int(self.memory_gib * GIB) - (255 + 11 * self.max_pods + 100) * MIB


SHAPES: dict[str, InstanceShape] = {
    "t3.small": InstanceShape(2, 2, 11), "t3.medium": InstanceShape(2, 4, 17),
    "t3.large": InstanceShape(2, 8, 35), "t3.xlarge": InstanceShape(4, 16, 58), "t3.2xlarge": InstanceShape(8, 32, 58),
    "m5.large": InstanceShape(2, 8, 29), "m5.xlarge": InstanceShape(4, 16, 58),
    "m5.2xlarge": InstanceShape(8, 32, 58), "m5.4xlarge": InstanceShape(16, 64, 234),
    "m6i.large": InstanceShape(2, 8, 29), "m6i.xlarge": InstanceShape(4, 16, 58),
    "m6i.2xlarge": InstanceShape(8, 32, 58), "m6i.4xlarge": InstanceShape(16, 64, 234),
    "c5.large": InstanceShape(2, 4, 29), "c5.xlarge": InstanceShape(4, 8, 58), "c5.2xlarge": InstanceShape(8, 16, 58),
    "r5.large": InstanceShape(2, 16, 29), "r5.xlarge": InstanceShape(4, 32, 58), "r5.2xlarge": InstanceShape(8, 64, 58),
}


def ec2_prices(region: str, overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, float]:
    """Instance type -> USD/hour for ``region``: the table above with ``pricing.<region>.ec2``
    applied. An unknown region gives what the overrides name (possibly nothing)."""
    prices = dict(EC2_PRICES.get(region, {}))
    for instance_type, price in ((overrides or {}).get(region, {}) or {}).get("ec2", {}).items():
        if isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0:
            raise ValueError(f"EC2 price for {instance_type} in {region} must be a non-negative number, got {price!r}")
        prices[instance_type] = float(price)
    return prices


__all__ = ["EC2_PRICES", "PRICES_CHECKED", "PRICES_SOURCE", "SHAPES", "InstanceShape", "ec2_prices"]
