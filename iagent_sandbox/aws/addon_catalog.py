"""The EKS add-ons the sandbox offers: versions per Kubernetes version and configuration schemas.

Versions are plausible eksbuild tags for Kubernetes 1.29-1.32 (not an authoritative list); the
CoreDNS schema follows the published DescribeAddonConfiguration output (DOMAIN.md §4.2): the
documented keys with ``additionalProperties: false``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_ALL = ("1.29", "1.30", "1.31", "1.32")


@dataclass(frozen=True)
class AddonVersion:
    version: str
    cluster_versions: tuple[str, ...]
    default_for: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddonSpec:
    name: str
    type: str
    compute_types: tuple[str, ...]
    versions: tuple[AddonVersion, ...]
    schema: dict[str, Any]

    def version(self, version: str) -> AddonVersion | None:
        return next((v for v in self.versions if v.version == version), None)

    def default_version(self, cluster_version: str) -> str:
        for v in self.versions:
            if cluster_version in v.default_for:
                return v.version
        compatible = [v for v in self.versions if cluster_version in v.cluster_versions]
        return (compatible or list(self.versions))[0].version

    def to_api(self, cluster_version: str | None) -> dict[str, Any]:
        versions = [v for v in self.versions if cluster_version is None or cluster_version in v.cluster_versions]
        return {
            "addonName": self.name,
            "type": self.type,
            "addonVersions": [
                {
                    "addonVersion": v.version,
                    "architecture": ["amd64", "arm64"],
                    "computeTypes": list(self.compute_types),
                    "compatibilities": [
                        {"clusterVersion": cv, "platformVersions": ["*"], "defaultVersion": cv in v.default_for}
                        for cv in v.cluster_versions
                        if cluster_version is None or cv == cluster_version
                    ],
                    "requiresConfiguration": False,
                    "requiresIamPermissions": self.name == "vpc-cni",
                }
                for v in versions
            ],
            "publisher": "eks",
            "owner": "aws",
        }


_RESOURCE_QUANTITIES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"cpu": {"type": "string"}, "memory": {"type": "string"}},
}
_RESOURCES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"limits": _RESOURCE_QUANTITIES, "requests": _RESOURCE_QUANTITIES},
}
_TOLERATIONS = {"type": "array", "items": {"type": "object"}}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}

COREDNS_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Coredns",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "affinity": {"type": ["object", "null"]},
        "autoScaling": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "minReplicas": {"type": "integer", "minimum": 2},
                "maxReplicas": {"type": "integer", "minimum": 2},
            },
        },
        "computeType": {"type": "string"},
        "corefile": {"type": "string", "description": "Entire corefile contents to use with installation"},
        "nodeSelector": _STRING_MAP,
        "podAnnotations": {"type": "object"},
        "podDisruptionBudget": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "maxUnavailable": {"type": ["integer", "string"]},
                "minAvailable": {"type": ["integer", "string"]},
            },
        },
        "podLabels": {"type": "object"},
        "replicaCount": {"type": "integer", "minimum": 1},
        "resources": _RESOURCES,
        "tolerations": _TOLERATIONS,
        "topologySpreadConstraints": {"type": "array", "items": {"type": "object"}},
    },
}

KUBE_PROXY_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "KubeProxy",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "ipvs": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"scheduler": {"type": "string"}},
        },
        "mode": {"type": "string", "enum": ["iptables", "ipvs", "nftables"]},
        "podAnnotations": {"type": "object"},
        "podLabels": {"type": "object"},
        "resources": _RESOURCES,
    },
}

VPC_CNI_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "VpcCni",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "affinity": {"type": ["object", "null"]},
        "enableNetworkPolicy": {"type": "string", "format": "boolean"},
        "enableWindowsIpam": {"type": "string", "format": "boolean"},
        "env": _STRING_MAP,
        "init": {"type": "object"},
        "nodeAgent": {"type": "object"},
        "podAnnotations": {"type": "object"},
        "podLabels": {"type": "object"},
        "resources": _RESOURCES,
        "tolerations": _TOLERATIONS,
    },
}

CATALOG: dict[str, AddonSpec] = {
    "coredns": AddonSpec(
        "coredns", "networking", ("ec2", "fargate"),
        (
            AddonVersion("v1.11.4-eksbuild.2", _ALL, ("1.32",)),
            AddonVersion("v1.11.3-eksbuild.2", ("1.29", "1.30", "1.31")),
            AddonVersion("v1.11.3-eksbuild.1", ("1.29", "1.30", "1.31"), ("1.31",)),
            AddonVersion("v1.11.1-eksbuild.13", ("1.29", "1.30", "1.31"), ("1.29", "1.30")),
        ),
        COREDNS_SCHEMA,
    ),
    "kube-proxy": AddonSpec(
        "kube-proxy", "networking", ("ec2",),
        (
            AddonVersion("v1.32.0-eksbuild.2", ("1.32",), ("1.32",)),
            AddonVersion("v1.31.3-eksbuild.2", ("1.31",)),
            AddonVersion("v1.31.2-eksbuild.3", ("1.31",), ("1.31",)),
            AddonVersion("v1.30.6-eksbuild.3", ("1.30",), ("1.30",)),
            AddonVersion("v1.29.10-eksbuild.3", ("1.29",), ("1.29",)),
        ),
        KUBE_PROXY_SCHEMA,
    ),
    "vpc-cni": AddonSpec(
        "vpc-cni", "networking", ("ec2",),
        (
            AddonVersion("v1.19.2-eksbuild.1", _ALL, ("1.32",)),
            AddonVersion("v1.19.0-eksbuild.1", _ALL, ("1.29", "1.30", "1.31")),
            AddonVersion("v1.18.6-eksbuild.1", ("1.29", "1.30", "1.31")),
        ),
        VPC_CNI_SCHEMA,
    ),
}
