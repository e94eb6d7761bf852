"""Connection from a kubeconfig context: what it holds, clear errors, and no secrets in repr."""

from __future__ import annotations

import base64

import pytest
import yaml

from iagent_tui.config import Settings
from iagent_tui.services.connection import AwsTarget, build_connection, from_kubeconfig
from iagent_tui.services.errors import ServiceError

CA = b"-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


def kubeconfig(tmp_path, token="s3cret-token-value"):
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "one",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority-data": base64.b64encode(CA).decode()}}],
        "users": [{"name": "u", "user": {"token": token}}],
        "contexts": [{"name": "one", "context": {"cluster": "c", "user": "u"}},
                     {"name": "two", "context": {"cluster": "c", "user": "u"}}],
    }))
    return str(path)


async def test_from_kubeconfig_reads_server_ca_token_and_context(tmp_path):
    conn = await from_kubeconfig(Settings(kubeconfig=kubeconfig(tmp_path), kube_context="two", read_only=True))
    assert (conn.kube.server, conn.kube.context, conn.kube.ca_data, conn.read_only) == ("https://127.0.0.1:6443", "two", CA, True)
    assert await conn.kube.token.token() == "s3cret-token-value"
    state = conn.state()
    assert (state.context, state.server, state.auth_kind, state.read_only) == ("two", "https://127.0.0.1:6443", "token", True)
    assert open(conn.ca_file(), "rb").read() == CA


async def test_secrets_never_show_in_repr(tmp_path):
    conn = await from_kubeconfig(Settings(kubeconfig=kubeconfig(tmp_path)), AwsTarget("eu-central-1", access_key_id="AKIAXXX", secret_access_key="very-secret"))
    text = repr(conn) + str(conn)
    assert "s3cret-token-value" not in text and "very-secret" not in text and "AKIAXXX" not in text
    assert "BEGIN CERTIFICATE" not in text


async def test_kubeconfig_errors_say_what_to_do(tmp_path):
    with pytest.raises(ServiceError, match=r"Kubeconfig .*nope does not exist.*--kubeconfig"):
        await from_kubeconfig(Settings(kubeconfig=str(tmp_path / "nope")))
    with pytest.raises(ServiceError, match=r"context missing.*kubectl config get-contexts"):
        await from_kubeconfig(Settings(kubeconfig=kubeconfig(tmp_path), kube_context="missing"))


async def test_build_connection_prefers_a_configured_kubeconfig(tmp_path):
    conn = await build_connection(Settings(kubeconfig=kubeconfig(tmp_path)))
    assert conn.kube.context == "one" and conn.aws.region == "eu-central-1"


def exec_kubeconfig(tmp_path, server, command: str, args: list[str], env: list[dict] | None = None) -> str:
    path = tmp_path / "exec-kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "eks",
        "clusters": [{"name": "c", "cluster": {"server": server.url, "certificate-authority-data": base64.b64encode(server.ca_pem).decode()}}],
        "users": [{"name": "u", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": command,
                                                  "args": args, "env": env, "interactiveMode": "Never"}}}],
        "contexts": [{"name": "eks", "context": {"cluster": "c", "user": "u"}}],
    }))
    return str(path)


async def test_exec_plugin_without_expiry_runs_once_not_per_request(tmp_path, kube_server):
    import sys

    from iagent_tui.services.kube import PODS, KubeClient

    from .conftest import KUBE_TOKEN

    counter = tmp_path / "runs"
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        "import json, pathlib\n"
        f"p = pathlib.Path({str(counter)!r}); p.write_text(str(int(p.read_text() or 0) + 1) if p.exists() else '1')\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1', 'kind': 'ExecCredential',"
        f" 'status': {{'token': {KUBE_TOKEN!r}}}}}))\n"
    )
    conn = await from_kubeconfig(Settings(kubeconfig=exec_kubeconfig(tmp_path, kube_server, sys.executable, [str(plugin)])))
    async with KubeClient(conn) as kube:
        for _ in range(3):
            await kube.list(PODS)
    assert counter.read_text() == "1"


async def test_kubeconfig_with_aws_eks_get_token_authenticates(tmp_path, kube_server, aws_env):
    """The kubeconfig `aws eks update-kubeconfig` writes: the aws CLI as exec plugin."""
    import shutil

    from iagent_sandbox.kube.eks_token import EksTokenVerifier
    from iagent_tui.services.kube import PODS, KubeClient

    if shutil.which("aws") is None:
        pytest.skip("aws CLI not installed")
    kube_server._authenticators.append(EksTokenVerifier("iagent-cluster", {aws_env["AWS_ACCESS_KEY_ID"]: aws_env["AWS_SECRET_ACCESS_KEY"]}).verify)
    kube_server.expire_token()
    path = exec_kubeconfig(tmp_path, kube_server, "aws", ["--region", "eu-central-1", "eks", "get-token", "--cluster-name", "iagent-cluster"])
    conn = await from_kubeconfig(Settings(kubeconfig=path))
    assert conn.kube.token.kind == "eks" and conn.kube.token.expires_at is not None
    async with KubeClient(conn) as kube:
        items, _ = await kube.list(PODS)
    assert items == []
