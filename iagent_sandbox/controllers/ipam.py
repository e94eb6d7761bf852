"""IP addresses for pods and Fargate nodes, from the VPC subnets that moto holds.

Like the VPC CNI, every pod gets a secondary address of its node's subnet, and a Fargate pod's
address is its microVM's address (hostIP == podIP, DOMAIN.md 3.7). Addresses are drawn from a
stream keyed by the object's uid, so a seed replays the same addresses; AWS reserves the first
four and the last address of every subnet.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from . import kubeutil as ku

_CACHE_KEY = "ipam.subnets"


def _ec2(world) -> Any:
    return world.aws.backend("ec2")


def subnet_info(world, subnet_id: str) -> tuple[str, str]:
    """(CIDR block, availability zone) of a subnet; cached because subnets never change shape."""
    cache = world.extras.setdefault(_CACHE_KEY, {})
    if subnet_id not in cache:
        subnet = _ec2(world).get_subnet(subnet_id)
        cache[subnet_id] = (subnet.cidr_block, subnet.availability_zone)
    return cache[subnet_id]


def subnet_for_ip(world, ip: str) -> str:
    """The CIDR of the VPC subnet holding ``ip`` (a node's InternalIP). Falls back to the
    enclosing /24 when no subnet is known, so a hand-made node still gets usable pod addresses."""
    address = ipaddress.ip_address(ip)
    try:
        subnets = list(_ec2(world).describe_subnets())
    except Exception:  # noqa: BLE001 - no AWS side (a store-only unit test): use the /24
        subnets = []
    for subnet in subnets:
        if address in ipaddress.ip_network(subnet.cidr_block):
            return subnet.cidr_block
    return str(ipaddress.ip_network(f"{ip}/24", strict=False))


_POOL_KEY = "ipam.pod_ips"


def _pod_ips(world) -> set[str]:
    """Addresses handed to pods, kept in memory (listing every pod per allocation would make
    a large rollout quadratic); seeded once from the store, then kept by allocate/release."""
    pool = world.extras.get(_POOL_KEY)
    if pool is None:
        pool = set()
        pods = world.store.scan(ku.PODS)
        for pod in pods:
            status = pod.get("status") or {}
            pool.update(ip for ip in (status.get("podIP"), status.get("hostIP")) if ip)
        world.extras[_POOL_KEY] = pool
    return pool


def used_ips(world) -> set[str]:
    nodes = world.store.scan(ku.NODES)
    return _pod_ips(world) | {ip for node in nodes if (ip := ku.node_internal_ip(node))}


def release_ip(world, ip: str | None) -> None:
    if ip:
        _pod_ips(world).discard(ip)


def allocate_ip(world, cidr: str, key: str, used: set[str] | None = None) -> str:
    network = ipaddress.ip_network(cidr)
    used = used_ips(world) if used is None else used
    first, last = int(network.network_address) + 4, int(network.broadcast_address) - 1
    if last < first:
        raise ValueError(f"subnet {cidr} is too small to hold addresses")
    rng = world.clock.rng(f"ip:{key}")
    for _ in range(256):
        candidate = str(ipaddress.ip_address(rng.randint(first, last)))
        if candidate not in used:
            return _take(world, candidate)
    for value in range(first, last + 1):  # nearly full subnet: take the first free address
        candidate = str(ipaddress.ip_address(value))
        if candidate not in used:
            return _take(world, candidate)
    raise RuntimeError(f"subnet {cidr} has no free address left")


def _take(world, ip: str) -> str:
    _pod_ips(world).add(ip)
    return ip


def private_subnets(world) -> list[str]:
    """Subnets tagged for internal load balancers (the EKS convention for private subnets)."""
    try:
        subnets = list(_ec2(world).describe_subnets())
    except Exception:  # noqa: BLE001 - no AWS side
        return []
    found = []
    for subnet in subnets:
        tags = {t["Key"]: t["Value"] for t in subnet.get_tags()} if hasattr(subnet, "get_tags") else {}
        if tags.get("kubernetes.io/role/internal-elb") == "1":
            found.append(subnet.id)
    if not found:
        raise ValueError("no private subnet (tag kubernetes.io/role/internal-elb=1) to launch Fargate pods in")
    return sorted(found)
