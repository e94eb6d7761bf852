"""The kubeconfig's contexts, for the dashboard's context switcher (k9s `:ctx`): name, cluster,
server and AWS region, read without Textual and without connecting anywhere.

The region of an EKS context is read where `aws eks update-kubeconfig` writes it: the cluster
entry's name (the cluster ARN, ``arn:aws:eks:REGION:ACCOUNT:cluster/NAME``), the API server's
host (``….gr7.REGION.eks.amazonaws.com``) or the exec plugin's ``--region`` argument (or its
``AWS_REGION`` env). A context that names none of them (the sandbox's, a kind cluster) has none.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_ARN = re.compile(r"^arn:aws[\w-]*:eks:(?P<region>[a-z0-9-]+):\d*:cluster/(?P<name>.+)$")
_EKS_HOST = re.compile(r"\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)\.eks\.amazonaws\.com(?:\.cn)?(?::\d+)?(?:/|$)")


@dataclass(frozen=True)
class KubeContext:
    name: str
    cluster: str        # the kubeconfig's cluster entry (an ARN for `aws eks update-kubeconfig`)
    server: str
    region: str = ""    # "" when nothing in the context names one
    eks_cluster: str = ""  # the EKS cluster's name when the context says it (ARN or exec args)
    namespace: str = ""
    current: bool = False


class KubeconfigError(ValueError):
    """The kubeconfig cannot be read; the message says which file and why."""


def _exec_option(user: dict[str, Any], option: str) -> str:
    exec_ = user.get("exec") or {}
    args = [str(a) for a in exec_.get("args") or []]
    for index, arg in enumerate(args):
        if arg == option and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    if option == "--region":
        env = {e.get("name"): e.get("value") for e in exec_.get("env") or [] if isinstance(e, dict)}
        return str(env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "")
    return ""


def context_of(name: str, body: dict[str, Any], clusters: dict[str, dict], users: dict[str, dict],
               current: str) -> KubeContext:
    cluster_name = str(body.get("cluster") or "")
    cluster = clusters.get(cluster_name) or {}
    user = users.get(str(body.get("user") or "")) or {}
    server = str(cluster.get("server") or "")
    arn = _ARN.match(cluster_name)
    host = _EKS_HOST.search(server)
    region = (arn and arn["region"]) or (host and host["region"]) or _exec_option(user, "--region")
    eks_cluster = (arn and arn["name"]) or _exec_option(user, "--cluster-name") or _exec_option(user, "--cluster-id")
    return KubeContext(name, cluster_name, server, region or "", eks_cluster or "",
                       str(body.get("namespace") or ""), name == current)


def list_contexts(path: str) -> list[KubeContext]:
    """Every context of the kubeconfig at ``path`` (``os.pathsep``-separated files merged as
    kubectl merges them: the first file that defines a name wins)."""
    clusters: dict[str, dict] = {}
    users: dict[str, dict] = {}
    contexts: dict[str, dict] = {}
    current = ""
    for part in filter(None, path.split(os.pathsep)):
        file = Path(part).expanduser()
        if not file.exists():
            continue
        try:
            data = yaml.safe_load(file.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise KubeconfigError(f"Cannot read kubeconfig {file}: {exc}") from None
        if not isinstance(data, dict):
            raise KubeconfigError(f"Kubeconfig {file} is not a mapping; check it with `kubectl config view`.")
        for key, into in (("clusters", clusters), ("users", users), ("contexts", contexts)):
            inner = {"clusters": "cluster", "users": "user", "contexts": "context"}[key]
            for entry in data.get(key) or []:
                if isinstance(entry, dict) and entry.get("name") and entry["name"] not in into:
                    into[str(entry["name"])] = entry.get(inner) or {}
        current = current or str(data.get("current-context") or "")
    return [context_of(name, body, clusters, users, current) for name, body in contexts.items()]
