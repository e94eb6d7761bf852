"""A helm-compatible command for the sandbox: what the product (and a user following the brief)
asks of helm for the AWS Load Balancer Controller, performed through the Kubernetes API of the
cluster in KUBECONFIG with the official kubernetes client — so the product's code path (run
`helm upgrade --install ...`) stays the one it uses against EKS.

Supported: ``helm upgrade --install NAME CHART -n NS --set k=v ...`` (and ``helm install``),
``helm repo add/update`` (accepted: the chart is built in), ``helm status NAME -n NS``,
``helm list -n NS``, ``helm version``. Anything else exits 1 with a message saying so.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import sys
from datetime import datetime, timezone
from typing import Any

from .controllers.lbc_install import (APP_VERSION, CHART_NAME, CHART_VERSION, ChartError, chart_objects,
                                      parse_set_values)

SUPPORTED_CHART = f"eks/{CHART_NAME}"
# plural -> API path prefix (namespaced resources get /namespaces/<ns>)
_API = {"serviceaccounts": "/api/v1", "secrets": "/api/v1", "services": "/api/v1",
        "deployments": "/apis/apps/v1", "ingressclasses": "/apis/networking.k8s.io/v1"}
_CLUSTER_SCOPED = {"ingressclasses"}


class HelmError(Exception):
    """Printed as helm prints errors: ``Error: <message>``, exit 1."""


def _path(plural: str, namespace: str | None, name: str | None = None) -> str:
    base = _API[plural]
    if plural not in _CLUSTER_SCOPED and namespace:
        base += f"/namespaces/{namespace}"
    base += f"/{plural}"
    return f"{base}/{name}" if name else base


class Cluster:
    """Raw REST calls with the official client (ApiClient.call_api keeps TLS and auth as kubectl's)."""

    def __init__(self, kubeconfig: str | None, context: str | None) -> None:
        from kubernetes import config

        try:
            self.api = config.new_client_from_config(config_file=kubeconfig, context=context)
        except Exception as exc:  # noqa: BLE001 - kubeconfig problems of every kind
            raise HelmError(f"Kubernetes cluster unreachable: {exc}") from None

    def call(self, method: str, path: str, body: Any = None, query: list | None = None,
             content_type: str = "application/json") -> dict | None:
        """JSON in, JSON out; None for a GET of something absent; HelmError otherwise."""
        try:
            request = self.api.param_serialize(method=method, resource_path=path, query_params=query or [],
                                               header_params={"Accept": "application/json", "Content-Type": content_type},
                                               body=body, auth_settings=["BearerToken"])
            response = self.api.call_api(*request)
            response.read()
        except Exception as exc:  # noqa: BLE001 - connection refused, TLS errors...
            raise HelmError(f"Kubernetes cluster unreachable: {exc}") from None
        if response.status == 404 and method == "GET":
            return None
        if response.status >= 400:
            try:
                message = json.loads(response.data).get("message", response.data)
            except (TypeError, ValueError):
                message = response.data or response.reason
            raise HelmError(f"{method} {path}: {message}")
        return json.loads(response.data or b"{}")


def _release_records(cluster: Cluster, release: str, namespace: str) -> list[dict]:
    out = cluster.call("GET", _path("secrets", namespace), query=[("labelSelector", f"owner=helm,name={release}")])
    return sorted((out or {}).get("items") or [], key=lambda s: int(s["metadata"]["labels"].get("version", "0")))


def _decode_release(secret: dict) -> dict:
    inner = base64.b64decode(secret["data"]["release"])
    return json.loads(gzip.decompress(base64.b64decode(inner)))


def _release_secret(values: dict, namespace: str, release: str, revision: int, first: str | None) -> dict:
    """Helm 3's storage format: Secret sh.helm.release.v1.<release>.v<N>, data.release =
    base64(gzip(json(release))) — base64-encoded once more by the Secret itself."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = {"name": release, "namespace": namespace, "version": revision,
              "info": {"status": "deployed", "first_deployed": first or now, "last_deployed": now,
                       "description": "Install complete" if revision == 1 else "Upgrade complete"},
              "chart": {"metadata": {"name": CHART_NAME, "version": CHART_VERSION, "appVersion": APP_VERSION.lstrip("v")}},
              "config": values}
    inner = base64.b64encode(gzip.compress(json.dumps(record).encode())).decode()
    return {"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": f"sh.helm.release.v1.{release}.v{revision}", "namespace": namespace,
                         "labels": {"name": release, "owner": "helm", "status": "deployed", "version": str(revision)}},
            "data": {"release": base64.b64encode(inner.encode()).decode()}}


def upgrade_install(cluster: Cluster, release: str, chart: str, namespace: str, sets: list[str],
                    install: bool) -> str:
    if chart not in (SUPPORTED_CHART, CHART_NAME) and not chart.endswith(f"/{CHART_NAME}"):
        raise HelmError(f"chart {chart!r} is not available in the iagent-tui sandbox (only {SUPPORTED_CHART})")
    try:
        values = parse_set_values(sets)
        objects = chart_objects(values, namespace, release)  # refuses bad values before any write
    except ChartError as exc:
        raise HelmError(str(exc)) from None
    history = _release_records(cluster, release, namespace)
    if history and install == "new":
        raise HelmError("INSTALLATION FAILED: cannot re-use a name that is still in use")
    if not history and not install:
        raise HelmError(f'UPGRADE FAILED: "{release}" has no deployed releases')
    for plural, obj in objects:
        ns = None if plural in _CLUSTER_SCOPED else namespace
        name = obj["metadata"]["name"]
        existing = cluster.call("GET", _path(plural, ns, name))
        if existing is None:
            cluster.call("POST", _path(plural, ns), body=obj)
        else:
            # Helm 3 patches live objects with a three-way strategic merge: fields other tools set
            # (`kubectl rollout restart`'s annotation, HPA-managed replicas...) survive an upgrade.
            cluster.call("PATCH", _path(plural, ns, name), body=obj,
                         content_type="application/strategic-merge-patch+json")
    first = None
    for old in history:
        if old["metadata"]["labels"].get("status") == "deployed":
            first = _decode_release(old).get("info", {}).get("first_deployed")
            patch = {"metadata": {"labels": {"status": "superseded"}}}
            cluster.call("PATCH", _path("secrets", namespace, old["metadata"]["name"]), body=patch,
                         content_type="application/merge-patch+json")
    revision = 1 + max((int(s["metadata"]["labels"].get("version", "0")) for s in history), default=0)
    cluster.call("POST", _path("secrets", namespace), body=_release_secret(values, namespace, release, revision, first))
    verb = "has been upgraded. Happy Helming!" if history else "does not exist. Installing it now."
    head = f'Release "{release}" {verb}\n' if history else f'Release "{release}" {verb}\n'
    return (head + f"NAME: {release}\nNAMESPACE: {namespace}\nSTATUS: deployed\nREVISION: {revision}\n"
            "TEST SUITE: None\nNOTES:\nAWS Load Balancer controller installed!\n")


def status(cluster: Cluster, release: str, namespace: str) -> str:
    history = _release_records(cluster, release, namespace)
    if not history:
        raise HelmError("release: not found")
    latest = _decode_release(history[-1])
    return (f"NAME: {release}\nLAST DEPLOYED: {latest['info']['last_deployed']}\nNAMESPACE: {namespace}\n"
            f"STATUS: {latest['info']['status']}\nREVISION: {latest['version']}\n")


def list_releases(cluster: Cluster, namespace: str) -> str:
    out = cluster.call("GET", _path("secrets", namespace), query=[("labelSelector", "owner=helm,status=deployed")])
    rows = ["NAME\tNAMESPACE\tREVISION\tUPDATED\tSTATUS\tCHART\tAPP VERSION"]
    for secret in (out or {}).get("items") or []:
        rec = _decode_release(secret)
        chart = rec["chart"]["metadata"]
        rows.append(f"{rec['name']}\t{rec['namespace']}\t{rec['version']}\t{rec['info']['last_deployed']}\t"
                    f"{rec['info']['status']}\t{chart['name']}-{chart['version']}\t{chart['appVersion']}")
    return "\n".join(rows) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helm", add_help=True)
    parser.add_argument("--kubeconfig", default=None)
    parser.add_argument("--kube-context", default=os.environ.get("HELM_KUBECONTEXT"))
    parser.add_argument("-n", "--namespace", default="default")
    sub = parser.add_subparsers(dest="command")
    for name in ("upgrade", "install"):
        cmd = sub.add_parser(name)
        cmd.add_argument("release")
        cmd.add_argument("chart")
        cmd.add_argument("--install", "-i", action="store_true")
        cmd.add_argument("--set", action="append", default=[])
        cmd.add_argument("-n", "--namespace", dest="sub_namespace", default=None)
        for flag in ("--wait", "--atomic", "--create-namespace", "--debug", "--reuse-values", "--reset-values"):
            cmd.add_argument(flag, action="store_true")
        cmd.add_argument("--version", default=None)
        cmd.add_argument("--timeout", default=None)
    repo = sub.add_parser("repo")
    repo.add_argument("repo_command", choices=["add", "update", "list"])
    repo.add_argument("rest", nargs="*")
    repo.add_argument("--force-update", action="store_true")
    for name in ("status", "uninstall"):
        cmd = sub.add_parser(name)
        cmd.add_argument("release")
        cmd.add_argument("-n", "--namespace", dest="sub_namespace", default=None)
    lst = sub.add_parser("list")
    lst.add_argument("-n", "--namespace", dest="sub_namespace", default=None)
    sub.add_parser("version")
    return parser


def main(argv: list[str] | None = None) -> int:
    args, unknown = _parser().parse_known_args(argv)
    if unknown:
        print(f"Error: unknown flag(s) for the sandbox's helm: {' '.join(unknown)}", file=sys.stderr)
        return 1
    namespace = getattr(args, "sub_namespace", None) or args.namespace
    try:
        if args.command == "version":
            print('version.BuildInfo{Version:"v3.16.0-iagent-sandbox", GoVersion:"n/a"}')
            return 0
        if args.command == "repo":
            if args.repo_command == "add":
                name = (args.rest or ["eks"])[0]
                print(f'"{name}" has been added to your repositories')
            elif args.repo_command == "update":
                print("Hang tight while we grab the latest from your chart repositories...\n"
                      "...Successfully got an update from the \"eks\" chart repository\nUpdate Complete. ⎈Happy Helming!⎈")
            else:
                print("NAME\tURL\neks \thttps://aws.github.io/eks-charts")
            return 0
        if args.command == "uninstall":
            raise HelmError("uninstall is not supported by the iagent-tui sandbox's helm")
        if args.command is None:
            raise HelmError("a command is required: upgrade --install, install, repo, status, list, version")
        cluster = Cluster(args.kubeconfig, args.kube_context)
        if args.command in ("upgrade", "install"):
            print(upgrade_install(cluster, args.release, args.chart, namespace, args.set,
                                  install="new" if args.command == "install" else args.install), end="")
        elif args.command == "status":
            print(status(cluster, args.release, namespace), end="")
        elif args.command == "list":
            print(list_releases(cluster, namespace), end="")
        return 0
    except HelmError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
