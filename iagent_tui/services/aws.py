"""AWS reads on aiobotocore: the cluster, Fargate profiles, node groups, add-ons, load balancers,
target groups with target health, and the IAM lookups findings need.

One session, one client per service created on first use and closed by ``close()`` (or by leaving
``async with``). With a CallBudget, every request of those clients waits for room in it (botocore's
before-call event: each page of a list is one request). Throttling is retried inside botocore
(adaptive retry mode: client-side rate limiting plus exponential back-off); whatever still fails
is raised as a ServiceError.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Any

from botocore.config import Config

from ..model import (
    Addon,
    ClusterInfo,
    FargateProfile,
    HealthIssue,
    LoadBalancer,
    NodeGroup,
    Selector,
    Target,
    TargetGroup,
    frozen_map,
)
from .call_budget import CallBudget
from .connection import AwsTarget
from .errors import ServiceError, from_aws

RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 6},
    connect_timeout=5,
    read_timeout=20,
    user_agent_extra="iagent-tui",
)


def _issues(health: dict | None) -> tuple[HealthIssue, ...]:
    return tuple(
        HealthIssue(i.get("code", ""), i.get("message", ""), tuple(i.get("resourceIds") or ()))
        for i in (health or {}).get("issues") or ()
    )


def cluster_from_api(c: dict, region: str) -> ClusterInfo:
    return ClusterInfo(
        name=c.get("name", ""),
        region=region,
        status=c.get("status", ""),
        version=c.get("version", ""),
        endpoint=c.get("endpoint", ""),
        oidc_issuer=((c.get("identity") or {}).get("oidc") or {}).get("issuer", ""),
        arn=c.get("arn", ""),
        ca_data=(c.get("certificateAuthority") or {}).get("data") or "",
    )


def profile_from_api(p: dict, status_since: datetime | None = None) -> FargateProfile:
    name = p.get("fargateProfileName")
    if not isinstance(name, str) or not name:
        raise ValueError(f"Fargate profile without a fargateProfileName: {dict(p)!r}")
    return FargateProfile(
        name=name,
        status=p.get("status", ""),
        selectors=tuple(Selector(s.get("namespace", ""), frozen_map(s.get("labels"))) for s in p.get("selectors") or ()),
        subnets=tuple(p.get("subnets") or ()),
        pod_execution_role_arn=p.get("podExecutionRoleArn", ""),
        created_at=p.get("createdAt"),
        status_since=status_since,
        arn=p.get("fargateProfileArn", ""),
        health_issues=_issues(p.get("health")),
        raw=frozen_map(p),
    )


def nodegroup_from_api(g: dict) -> NodeGroup:
    scaling = g.get("scalingConfig") or {}
    return NodeGroup(
        name=g["nodegroupName"],
        status=g.get("status", ""),
        desired=int(scaling.get("desiredSize", 0) or 0),
        min=int(scaling.get("minSize", 0) or 0),
        max=int(scaling.get("maxSize", 0) or 0),
        instance_types=tuple(g.get("instanceTypes") or ()),
    )


def addon_from_api(a: dict) -> Addon:
    raw = a.get("configurationValues") or ""
    try:
        config = json.loads(raw) if raw.strip() else {}
    except ValueError:
        config = {}  # EKS validates against the add-on schema; a non-JSON value is shown raw elsewhere
    if not isinstance(config, dict):
        config = {}
    return Addon(
        name=a["addonName"],
        status=a.get("status", ""),
        version=a.get("addonVersion", ""),
        configuration=frozen_map(config),
        compute_type=str(config.get("computeType", "") or ""),
        health_issues=_issues(a.get("health")),
        raw=frozen_map(a),
    )


def load_balancer_from_api(lb: dict) -> LoadBalancer:
    return LoadBalancer(
        name=lb.get("LoadBalancerName", ""),
        arn=lb.get("LoadBalancerArn", ""),
        dns_name=lb.get("DNSName", ""),
        state=(lb.get("State") or {}).get("Code", ""),
        scheme=lb.get("Scheme", ""),
    )


def target_from_api(d: dict) -> Target:
    health = d.get("TargetHealth") or {}
    target = d.get("Target") or {}
    return Target(
        id=target.get("Id", ""),
        port=int(target.get("Port", 0) or 0),
        state=health.get("State", ""),
        reason=health.get("Reason", "") or "",
        description=health.get("Description", "") or "",
    )


class AwsServices:
    """Async AWS reads for one account/region. Use as ``async with AwsServices(target) as aws``."""

    def __init__(self, target: AwsTarget, session: Any | None = None, config: Config | None = None,
                 budget: CallBudget | None = None) -> None:
        self.target = target
        self.budget = budget
        self._session = session or target.session()
        self._config = config or RETRY_CONFIG
        self._stack = AsyncExitStack()
        self._clients: dict[str, Any] = {}
        self._lock = asyncio.Lock()

    @property
    def session(self) -> Any:
        return self._session

    async def __aenter__(self) -> AwsServices:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._clients.clear()
        await self._stack.aclose()
        self._stack = AsyncExitStack()

    async def client(self, service: str) -> Any:
        if service not in self._clients:
            async with self._lock:
                if service not in self._clients:
                    creator = self._session.create_client(
                        service, region_name=self.target.region, endpoint_url=self.target.endpoint_url, config=self._config
                    )
                    client = await self._stack.enter_async_context(creator)
                    if self.budget is not None:
                        client.meta.events.register("before-call", self.budget.before_call)
                    self._clients[service] = client
        return self._clients[service]

    async def _call(self, service: str, op: str, action: str, target: str = "", **params: Any) -> dict:
        try:
            client = await self.client(service)
            return await getattr(client, op)(**params)
        except ServiceError:
            raise
        except Exception as exc:
            raise from_aws(exc, action, target) from None

    async def _paginate(self, service: str, op: str, key: str, action: str, target: str = "", **params: Any) -> list:
        items: list = []
        try:
            client = await self.client(service)
            async for page in client.get_paginator(op).paginate(**params):
                items.extend(page.get(key) or ())
        except ServiceError:
            raise
        except Exception as exc:
            raise from_aws(exc, action, target) from None
        return items

    # -- EKS ------------------------------------------------------------------------------
    async def describe_cluster_raw(self, cluster: str) -> dict:
        out = await self._call("eks", "describe_cluster", "describe the EKS cluster", cluster, name=cluster)
        return out["cluster"]

    async def describe_cluster(self, cluster: str) -> ClusterInfo:
        return cluster_from_api(await self.describe_cluster_raw(cluster), self.target.region)

    async def fargate_profiles(self, cluster: str) -> tuple[FargateProfile, ...]:
        names = await self._paginate(
            "eks", "list_fargate_profiles", "fargateProfileNames", "list Fargate profiles", cluster, clusterName=cluster
        )
        raws = await asyncio.gather(*(self.describe_fargate_profile_raw(cluster, n) for n in names), return_exceptions=True)
        profiles = []
        for name, raw in zip(names, raws):
            if isinstance(raw, ServiceError) and raw.kind == "not_found":
                continue  # deleted between list and describe: simply gone
            if isinstance(raw, BaseException):
                raise raw
            profiles.append(profile_from_api(raw))
        return tuple(sorted(profiles, key=lambda p: p.name))

    async def fargate_profile_names(self, cluster: str) -> tuple[str, ...]:
        """One cheap call (no describes): enough to notice a profile created or deleted elsewhere."""
        names = await self._paginate(
            "eks", "list_fargate_profiles", "fargateProfileNames", "list Fargate profiles", cluster, clusterName=cluster
        )
        return tuple(sorted(names))

    async def describe_fargate_profile_raw(self, cluster: str, name: str) -> dict:
        out = await self._call(
            "eks", "describe_fargate_profile", "describe the Fargate profile", f"{cluster}/{name}",
            clusterName=cluster, fargateProfileName=name,
        )
        return out["fargateProfile"]

    async def nodegroups(self, cluster: str) -> tuple[NodeGroup, ...]:
        names = await self._paginate("eks", "list_nodegroups", "nodegroups", "list node groups", cluster, clusterName=cluster)
        return tuple(sorted(await asyncio.gather(*(self.nodegroup(cluster, n) for n in names)), key=lambda g: g.name))

    async def nodegroup(self, cluster: str, name: str) -> NodeGroup:
        out = await self._call("eks", "describe_nodegroup", "describe the node group", f"{cluster}/{name}",
                               clusterName=cluster, nodegroupName=name)
        return nodegroup_from_api(out["nodegroup"])

    async def addons(self, cluster: str) -> tuple[Addon, ...]:
        names = await self._paginate("eks", "list_addons", "addons", "list EKS add-ons", cluster, clusterName=cluster)
        return tuple(await asyncio.gather(*(self.addon(cluster, n) for n in names)))

    async def addon(self, cluster: str, name: str) -> Addon:
        return addon_from_api(await self.describe_addon_raw(cluster, name))

    async def describe_addon_raw(self, cluster: str, name: str) -> dict:
        out = await self._call("eks", "describe_addon", "describe the EKS add-on", f"{cluster}/{name}", clusterName=cluster, addonName=name)
        return out["addon"]

    # -- ELBv2 ----------------------------------------------------------------------------
    async def load_balancers(self) -> tuple[LoadBalancer, ...]:
        lbs = await self._paginate("elbv2", "describe_load_balancers", "LoadBalancers", "list load balancers")
        return tuple(sorted((load_balancer_from_api(lb) for lb in lbs), key=lambda lb: lb.name))

    async def target_groups(self, with_health: bool = True) -> tuple[TargetGroup, ...]:
        """Every target group with its targets' health; the LB name is the first attached LB."""
        tgs = await self._paginate("elbv2", "describe_target_groups", "TargetGroups", "list target groups")
        lb_names: dict[str, str] = {}
        if any(tg.get("LoadBalancerArns") for tg in tgs):
            lb_names = {lb.arn: lb.name for lb in await self.load_balancers()}
        healths = await asyncio.gather(*(self.target_health(tg["TargetGroupArn"]) for tg in tgs)) if with_health else [()] * len(tgs)
        result = [
            TargetGroup(
                name=tg.get("TargetGroupName", ""),
                arn=tg["TargetGroupArn"],
                lb_name=next((lb_names.get(a, "") for a in tg.get("LoadBalancerArns") or ()), ""),
                target_type=tg.get("TargetType", ""),
                targets=health,
            )
            for tg, health in zip(tgs, healths)
        ]
        return tuple(sorted(result, key=lambda t: t.name))

    async def target_health(self, target_group_arn: str) -> tuple[Target, ...]:
        out = await self._call("elbv2", "describe_target_health", "read target health", target_group_arn, TargetGroupArn=target_group_arn)
        return tuple(sorted((target_from_api(d) for d in out.get("TargetHealthDescriptions") or ()), key=lambda t: (t.id, t.port)))

    # -- IAM / EC2 (for findings and actions) ------------------------------------------------
    async def role(self, name: str) -> dict | None:
        """The IAM role (AssumeRolePolicyDocument decoded to a dict), or None when it does not exist.
        Missing permission raises ServiceError(not_permitted): that is not "no role"."""
        try:
            out = await self._call("iam", "get_role", "read the IAM role", name, RoleName=name)
        except ServiceError as err:
            if err.kind == "not_found":
                return None
            raise
        role = dict(out["Role"])
        doc = role.get("AssumeRolePolicyDocument")
        if isinstance(doc, str):  # botocore decodes it; keep working if a layer did not
            from ..iam_policy import parse_policy

            role["AssumeRolePolicyDocument"] = dict(parse_policy(doc))
        return role

    async def attached_role_policies(self, name: str) -> tuple[str, ...]:
        items = await self._paginate("iam", "list_attached_role_policies", "AttachedPolicies", "list policies of the IAM role", name, RoleName=name)
        return tuple(sorted(p["PolicyArn"] for p in items))

    async def open_id_connect_providers(self) -> tuple[str, ...]:
        out = await self._call("iam", "list_open_id_connect_providers", "list IAM OIDC providers")
        return tuple(sorted(p["Arn"] for p in out.get("OpenIDConnectProviderList") or ()))

    async def subnets(self, vpc_id: str) -> tuple[dict, ...]:
        items = await self._paginate(
            "ec2", "describe_subnets", "Subnets", "list subnets", vpc_id, Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
        )
        return tuple(sorted(items, key=lambda s: s["SubnetId"]))

    async def subnets_by_id(self, subnet_ids: list[str]) -> tuple[dict, ...]:
        """The subnets that exist among ``subnet_ids`` (a filter, not SubnetIds=: a missing id is
        simply absent instead of failing the whole call, so the caller can name every missing one)."""
        items = await self._paginate("ec2", "describe_subnets", "Subnets", "read subnets", ", ".join(subnet_ids),
                                     Filters=[{"Name": "subnet-id", "Values": list(subnet_ids)}])
        return tuple(sorted(items, key=lambda s: s["SubnetId"]))

    async def route_tables(self, vpc_ids: list[str]) -> tuple[dict, ...]:
        items = await self._paginate("ec2", "describe_route_tables", "RouteTables", "list route tables",
                                     ", ".join(vpc_ids), Filters=[{"Name": "vpc-id", "Values": list(vpc_ids)}])
        return tuple(items)

    async def private_subnets(self, vpc_id: str) -> tuple[str, ...]:
        """Subnets tagged for internal load balancers (kubernetes.io/role/internal-elb=1): the subnets
        Fargate accepts (private, no route to an internet gateway) on a conventionally tagged VPC."""
        subnets = await self.subnets(vpc_id)
        return tuple(
            s["SubnetId"]
            for s in subnets
            if any(t.get("Key") == "kubernetes.io/role/internal-elb" and t.get("Value") in ("1", "") for t in s.get("Tags") or ())
        )
