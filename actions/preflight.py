"""Preflight: what every action checks before its plan reads anything else, so a wrong setting
is refused (InvalidInput, exit 2) while nothing has changed. It only reads.

- the EKS cluster exists in the region (EKS's own text: "No cluster found for name: …");
- the Kubernetes API in use is that cluster's (kubeconfig server and CA against describe-cluster):
  otherwise profiles would be created on one cluster and pods restarted on another;
- the configured subnets (fargate.subnets) exist, are in the cluster's VPC and are private
  ("only private subnets with no direct route to an Internet Gateway are accepted", DOMAIN.md 3.6).

The journal directory is checked by the command before it connects (journal_dir_problem), because
that check writes (it creates the directory) and the plan may only read.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from iagent_tui.services.cluster_match import cluster_mismatch
from iagent_tui.services.errors import ServiceError

from .base import InvalidInput
from .context import ActionContext

INTERNAL_ELB_TAG = "kubernetes.io/role/internal-elb"


async def preflight(ctx: ActionContext) -> None:
    cluster = await _cluster(ctx)
    kube = ctx.connection.kube
    mismatch = cluster_mismatch(kube.context, kube.server, kube.ca_data, ctx.cluster_name,
                                cluster.get("endpoint") or "", (cluster.get("certificateAuthority") or {}).get("data"))
    if mismatch:
        raise InvalidInput(f"Refusing to act: {mismatch}.")
    await check_subnets(ctx, (cluster.get("resourcesVpcConfig") or {}).get("vpcId", ""))


async def _cluster(ctx: ActionContext) -> dict:
    try:
        return await ctx.cluster()
    except ServiceError as err:
        if err.kind == "not_found":
            raise InvalidInput(f"No cluster found for name: {ctx.cluster_name}. (EKS, region {ctx.region}; "
                               "check cluster and region in iagent.yaml, IAGENT_CLUSTER or --cluster; "
                               "`aws eks list-clusters` lists them.)") from None
        raise


async def check_subnets(ctx: ActionContext, vpc_id: str) -> None:
    wanted = list(dict.fromkeys(ctx.settings.fargate.subnets))
    if not wanted:
        return  # discovered at plan time from the cluster's VPC (private ones only)
    found = {s["SubnetId"]: s for s in await ctx.aws.subnets_by_id(wanted)}
    missing = [s for s in wanted if s not in found]
    listing = f"`aws ec2 describe-subnets --filters Name=vpc-id,Values={vpc_id or '<vpc>'}` lists the cluster's subnets"
    if missing:
        raise InvalidInput(f"fargate.subnets: subnet {', '.join(missing)} does not exist in {ctx.region}; {listing}.")
    elsewhere = [s for s in wanted if vpc_id and found[s].get("VpcId") != vpc_id]
    if elsewhere:
        raise InvalidInput(f"fargate.subnets: subnet {elsewhere[0]} is in VPC {found[elsewhere[0]].get('VpcId')}, "
                           f"not in cluster {ctx.cluster_name}'s VPC {vpc_id}; {listing}.")
    public = await public_subnets(ctx, [found[s] for s in wanted])
    if public:
        subnet, why = next(iter(public.items()))
        raise InvalidInput(f"fargate.subnets: subnet {subnet} is not private ({why}); Fargate accepts only private "
                           "subnets with no direct route to an Internet Gateway: list private ones instead.")


async def public_subnets(ctx: ActionContext, subnets: list[dict]) -> dict[str, str]:
    """{subnet id: why it is not private}. Route tables decide, as they do for EKS: a subnet's
    explicitly associated table, else its VPC's main table, with a route to an igw-. The sandbox's
    EC2 (moto) models route tables, internet and NAT gateways, so this path is the one tested.
    Without permission to read route tables, fall back to the internal-elb tag (the convention
    the subnet discovery uses), and say that the tag is all that was checked."""
    try:
        tables = await ctx.aws.route_tables(sorted({s.get("VpcId", "") for s in subnets}))
    except ServiceError as err:
        if err.kind != "not_permitted":
            raise
        return {s["SubnetId"]: f"route tables not readable ({err.code}) and it is not tagged {INTERNAL_ELB_TAG}=1"
                for s in subnets if not _tagged_private(s)}
    out: dict[str, str] = {}
    for subnet in subnets:
        table = _route_table_of(subnet, tables)
        igw = next((r for r in (table or {}).get("Routes") or () if str(r.get("GatewayId", "")).startswith("igw-")), None)
        if igw is not None:
            out[subnet["SubnetId"]] = (f"route table {table.get('RouteTableId')} routes "
                                       f"{igw.get('DestinationCidrBlock') or igw.get('DestinationIpv6CidrBlock') or '?'} "
                                       f"to internet gateway {igw['GatewayId']}")
    return out


def _route_table_of(subnet: dict, tables: tuple[dict, ...]) -> dict | None:
    mine = [t for t in tables if t.get("VpcId") == subnet.get("VpcId")]
    for table in mine:
        if any(a.get("SubnetId") == subnet["SubnetId"] for a in table.get("Associations") or ()):
            return table
    return next((t for t in mine if any(a.get("Main") for a in t.get("Associations") or ())), None)


def _tagged_private(subnet: dict) -> bool:
    return any(t.get("Key") == INTERNAL_ELB_TAG and t.get("Value") in ("1", "") for t in subnet.get("Tags") or ())


def journal_dir_problem(path: Path) -> str:
    """"" when the journal can be written under ``path`` (created if missing), else one sentence
    naming the path and the setting. Tried for real (a temporary file), since permission bits do
    not tell the whole story (read-only mounts, ACLs, running as root)."""
    how = "set journal_dir in iagent.yaml, IAGENT_JOURNAL_DIR or --journal-dir to a writable directory"
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".iagent-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"The journal directory {path} cannot be written ({exc.strerror or type(exc).__name__}); {how}."
    return ""
