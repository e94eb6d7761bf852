"""What an EKS managed node group's EC2 node looks like to Kubernetes: labels, capacity and
allocatable by instance type, nodeInfo, conditions, addresses. Pure data from an instance's facts,
so the node group controller stays about timing and the shape can be checked on its own.

Allocatable follows the EKS AMI's bootstrap rules: kube-reserved CPU 6% of the first core, 1% of
the second, 0.5% of cores 3-4, 0.25% above; kube-reserved memory 255Mi + 11Mi per max pod;
eviction threshold 100Mi. A t3.large (2 vCPU, 8 GiB, 35 pods) gets 1930m CPU.
"""

from __future__ import annotations

import hashlib
import uuid as uuidlib

# instance type -> (vCPU, memory in KiB as the kubelet reports it, max pods with the VPC CNI)
INSTANCE_TYPES = {
    "t3.medium": (2, 3943300, 17),
    "t3.large": (2, 8023848, 35),
    "t3.xlarge": (4, 16202468, 58),
    "t3.2xlarge": (8, 32561412, 58),
    "m5.large": (2, 7910376, 29),
    "m5.xlarge": (4, 15980652, 58),
    "m5.2xlarge": (8, 32120476, 58),
    "c5.large": (2, 3834580, 29),
    "c5.xlarge": (4, 7761628, 58),
    "r5.large": (2, 16044292, 29),
}
DEFAULT_INSTANCE_TYPE = "t3.large"
# EKS-optimised AL2023 kubelet builds per minor version (the -eks-<commit> suffix is what
# `kubectl get nodes -o wide` shows).
KUBELET_VERSIONS = {
    "1.29": "v1.29.15-eks-473151a", "1.30": "v1.30.11-eks-473151a",
    "1.31": "v1.31.7-eks-473151a", "1.32": "v1.32.3-eks-473151a", "1.33": "v1.33.0-eks-802817d",
}
OS_IMAGE = "Amazon Linux 2023.7.20250512"
KERNEL = "6.1.134-152.225.amzn2023.x86_64"
CONTAINER_RUNTIME = "containerd://1.7.27"
# AZ name -> zone id, for the topology.k8s.aws/zone-id label (eu-central-1's mapping varies per
# account; these are the ids of a typical account).
ZONE_IDS = {"a": "az2", "b": "az3", "c": "az1"}
EPHEMERAL_CAPACITY_KI = 20959212          # 20 GiB root volume, as df shows it
EPHEMERAL_ALLOCATABLE = "19316009748"


def kubelet_version(k8s_version: str) -> str:
    minor = ".".join(str(k8s_version).lstrip("v").split(".")[:2])
    return KUBELET_VERSIONS.get(minor, f"v{minor}.0-eks-0000000")


def node_name(private_ip: str, region: str) -> str:
    """EC2's private DNS name; us-east-1 alone uses ec2.internal."""
    suffix = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    return f"ip-{private_ip.replace('.', '-')}.{suffix}"


def _reserved_millicores(cores: int) -> int:
    reserved = 0.0
    for core in range(1, cores + 1):
        reserved += 60 if core == 1 else 10 if core == 2 else 5 if core <= 4 else 2.5
    return int(reserved)


def capacity_and_allocatable(instance_type: str) -> tuple[dict, dict]:
    cores, memory_ki, max_pods = INSTANCE_TYPES.get(instance_type, INSTANCE_TYPES[DEFAULT_INSTANCE_TYPE])
    reserved_mem_ki = (255 + 11 * max_pods) * 1024 + 100 * 1024
    capacity = {"cpu": str(cores), "ephemeral-storage": f"{EPHEMERAL_CAPACITY_KI}Ki",
                "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": f"{memory_ki}Ki",
                "pods": str(max_pods)}
    allocatable = {"cpu": f"{cores * 1000 - _reserved_millicores(cores)}m",
                   "ephemeral-storage": EPHEMERAL_ALLOCATABLE, "hugepages-1Gi": "0",
                   "hugepages-2Mi": "0", "memory": f"{memory_ki - reserved_mem_ki}Ki",
                   "pods": str(max_pods)}
    return capacity, allocatable


def node_conditions(now: str) -> list[dict]:
    def cond(ctype, status, reason, message):
        return {"type": ctype, "status": status, "lastHeartbeatTime": now, "lastTransitionTime": now,
                "reason": reason, "message": message}
    return [
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]


def _taint(taint: dict) -> dict:
    """EKS API taint effects (NO_SCHEDULE) -> Kubernetes' (NoSchedule)."""
    effect = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute",
              "PREFER_NO_SCHEDULE": "PreferNoSchedule"}.get(taint.get("effect", ""), taint.get("effect"))
    out = {"key": taint["key"], "effect": effect}
    if taint.get("value"):
        out["value"] = taint["value"]
    return out


def build_node(*, instance_id: str, private_ip: str, zone: str, region: str, instance_type: str,
               image_id: str, nodegroup: str, k8s_version: str, capacity_type: str = "ON_DEMAND",
               extra_labels: dict | None = None, taints: list[dict] | None = None, now: str) -> dict:
    name = node_name(private_ip, region)
    capacity, allocatable = capacity_and_allocatable(instance_type)
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": instance_type,
        "beta.kubernetes.io/os": "linux",
        "eks.amazonaws.com/capacityType": capacity_type,
        "eks.amazonaws.com/nodegroup": nodegroup,
        "eks.amazonaws.com/nodegroup-image": image_id,
        "failure-domain.beta.kubernetes.io/region": region,
        "failure-domain.beta.kubernetes.io/zone": zone,
        "k8s.io/cloud-provider-aws": hashlib.md5(region.encode()).hexdigest(),
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": instance_type,
        "topology.k8s.aws/zone-id": f"{region[:2]}{region.split('-')[1][0]}{region[-1]}-"
                                    f"{ZONE_IDS.get(zone[-1], 'az1')}",
        "topology.kubernetes.io/region": region,
        "topology.kubernetes.io/zone": zone,
        **(extra_labels or {}),
    }
    # Stable per instance, so a re-created Node object (controller restart) keeps its identity.
    ident = uuidlib.uuid5(uuidlib.NAMESPACE_URL, instance_id)
    version = kubelet_version(k8s_version)
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name, "labels": labels,
            "annotations": {"alpha.kubernetes.io/provided-node-ip": private_ip,
                            "node.alpha.kubernetes.io/ttl": "0",
                            "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": {"providerID": f"aws:///{zone}/{instance_id}",
                 **({"taints": [_taint(t) for t in taints]} if taints else {})},
        "status": {
            "capacity": capacity, "allocatable": allocatable,
            "conditions": node_conditions(now),
            "addresses": [{"type": "InternalIP", "address": private_ip},
                          {"type": "InternalDNS", "address": name},
                          {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"architecture": "amd64", "bootID": str(uuidlib.uuid5(ident, "boot")),
                         "containerRuntimeVersion": CONTAINER_RUNTIME, "kernelVersion": KERNEL,
                         "kubeProxyVersion": version, "kubeletVersion": version,
                         "machineID": ident.hex, "operatingSystem": "linux", "osImage": OS_IMAGE,
                         "systemUUID": "ec2" + str(ident)[3:]},
        },
    }
