"""What EKS checks about subnets, read from moto's EC2 model."""

from __future__ import annotations

from typing import Any


def route_tables_of(ec2: Any, subnet: Any) -> list[Any]:
    """The route table a subnet uses: its explicit association, else its VPC's main table."""
    tables = list(ec2.route_tables.values())
    explicit = [t for t in tables if subnet.id in t._associations.values()]
    if explicit:
        return explicit
    return [t for t in tables if t.vpc_id == subnet.vpc_id and t.main_association_id]


def has_internet_gateway_route(table: Any) -> bool:
    for route in table.routes:
        gateway = getattr(route, "gateway", None)
        if gateway is not None and str(getattr(gateway, "id", "")).startswith("igw-"):
            return True
    return False


def is_private(ec2: Any, subnet: Any) -> bool:
    """Private in EKS's sense: no direct route to an internet gateway (a NAT route is fine)."""
    return not any(has_internet_gateway_route(t) for t in route_tables_of(ec2, subnet))


def find_subnet(ec2: Any, subnet_id: str) -> Any | None:
    for subnets in ec2.subnets.values():  # moto keys subnets by availability zone
        if subnet_id in subnets:
            return subnets[subnet_id]
    return None
