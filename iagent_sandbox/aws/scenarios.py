"""AWS side of the sandbox scenarios, built through the real AWS API (boto3 against the
dispatcher) so every seeded object is one a client could have created; only what no API can set
(creation dates in the past, an add-on that has been ACTIVE for months) is adjusted directly."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from ..clock import SandboxClock
from .dispatcher import Dispatcher
from .iam_documents import (
    LOAD_BALANCER_CONTROLLER_POLICY,
    irsa_trust,
    pod_execution_trust,
    service_trust,
)
from .local_client import local_client
from .simtime import moto_now

SCENARIOS = ("pre-migration", "migrated", "broken", "large")
# The large scenario's profiles: one per tenant namespace, EKS's limit of ten per cluster
# (see scenario_large.py); the iAgent workloads and CoreDNS stay on EC2 there.
LARGE_TENANT_PROFILES = [f"fp-tenant-{i:02d}" for i in range(10)]
KUBERNETES_VERSION = "1.31"
NODEGROUP = "existing-nodes"
POD_EXECUTION_ROLE = "AmazonEKSFargatePodExecutionRole"
LBC_POLICY = "AWSLoadBalancerControllerIAMPolicy"
LBC_ROLE = "AmazonEKSLoadBalancerControllerRole"
# Thumbprint of the root CA behind oidc.eks.*.amazonaws.com, as eksctl and the console record it.
OIDC_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
ADDON_VERSIONS = {"coredns": "v1.11.3-eksbuild.2", "kube-proxy": "v1.31.2-eksbuild.3", "vpc-cni": "v1.19.0-eksbuild.1"}
KUBE_SYSTEM_SELECTORS = [
    {"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
    {"namespace": "kube-system", "labels": {"app.kubernetes.io/name": "aws-load-balancer-controller"}},
]


def oidc_id(seed: int, cluster: str, region: str) -> str:
    return hashlib.sha256(f"{seed}:{region}:{cluster}".encode()).hexdigest()[:32].upper()


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


class ScenarioSeeder:
    def __init__(self, dispatcher: Dispatcher, clock: SandboxClock, *, region: str, account_id: str,
                 access_key_id: str, secret_access_key: str) -> None:
        self.dispatcher = dispatcher
        self.clock = clock
        self.region = region
        self.account_id = account_id

        def client(service: str) -> Any:
            return local_client(service, dispatcher.handle, region=region,
                                access_key_id=access_key_id, secret_access_key=secret_access_key)

        self.ec2, self.iam, self.eks = client("ec2"), client("iam"), client("eks")

    def seed(self, scenario: str, cluster: str) -> dict[str, Any]:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown AWS scenario {scenario!r}; expected one of {', '.join(SCENARIOS)}")
        if cluster in self.dispatcher.engine.backend("eks").clusters:
            raise ValueError(f"cluster {cluster!r} is already seeded in this sandbox")
        ids = self._network(cluster)
        ids.update(self._cluster(cluster, ids))
        ids.update(pod_execution_role_arn=None, oidc_provider_arn=None, lbc_policy_arn=None,
                   lbc_role_arn=None, fargate_profiles=[])
        if scenario in ("migrated", "broken", "large"):
            ids["pod_execution_role_arn"] = self._pod_execution_role(cluster)
            names = ["fp-default", "fp-prod"] + (["fp-staging", "fp-kube-system"] if scenario == "migrated" else [])
            if scenario == "large":  # ten tenants, ten profiles: EKS's limit per cluster
                names = LARGE_TENANT_PROFILES
            ids["fargate_profiles"] = self._profiles(cluster, names, ids)
            if scenario != "large":  # large keeps CoreDNS and the iAgent workloads on EC2
                self._coredns_on_fargate(cluster)
            ids.update(self._load_balancer_controller_iam(ids["oidc_issuer"]))
        with self.dispatcher.engine.lock:
            self.dispatcher.addons.notifications.clear()  # seeded state is the starting point, not news
        return ids

    # -- network -----------------------------------------------------------------------------
    def _network(self, cluster: str) -> dict[str, Any]:
        ec2, shared = self.ec2, {f"kubernetes.io/cluster/{cluster}": "shared"}
        vpc_id = ec2.create_vpc(
            CidrBlock="10.0.0.0/16",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": _tags({"Name": f"{cluster}-vpc", **shared})}],
        )["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
        igw = ec2.create_internet_gateway(
            TagSpecifications=[{"ResourceType": "internet-gateway", "Tags": _tags({"Name": f"{cluster}-igw"})}]
        )["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)

        zones = (f"{self.region}a", f"{self.region}b")
        public, private = [], []
        for i, zone in enumerate(zones):
            public.append(self._subnet(vpc_id, f"10.0.{i * 32}.0/19", zone, f"{cluster}-public-{zone}",
                                       {"kubernetes.io/role/elb": "1", **shared}, public_ips=True))
        for i, zone in enumerate(zones):
            private.append(self._subnet(vpc_id, f"10.0.{128 + i * 32}.0/19", zone, f"{cluster}-private-{zone}",
                                        {"kubernetes.io/role/internal-elb": "1", **shared}))

        public_rt = self._route_table(vpc_id, f"{cluster}-public")
        ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        for subnet in public:
            ec2.associate_route_table(RouteTableId=public_rt, SubnetId=subnet)

        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(
            SubnetId=public[0], AllocationId=allocation,
            TagSpecifications=[{"ResourceType": "natgateway", "Tags": _tags({"Name": f"{cluster}-nat"})}],
        )["NatGateway"]["NatGatewayId"]
        private_rt = self._route_table(vpc_id, f"{cluster}-private")
        ec2.create_route(RouteTableId=private_rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        for subnet in private:
            ec2.associate_route_table(RouteTableId=private_rt, SubnetId=subnet)

        sg = ec2.create_security_group(
            GroupName=f"eks-cluster-sg-{cluster}", Description="EKS created security group applied to ENI "
            "that is attached to EKS Control Plane master nodes, as well as any managed workloads.",
            VpcId=vpc_id,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": _tags({"Name": f"eks-cluster-sg-{cluster}", **shared})}],
        )["GroupId"]
        return {
            "vpc_id": vpc_id, "public_subnets": public, "private_subnets": private,
            "internet_gateway_id": igw, "nat_gateway_id": nat, "cluster_security_group_id": sg,
            "public_route_table_id": public_rt, "private_route_table_id": private_rt,
        }

    def _subnet(self, vpc_id: str, cidr: str, zone: str, name: str, tags: dict[str, str],
                public_ips: bool = False) -> str:
        subnet_id = self.ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone,
            TagSpecifications=[{"ResourceType": "subnet", "Tags": _tags({"Name": name, **tags})}],
        )["Subnet"]["SubnetId"]
        if public_ips:
            self.ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
        return subnet_id

    def _route_table(self, vpc_id: str, name: str) -> str:
        return self.ec2.create_route_table(
            VpcId=vpc_id, TagSpecifications=[{"ResourceType": "route-table", "Tags": _tags({"Name": name})}]
        )["RouteTable"]["RouteTableId"]

    # -- cluster ---------------------------------------------------------------------------
    def _role(self, name: str, trust: str, policies: list[str], description: str) -> str:
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, Description=description)["Role"]["Arn"]
        for policy in policies:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=policy)
        return arn

    def _cluster(self, cluster: str, net: dict[str, Any]) -> dict[str, Any]:
        aws_policy = "arn:aws:iam::aws:policy/"
        cluster_role = self._role(f"{cluster}-cluster-role", service_trust("eks.amazonaws.com"),
                                  [aws_policy + "AmazonEKSClusterPolicy"], "EKS cluster role")
        node_role = self._role(
            f"{cluster}-node-role", service_trust("ec2.amazonaws.com"),
            [aws_policy + p for p in ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
                                      "AmazonEC2ContainerRegistryReadOnly")],
            "EKS managed node group role",
        )
        subnets = net["private_subnets"] + net["public_subnets"]
        arn = self.eks.create_cluster(
            name=cluster, version=KUBERNETES_VERSION, roleArn=cluster_role,
            resourcesVpcConfig={"subnetIds": subnets, "securityGroupIds": [],
                                "endpointPublicAccess": True, "endpointPrivateAccess": True},
            kubernetesNetworkConfig={"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4"},
            tags={"Name": cluster},
        )["cluster"]["arn"]
        issuer = f"https://oidc.eks.{self.region}.amazonaws.com/id/{oidc_id(self.clock.seed, cluster, self.region)}"
        backdate = moto_now(self.clock) - timedelta(days=120)
        with self.dispatcher.engine.lock:
            model = self.dispatcher.engine.backend("eks").clusters[cluster]
            model.identity = {"oidc": {"issuer": issuer}}
            model.platformVersion = "eks.12"
            model.created_at = backdate
            model.resources_vpc_config = {
                **model.resources_vpc_config, "vpcId": net["vpc_id"],
                "clusterSecurityGroupId": net["cluster_security_group_id"], "publicAccessCidrs": ["0.0.0.0/0"],
            }

        self.eks.create_nodegroup(
            clusterName=cluster, nodegroupName=NODEGROUP, nodeRole=node_role,
            subnets=net["private_subnets"], instanceTypes=["t3.large"], capacityType="ON_DEMAND",
            amiType="AL2023_x86_64_STANDARD", diskSize=20, version=KUBERNETES_VERSION,
            releaseVersion="1.31.2-20241121",
            scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 2},
            labels={"role": "general"}, tags={"Name": f"{cluster}-{NODEGROUP}"},
        )
        with self.dispatcher.engine.lock:
            nodegroup = self.dispatcher.engine.backend("eks").clusters[cluster].nodegroups[NODEGROUP]
            nodegroup.created_at = nodegroup.modified_at = backdate

        for name, version in ADDON_VERSIONS.items():
            self.eks.create_addon(clusterName=cluster, addonName=name, addonVersion=version,
                                  resolveConflicts="OVERWRITE")
            self._settle_addon(cluster, name, backdate)
        return {"cluster_name": cluster, "cluster_arn": arn, "oidc_issuer": issuer,
                "cluster_role_arn": cluster_role, "node_role_arn": node_role, "nodegroup": NODEGROUP}

    def _settle_addon(self, cluster: str, name: str, created: Any) -> None:
        with self.dispatcher.engine.lock:
            self.dispatcher.addons.force_active(cluster, name)
            addon = self.dispatcher.addons.get(cluster, name)
            assert addon is not None
            addon.created_at = addon.modified_at = created

    # -- migration pieces ---------------------------------------------------------------------
    def _pod_execution_role(self, cluster: str) -> str:
        return self._role(
            POD_EXECUTION_ROLE, pod_execution_trust(self.region, self.account_id, cluster),
            ["arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"],
            "Fargate pod execution role",
        )

    def _profiles(self, cluster: str, names: list[str], ids: dict[str, Any]) -> list[str]:
        created = moto_now(self.clock) - timedelta(days=7)
        for name in names:
            if name == "fp-kube-system":
                selectors = KUBE_SYSTEM_SELECTORS
            else:
                selectors = [{"namespace": name.removeprefix("fp-")}]
            self.eks.create_fargate_profile(
                clusterName=cluster, fargateProfileName=name, podExecutionRoleArn=ids["pod_execution_role_arn"],
                subnets=ids["private_subnets"], selectors=selectors,
            )
            with self.dispatcher.engine.lock:
                self.dispatcher.profiles.force_active(cluster, name)
                profile = self.dispatcher.engine.backend("eks").clusters[cluster].fargate_profiles[name]
                profile.created_at = created
        return names

    def _coredns_on_fargate(self, cluster: str) -> None:
        with self.dispatcher.engine.lock:
            addon = self.dispatcher.addons.get(cluster, "coredns")
            assert addon is not None
            addon.configuration_values = json.dumps({"computeType": "Fargate"})

    def _load_balancer_controller_iam(self, issuer: str) -> dict[str, Any]:
        provider = self.iam.create_open_id_connect_provider(
            Url=issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[OIDC_THUMBPRINT]
        )["OpenIDConnectProviderArn"]
        policy = self.iam.create_policy(
            PolicyName=LBC_POLICY, PolicyDocument=LOAD_BALANCER_CONTROLLER_POLICY,
            Description="AWS Load Balancer Controller",
        )["Policy"]["Arn"]
        role = self._role(
            LBC_ROLE, irsa_trust(self.account_id, issuer, "kube-system", "aws-load-balancer-controller"),
            [policy], "AWS Load Balancer Controller (IRSA)",
        )
        return {"oidc_provider_arn": provider, "lbc_policy_arn": policy, "lbc_role_arn": role}
