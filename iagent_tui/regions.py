"""Which AWS regions exist, read from botocore's own endpoint data (the partitions' region lists
and the regions where EKS has an endpoint), so a new region arrives with a botocore upgrade instead
of an edit to a hand-written list. A made-up region such as us-east-7 matches the region pattern
and would only fail later, at the endpoint (HTTP 500 or a DNS error), after part of a plan ran."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

HOW_TO_LIST = "list them with `aws ec2 describe-regions --all-regions --query 'Regions[].RegionName'`"


@lru_cache(maxsize=1)
def botocore_data() -> Any:
    """One botocore data loader per process, so its files (endpoints.json alone is 1.2 MB of JSON)
    are parsed once for this check and every AWS session (connection.AwsTarget.session)."""
    import botocore.session

    return botocore.session.get_session().get_component("data_loader")


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    import botocore.session

    session = botocore.session.get_session()
    session.register_component("data_loader", botocore_data())
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("eks", partition_name=partition))
    for partition in session.get_data("endpoints").get("partitions", ()):
        regions.update(partition.get("regions", {}))
    return frozenset(regions)


def is_known_region(name: str) -> bool:
    return name in known_regions()
