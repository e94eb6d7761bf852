"""Fargate profiles: the validation, status lifecycle and one-at-a-time rule that moto lacks.

moto stores the profiles (and serialises them); this layer checks a create before moto sees it,
turns moto's instant ACTIVE into CREATING for a drawn duration, and turns moto's instant delete into
DELETING. Status is settled lazily from deadlines on the sandbox clock whenever anyone looks (every
request and every accessor does, under the engine lock), so no timer has to cross threads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..clock import SandboxClock
from . import eks_errors as err
from .engine import HttpReply, HttpRequest, MotoEngine
from .network import find_subnet, is_private
from .simtime import aware, moto_now
from .timings import AwsTimings
from .trust import FARGATE_PODS_PRINCIPAL, allows_service

MAX_PROFILES_PER_CLUSTER = 10
MAX_SELECTORS = 5
MAX_LABELS = 5
IN_FLIGHT = ("CREATING", "DELETING")
_ROLE_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?P<rest>.+)$")


@dataclass
class _Transition:
    kind: str  # "create" or "delete"
    deadline: float  # clock.elapsed() at which it completes


class FargateProfiles:
    def __init__(self, engine: MotoEngine, clock: SandboxClock, timings: AwsTimings) -> None:
        self.engine = engine
        self.clock = clock
        self.timings = timings
        self._transitions: dict[tuple[str, str], _Transition] = {}

    # -- lazy lifecycle --------------------------------------------------------------------
    def settle(self) -> None:
        if not self._transitions:
            return
        now = self.clock.elapsed()
        eks = self.engine.backend("eks")
        for (cluster_name, name), transition in list(self._transitions.items()):
            cluster = eks.clusters.get(cluster_name)
            profile = cluster.fargate_profiles.get(name) if cluster else None
            if profile is None:
                del self._transitions[(cluster_name, name)]
                continue
            if now < transition.deadline:
                continue
            if transition.kind == "create":
                profile.status = "ACTIVE"
            else:
                eks.delete_fargate_profile(cluster_name=cluster_name, fargate_profile_name=name)
            del self._transitions[(cluster_name, name)]

    def in_flight(self, cluster: Any) -> tuple[str, str] | None:
        """(profile name, status) of a profile that blocks another create/delete, if any."""
        for name in sorted(cluster.fargate_profiles):
            status = cluster.fargate_profiles[name].status
            if status in IN_FLIGHT:
                return name, status
        return None

    def force_active(self, cluster_name: str, name: str) -> None:
        """Used by scenario seeding: a profile that has existed for a while."""
        self._transitions.pop((cluster_name, name), None)
        self.engine.backend("eks").clusters[cluster_name].fargate_profiles[name].status = "ACTIVE"

    # -- API -------------------------------------------------------------------------------
    def create(self, request: HttpRequest, cluster_name: str) -> HttpReply:
        eks = self.engine.backend("eks")
        cluster = eks.clusters.get(cluster_name)
        if cluster is None:
            raise err.cluster_not_found(cluster_name)
        body = request.json
        name = body.get("fargateProfileName") or ""
        if name in cluster.fargate_profiles:
            raise err.ResourceInUse(err.PROFILE_EXISTS, clusterName=cluster_name)
        busy = self.in_flight(cluster)
        if busy:
            other, status = busy
            raise err.ResourceInUse(
                err.PROFILE_BUSY_CREATE.format(
                    profile=name, cluster=cluster_name, other=other, status=status
                ),
                clusterName=cluster_name,
            )
        if len(cluster.fargate_profiles) >= MAX_PROFILES_PER_CLUSTER:
            raise err.ResourceLimitExceeded(err.PROFILE_LIMIT, clusterName=cluster_name)
        self._check_selectors(body.get("selectors") or [], cluster_name, name)
        self._check_role(body.get("podExecutionRoleArn") or "", cluster_name, name)
        body["subnets"] = self._check_subnets(cluster, body.get("subnets"), name)

        forwarded = HttpRequest(
            request.method, request.path, request.query_string, request.headers,
            json.dumps(body).encode(), request.service,
        )
        reply = self.engine.call(forwarded)
        if reply.status != 200:
            return reply
        profile = cluster.fargate_profiles[name]
        profile.status = "CREATING"
        profile.created_at = moto_now(self.clock)
        duration = self.timings.draw(self.clock, "profile_create", f"profile:{name}")
        self._transitions[(cluster_name, name)] = _Transition(
            "create", self.clock.elapsed() + duration
        )
        return self._describe(request, cluster_name, name)

    def delete(self, request: HttpRequest, cluster_name: str, name: str) -> HttpReply:
        eks = self.engine.backend("eks")
        cluster = eks.clusters.get(cluster_name)
        if cluster is None:
            raise err.cluster_not_found(cluster_name)
        if name not in cluster.fargate_profiles:
            raise err.ResourceNotFound(
                err.PROFILE_NOT_FOUND.format(profile=name),
                clusterName=cluster_name, fargateProfileName=name,
            )
        busy = self.in_flight(cluster)
        if busy:
            other, status = busy
            raise err.ResourceInUse(
                err.PROFILE_BUSY_DELETE.format(
                    profile=name, cluster=cluster_name, other=other, status=status
                ),
                clusterName=cluster_name,
            )
        cluster.fargate_profiles[name].status = "DELETING"
        duration = self.timings.draw(self.clock, "profile_delete", f"profile-delete:{name}")
        self._transitions[(cluster_name, name)] = _Transition(
            "delete", self.clock.elapsed() + duration
        )
        return self._describe(request, cluster_name, name)

    def _describe(self, request: HttpRequest, cluster_name: str, name: str) -> HttpReply:
        path = f"/clusters/{cluster_name}/fargate-profiles/{name}"
        return self.engine.call(HttpRequest("GET", path, "", request.headers, b"", request.service))

    # -- validation ------------------------------------------------------------------------
    @staticmethod
    def _check_selectors(selectors: list[dict[str, Any]], cluster: str, name: str) -> None:
        def invalid(message: str) -> err.InvalidParameter:
            return err.InvalidParameter(message, clusterName=cluster, fargateProfileName=name)

        if not selectors:
            raise invalid(err.PROFILE_NEEDS_SELECTOR)
        if len(selectors) > MAX_SELECTORS:
            raise invalid(
                f"Fargate Profile has {len(selectors)} selectors; "
                f"a profile can have at most {MAX_SELECTORS} selectors."
            )
        for selector in selectors:
            if not selector.get("namespace"):
                raise invalid(err.PROFILE_SELECTOR_NEEDS_NAMESPACE)
            if len(selector.get("labels") or {}) > MAX_LABELS:
                raise invalid(err.PROFILE_TOO_MANY_LABELS)

    def _check_role(self, role_arn: str, cluster_name: str, name: str) -> None:
        def invalid(message: str) -> err.InvalidParameter:
            return err.InvalidParameter(message, clusterName=cluster_name, fargateProfileName=name)

        match = _ROLE_ARN.match(role_arn)
        if not match:
            raise invalid(f"Invalid Role Arn: '{role_arn}'")
        if "/" in match.group("rest"):
            raise invalid(
                f"Invalid Role Arn: '{role_arn}'. The pod execution role ARN can't include a "
                "path other than '/'."
            )
        iam = self.engine.backend("iam")
        role = next((r for r in iam.get_roles() if r.arn == role_arn), None)
        region, account = self.engine.region, self.engine.account_id
        profile_arn = (
            f"arn:aws:eks:{region}:{account}:fargateprofile/{cluster_name}/{name}/"
            "00000000-0000-0000-0000-000000000000"
        )
        context = {"aws:sourcearn": profile_arn, "aws:sourceaccount": account}
        if role is None or not allows_service(
            role.assume_role_policy_document, FARGATE_PODS_PRINCIPAL, context
        ):
            raise invalid(err.POD_ROLE_TRUST)

    def _check_subnets(self, cluster: Any, subnet_ids: list[str] | None, name: str) -> list[str]:
        ec2 = self.engine.backend("ec2")
        cluster_subnets = list((cluster.resources_vpc_config or {}).get("subnetIds") or [])
        cluster_vpcs = {s.vpc_id for s in (find_subnet(ec2, i) for i in cluster_subnets) if s}

        def invalid(message: str) -> err.InvalidParameter:
            return err.InvalidParameter(message, clusterName=cluster.name, fargateProfileName=name)

        if not subnet_ids:
            # Like the console and eksctl: default to the cluster's private subnets.
            subnet_ids = [
                i for i in cluster_subnets
                if (s := find_subnet(ec2, i)) is not None and is_private(ec2, s)
            ]
            if not subnet_ids:
                raise invalid(
                    "Fargate Profile requires at least one private subnet, and the cluster "
                    f"{cluster.name} has none; pass --subnets with private subnet IDs."
                )
        for subnet_id in subnet_ids:
            subnet = find_subnet(ec2, subnet_id)
            if subnet is None:
                raise invalid(f"The subnet ID '{subnet_id}' does not exist")
            if cluster_vpcs and subnet.vpc_id not in cluster_vpcs:
                raise invalid(
                    f"Subnet {subnet_id} provided in Fargate Profile is not in the cluster's VPC "
                    f"({', '.join(sorted(cluster_vpcs))})"
                )
            if not is_private(ec2, subnet):
                raise invalid(err.PROFILE_SUBNET_NOT_PRIVATE.format(subnet=subnet_id))
        return list(subnet_ids)

    # -- accessor --------------------------------------------------------------------------
    def as_dicts(self, cluster_name: str) -> list[dict[str, Any]]:
        cluster = self.engine.backend("eks").clusters.get(cluster_name)
        if cluster is None:
            return []
        return [profile_dict(cluster.fargate_profiles[n]) for n in sorted(cluster.fargate_profiles)]


def profile_dict(profile: Any) -> dict[str, Any]:
    return {
        "fargateProfileName": profile.fargate_profile_name,
        "fargateProfileArn": profile.fargate_profile_arn,
        "clusterName": profile.cluster_name,
        "createdAt": aware(profile.created_at),
        "podExecutionRoleArn": profile.pod_execution_role_arn,
        "subnets": list(profile.subnets or []),
        "selectors": [dict(s) for s in profile.selectors or []],
        "status": profile.status,
        "tags": dict(profile.tags or {}),
        "health": {"issues": []},
    }
