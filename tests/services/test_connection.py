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
