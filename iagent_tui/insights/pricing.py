"""Fargate on-demand rates for EKS pods (Linux/x86 only: EKS Fargate has no ARM or Windows).

The rates are data with their source and the date they were checked (DOMAIN.md 2.2), so a reader
can tell how old a number is; configuration overrides any of them. Billing model (DOMAIN.md 2.1):
per second, with a one-minute minimum that the current AWS page no longer states, so it is a
setting (``min_billable_seconds``). Monthly figures use 730 hours, as eks-node-viewer does
(365 x 24 / 12).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

HOURS_PER_MONTH = 730.0
MIN_BILLABLE_SECONDS = 60


@dataclass(frozen=True)
class RateCard:
    """USD per hour for one region. ``ephemeral_gb_hour`` is None where no source confirms it."""

    region: str
    vcpu_hour: float
    gb_hour: float
    ephemeral_gb_hour: float | None
    source: str
    checked: str  # when the numbers were last checked against the source
    min_billable_seconds: int = MIN_BILLABLE_SECONDS

    def hourly(self, vcpu: float, memory_gb: float) -> float:
        """Price of one pod of this size for one hour (compute only)."""
        return vcpu * self.vcpu_hour + memory_gb * self.gb_hour

    def charge(self, hourly: float, seconds: float) -> float:
        """What a pod costs for a run of ``seconds``: per second, at least the minimum."""
        if seconds < 0:
            raise ValueError(f"run time must be non-negative, got {seconds} s")
        billed = max(math.ceil(seconds), self.min_billable_seconds)
        return hourly * billed / 3600


RATES: dict[str, RateCard] = {
    "us-east-1": RateCard(
        region="us-east-1",
        vcpu_hour=0.04048,
        gb_hour=0.004445,
        ephemeral_gb_hour=0.000111,
        source="AWS Price List usage types USE1-Fargate-vCPU-Hours:perCPU / USE1-Fargate-GB-Hours "
        "(code snapshots), Vantage Fargate pricing blog; DOMAIN.md 2.2",
        checked="DOMAIN.md 2.2 as of 2026-11-26 (sources undated)",
    ),
    "eu-central-1": RateCard(
        region="eu-central-1",
        vcpu_hour=0.04656,
        gb_hour=0.00511,
        ephemeral_gb_hour=None,  # EUC1-Fargate-EphemeralStorage-GB-Hours not confirmed by any source
        source="AWS Price List usage types EUC1-Fargate-vCPU-Hours:perCPU / EUC1-Fargate-GB-Hours "
        "(two independent code snapshots); DOMAIN.md 2.2",
        checked="price list snapshot dated 2026-07-07",
    ),
}

_OVERRIDABLE = ("vcpu_hour", "gb_hour", "ephemeral_gb_hour", "min_billable_seconds", "source", "checked")


def rate_card(region: str, overrides: Mapping[str, Mapping[str, Any]] | None = None) -> RateCard:
    """The rates for ``region``, with config overrides applied.

    ``overrides`` maps region -> {vcpu_hour, gb_hour, ephemeral_gb_hour, min_billable_seconds, ...}.
    A region absent from the built-in table is accepted when the overrides give at least
    vcpu_hour and gb_hour for it; otherwise ValueError names the known regions."""
    override = dict((overrides or {}).get(region) or {})
    override.pop("ec2", None)  # EC2 instance prices live beside the Fargate rates (ec2_pricing.py)
    unknown_keys = sorted(set(override) - set(_OVERRIDABLE))
    if unknown_keys:
        raise ValueError(
            f"unknown Fargate rate setting(s) {', '.join(unknown_keys)} for {region}; "
            f"expected some of: {', '.join(_OVERRIDABLE)}"
        )
    for key in ("vcpu_hour", "gb_hour", "ephemeral_gb_hour"):
        value = override.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            raise ValueError(f"Fargate rate {key} for {region} must be a non-negative number, got {value!r}")
    base = RATES.get(region)
    if base is None:
        if "vcpu_hour" not in override or "gb_hour" not in override:
            known = ", ".join(sorted({*RATES, *(overrides or {})}))
            raise ValueError(
                f"no Fargate rates for region {region!r}; known regions: {known}. "
                "Set vcpu_hour and gb_hour for it in the pricing overrides."
            )
        base = RateCard(region, 0.0, 0.0, None, source="configuration", checked="")
        override.setdefault("source", "configuration")
    elif override:
        override.setdefault("source", f"configuration (overriding: {base.source})")
    return replace(base, **override)
