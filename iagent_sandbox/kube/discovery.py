"""Discovery documents: /version, /api, /apis, the per-group resource lists, and the aggregated form.

kubectl resolves every resource name (``kubectl get deploy``, ``kubectl top pods``) from these, so
they publish what a real EKS 1.31 API server publishes for the served types. kubectl 1.32 first asks
for aggregated discovery (apidiscovery.k8s.io/v2, one request for everything); the legacy documents
stay for older clients and the official Python clients.
"""

from __future__ import annotations

from collections import defaultdict

from .resources import RESOURCES, ResourceType

GIT_VERSION = "v1.31.2-eks-7f9249a"

VERSION_INFO = {
    "major": "1",
    "minor": "31+",  # EKS reports the minor with a '+' (its builds carry patches beyond upstream)
    "gitVersion": GIT_VERSION,
    "gitCommit": "7f9249aa28d9c85ee7e7b2dbeea62b3ab3a9c5e5",
    "gitTreeState": "clean",
    "buildDate": "2024-10-22T21:06:29Z",
    "goVersion": "go1.22.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}

READ_ONLY = ("get", "list")
SUB_VERBS = ("get", "patch", "update")

# metrics.k8s.io is served from the MetricsSource, not stored; it is published like any group.
METRICS_RESOURCES: tuple[ResourceType, ...] = (
    ResourceType("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", False, "", (), READ_ONLY),
    ResourceType("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", True, "", (), READ_ONLY),
)

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def served_types(with_metrics: bool = True) -> tuple[ResourceType, ...]:
    """Stored types, plus metrics.k8s.io when a MetricsSource backs it (without one, kubectl top
    says "Metrics API not available", as on a cluster without metrics-server)."""
    return RESOURCES + METRICS_RESOURCES if with_metrics else RESOURCES


def _group_versions(with_metrics: bool = True) -> dict[str, list[str]]:
    """Group name -> versions, in first-seen order (core group is "")."""
    versions: dict[str, list[str]] = defaultdict(list)
    for r in served_types(with_metrics):
        if r.version not in versions[r.group]:
            versions[r.group].append(r.version)
    return versions


STREAM_KINDS = {"exec": "PodExecOptions", "attach": "PodAttachOptions",
                "portforward": "PodPortForwardOptions"}


def _subresource_kind(r: ResourceType, sub: str) -> tuple[str, str, str]:
    """(group, version, kind) a subresource answers with."""
    if sub == "scale":
        return ("autoscaling", "v1", "Scale")
    if sub == "eviction":
        return ("policy", "v1", "Eviction")
    if sub in STREAM_KINDS:
        return ("", "v1", STREAM_KINDS[sub])
    return (r.group, r.version, r.kind)


def _subresource_verbs(sub: str) -> tuple[str, ...]:
    if sub in STREAM_KINDS:
        return ("create", "get")
    if sub == "eviction":
        return ("create",)
    return ("get",) if sub == "log" else SUB_VERBS


def api_versions() -> dict:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:443"}],
    }


def api_group_list(with_metrics: bool = True) -> dict:
    groups = []
    for name, versions in _group_versions(with_metrics).items():
        if not name:
            continue
        gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        groups.append({"name": name, "versions": gvs, "preferredVersion": gvs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(name: str, with_metrics: bool = True) -> dict | None:
    for group in api_group_list(with_metrics)["groups"]:
        if group["name"] == name:
            return {"kind": "APIGroup", "apiVersion": "v1", **group}
    return None


def resource_list(group: str, version: str) -> dict | None:
    """The APIResourceList at /api/v1 or /apis/<group>/<version>; None if that is not served."""
    types = [r for r in served_types() if r.group == group and r.version == version]
    if not types:
        return None
    resources = []
    for r in types:
        entry = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                 "kind": r.kind, "verbs": list(r.verbs)}
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        resources.append(entry)
        for sub in r.subresources:
            g, v, kind = _subresource_kind(r, sub)
            sub_entry = {"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                         "kind": kind, "verbs": list(_subresource_verbs(sub))}
            if (g, v) != (r.group, r.version):
                sub_entry["group"], sub_entry["version"] = g, v
            resources.append(sub_entry)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def _aggregated_group(name: str, versions: list[str]) -> dict:
    out_versions = []
    for v in versions:
        resources = []
        for r in served_types():
            if r.group != name or r.version != v:
                continue
            entry: dict = {
                "resource": r.plural,
                "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
                "scope": "Namespaced" if r.namespaced else "Cluster",
                "singularResource": r.singular,
                "verbs": list(r.verbs),
            }
            if r.short_names:
                entry["shortNames"] = list(r.short_names)
            if r.categories:
                entry["categories"] = list(r.categories)
            subs = []
            for sub in r.subresources:
                g, sv, kind = _subresource_kind(r, sub)
                subs.append({"subresource": sub,
                             "responseKind": {"group": g, "version": sv, "kind": kind},
                             "verbs": list(_subresource_verbs(sub))})
            if subs:
                entry["subresources"] = subs
            resources.append(entry)
        out_versions.append({"version": v, "resources": resources, "freshness": "Current"})
    return {"metadata": {"name": name, "creationTimestamp": None}, "versions": out_versions}


def aggregated(core: bool, with_metrics: bool = True) -> dict:
    """apidiscovery.k8s.io/v2 APIGroupDiscoveryList: /api (core only) or /apis (every other group)."""
    items = [_aggregated_group(name, versions)
             for name, versions in _group_versions(with_metrics).items()
             if (name == "") == core]
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {}, "items": items}


def wants_aggregated(accept: str) -> bool:
    """True when the client lists apidiscovery v2 as acceptable (kubectl >= 1.30 puts it first)."""
    for part in accept.split(","):
        params = {p.split("=", 1)[0].strip(): p.split("=", 1)[1].strip()
                  for p in part.split(";")[1:] if "=" in p}
        if (params.get("g") == "apidiscovery.k8s.io" and params.get("v") == "v2"
                and params.get("as") == "APIGroupDiscoveryList"):
            return True
    return False
