"""Reading a kubeconfig as kubectl does, for what this tool uses: the context's server, CA,
insecure-skip-tls-verify and tls-server-name, and its user's bearer token (``token``,
``tokenFile`` or an ``exec`` plugin such as ``aws eks get-token``).

Its own reader rather than kubernetes_asyncio's: importing any part of that package loads every
generated model (a third of a second, issue 10) before a one-shot command has read anything.
Users with a legacy ``auth-provider`` (oidc, gcp) are still read by kubernetes_asyncio's loader,
imported only for them.

Several files (KUBECONFIG=a:b) merge like kubectl: the first file naming a cluster, user or
context wins, and so does the first current-context. Relative paths are relative to the file
that holds the entry.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


class KubeconfigError(Exception):
    """The kubeconfig cannot be used as it is; the message says what is wrong in it."""


class ExecPluginError(Exception):
    """The user's exec plugin failed or answered something unusable."""


Credential = tuple[str, "datetime | None"]  # (bearer token or "", expiry of an exec credential)


@dataclass
class KubeconfigUser:
    """The credentials of a context's user entry."""

    entry: dict
    base_dir: Path
    _provider_loader: Any = field(default=None, repr=False)

    @property
    def is_exec(self) -> bool:
        return "exec" in self.entry and not self.has_auth_provider

    @property
    def has_auth_provider(self) -> bool:
        return "name" in (self.entry.get("auth-provider") or {})

    @property
    def exec_args(self) -> list[str]:
        return [str(a) for a in (self.entry.get("exec") or {}).get("args") or []]

    async def credential(self) -> Credential:
        """A bearer token now: running the exec plugin, or reading token / tokenFile (each time:
        a projected token file is rotated under us)."""
        if self.has_auth_provider:
            return await self._from_auth_provider()
        if "exec" in self.entry:
            return await run_exec_plugin(self.entry["exec"])
        if self.entry.get("token"):
            return str(self.entry["token"]), None
        if self.entry.get("tokenFile"):
            return _resolve(self.base_dir, str(self.entry["tokenFile"])).read_text().strip(), None
        return "", None

    async def _from_auth_provider(self) -> Credential:
        loader = self._provider_loader
        await loader._load_authentication()
        token = getattr(loader, "token", "") or ""
        return token.removeprefix("Bearer "), None


@dataclass(frozen=True)
class KubeconfigContext:
    name: str
    server: str
    user: KubeconfigUser
    ca_data: bytes | None = field(default=None, repr=False)
    verify_ssl: bool = True
    tls_server_name: str | None = None


def load_context(paths: str, context: str | None = None) -> KubeconfigContext:
    """The named context (or the current one) of the kubeconfig file(s) ``paths`` (os.pathsep
    separated). KubeconfigError when it is missing or incomplete; OSError when a file named
    inside it cannot be read."""
    import yaml

    entries: dict[str, dict[str, tuple[dict, Path]]] = {"clusters": {}, "users": {}, "contexts": {}}
    current = ""
    for raw in paths.split(os.pathsep):
        path = Path(os.path.expanduser(raw)) if raw else None
        if path is None or not path.exists():
            continue
        doc = yaml.safe_load(path.read_text()) or {}
        if not isinstance(doc, dict):
            raise KubeconfigError(f"{path} is not a kubeconfig (expected a mapping)")
        for section, named in entries.items():
            for item in doc.get(section) or ():
                if not isinstance(item, dict) or "name" not in item:
                    raise KubeconfigError(f"every entry of {section} in {path} needs a name")
                named.setdefault(str(item["name"]), (item, path.parent.resolve()))
        current = current or str(doc.get("current-context") or "")
    name = context or current
    if not name:
        raise KubeconfigError("no context given and no current-context set")
    if name not in entries["contexts"]:
        raise KubeconfigError(f"no context named {name}")
    ctx = entries["contexts"][name][0].get("context") or {}
    cluster_name = str(ctx.get("cluster") or "")
    if cluster_name not in entries["clusters"]:
        raise KubeconfigError(f"context {name} names cluster {cluster_name or '(none)'}, which is not defined")
    cluster, cluster_dir = entries["clusters"][cluster_name]
    cluster = cluster.get("cluster") or {}
    server = str(cluster.get("server") or "").rstrip("/")
    if not server:
        raise KubeconfigError(f"cluster {cluster_name} has no server")
    user_entry, user_dir = entries["users"].get(str(ctx.get("user") or ""), ({}, cluster_dir))
    user = KubeconfigUser(user_entry.get("user") or {}, user_dir)
    if user.has_auth_provider:
        user._provider_loader = _provider_loader(paths, name)
    return KubeconfigContext(
        name=name, server=server, user=user,
        ca_data=_ca(cluster, cluster_dir) if server.startswith("https") else None,
        verify_ssl=not cluster.get("insecure-skip-tls-verify", False),
        tls_server_name=cluster.get("tls-server-name") or None,
    )


def _resolve(base: Path, name: str) -> Path:
    path = Path(os.path.expanduser(name))
    return path if path.is_absolute() else base / path


def _ca(cluster: dict, base: Path) -> bytes | None:
    if cluster.get("certificate-authority-data"):
        return base64.b64decode(cluster["certificate-authority-data"])
    if cluster.get("certificate-authority"):
        return _resolve(base, str(cluster["certificate-authority"])).read_bytes()
    return None


def _provider_loader(paths: str, context: str) -> Any:
    """kubernetes_asyncio's loader, for the auth-provider users this reader does not implement."""
    from kubernetes_asyncio.config.kube_config import _get_kube_config_loader_for_yaml_file

    return _get_kube_config_loader_for_yaml_file(paths, active_context=context, persist_config=False)


async def run_exec_plugin(spec: dict) -> Credential:
    """Run a client-go credential plugin (ExecCredential) and return its token and expiry."""
    for key in ("command", "apiVersion"):
        if not spec.get(key):
            raise ExecPluginError(f"the exec entry has no {key}")
    api_version = spec["apiVersion"]
    env = dict(os.environ)
    env.update({str(e["name"]): str(e["value"]) for e in spec.get("env") or ()})
    env["KUBERNETES_EXEC_INFO"] = json.dumps({"apiVersion": api_version, "kind": "ExecCredential",
                                              "spec": {"interactive": sys.stdout.isatty()}})
    args = [str(spec["command"]), *(str(a) for a in spec.get("args") or ())]
    try:
        proc = await asyncio.create_subprocess_exec(*args, env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except OSError as exc:
        raise ExecPluginError(f"{args[0]} could not be run: {exc.strerror or exc}") from None
    out, err = await proc.communicate()
    if proc.returncode != 0:
        detail = err.decode("utf-8", "replace").strip()
        raise ExecPluginError(f"{args[0]} exited with {proc.returncode}" + (f": {detail}" if detail else ""))
    try:
        doc = json.loads(out)
        status = doc["status"]
    except (ValueError, KeyError, TypeError):
        raise ExecPluginError(f"{args[0]} did not print an ExecCredential") from None
    if doc.get("apiVersion") != api_version:
        raise ExecPluginError(f"{args[0]} answered apiVersion {doc.get('apiVersion')}, not {api_version}")
    token = str(status.get("token") or "")
    if not token:
        raise ExecPluginError(f"{args[0]} gave no token (client certificates are not supported here)")
    expiry = status.get("expirationTimestamp")
    return token, datetime.fromisoformat(expiry.replace("Z", "+00:00")) if expiry else None
