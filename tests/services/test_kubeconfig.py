"""The kubeconfig reader (services/kubeconfig.py) as kubectl reads a kubeconfig: merged files,
paths relative to the file that names them, insecure-skip-tls-verify, tls-server-name, token
files, and exec plugins whose credentials expire — each checked by talking to the sandbox's API
server with the connection it produces."""

from __future__ import annotations

import base64
import json
import os
import sys
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from iagent_tui.config import Settings
from iagent_tui.services.connection import from_kubeconfig
from iagent_tui.services.errors import ServiceError
from iagent_tui.services.kube import PODS, KubeClient

from .conftest import KUBE_TOKEN


def write(path, clusters=(), users=(), contexts=(), current=None):
    doc = {"apiVersion": "v1", "kind": "Config", "clusters": list(clusters), "users": list(users),
           "contexts": list(contexts)}
    if current:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc))
    return path


def context(name, cluster, user):
    return {"name": name, "context": {"cluster": cluster, "user": user}}


async def can_list(conn) -> bool:
    async with KubeClient(conn) as kube:
        items, _ = await kube.list(PODS)
    return items == []


async def test_merged_files_relative_paths_and_first_wins(tmp_path, kube_server):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    (first / "ca.crt").write_bytes(kube_server.ca_pem)
    (second / "token").write_text(KUBE_TOKEN + "\n")
    a = write(first / "config", clusters=[{"name": "c", "cluster": {"server": kube_server.url, "certificate-authority": "ca.crt"}}],
              contexts=[context("mine", "c", "u")], current="mine")
    # The second file's current-context and its own cluster "c" lose to the first file's.
    b = write(second / "config", clusters=[{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
              users=[{"name": "u", "user": {"tokenFile": "token"}}], contexts=[context("theirs", "c", "u")], current="theirs")
    conn = await from_kubeconfig(Settings(kubeconfig=f"{a}{os.pathsep}{b}"))
    assert (conn.kube.context, conn.kube.server, conn.kube.ca_data) == ("mine", kube_server.url, kube_server.ca_pem)
    assert await can_list(conn)


async def test_insecure_skip_tls_verify_and_tls_server_name(tmp_path, kube_server):
    path = write(tmp_path / "config",
                 clusters=[{"name": "insecure", "cluster": {"server": kube_server.url, "insecure-skip-tls-verify": True}},
                           {"name": "named", "cluster": {"server": kube_server.url, "tls-server-name": "localhost",
                                                         "certificate-authority-data": base64.b64encode(kube_server.ca_pem).decode()}}],
                 users=[{"name": "u", "user": {"token": KUBE_TOKEN}}],
                 contexts=[context("insecure", "insecure", "u"), context("named", "named", "u")], current="insecure")
    insecure = await from_kubeconfig(Settings(kubeconfig=str(path)))
    assert (insecure.kube.verify_ssl, insecure.kube.ca_data) == (False, None)
    assert await can_list(insecure)
    named = await from_kubeconfig(Settings(kubeconfig=str(path), kube_context="named"))
    assert named.kube.tls_server_name == "localhost" and await can_list(named)


def plugin(tmp_path, lifetime_seconds: int | None) -> tuple[str, object]:
    """An exec plugin that counts its runs and gives a token expiring after ``lifetime_seconds``."""
    counter = tmp_path / "runs"
    script = tmp_path / "plugin.py"
    status = {"token": KUBE_TOKEN}
    if lifetime_seconds is not None:
        expiry = datetime.now(timezone.utc) + timedelta(seconds=lifetime_seconds)
        status["expirationTimestamp"] = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    script.write_text(
        "import json, pathlib\n"
        f"p = pathlib.Path({str(counter)!r}); p.write_text(str(int(p.read_text()) + 1) if p.exists() else '1')\n"
        f"print(json.dumps({{'apiVersion': 'client.authentication.k8s.io/v1beta1', 'kind': 'ExecCredential', 'status': {json.dumps(status)}}}))\n")
    return str(script), counter


def exec_config(tmp_path, server, args, command=sys.executable):
    return write(tmp_path / "config",
                 clusters=[{"name": "c", "cluster": {"server": server.url, "certificate-authority-data":
                                                     base64.b64encode(server.ca_pem).decode()}}],
                 users=[{"name": "u", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                                                        "command": command, "args": args}}}],
                 contexts=[context("eks", "c", "u")], current="eks")


async def test_an_exec_credential_is_reused_until_close_to_its_expiry(tmp_path, kube_server):
    script, runs = plugin(tmp_path, lifetime_seconds=3600)
    conn = await from_kubeconfig(Settings(kubeconfig=str(exec_config(tmp_path, kube_server, [script]))))
    assert conn.kube.token.expires_at is not None
    async with KubeClient(conn) as kube:
        for _ in range(3):
            await kube.list(PODS)
    assert runs.read_text() == "1"


async def test_an_exec_credential_about_to_expire_is_fetched_again(tmp_path, kube_server):
    script, runs = plugin(tmp_path, lifetime_seconds=60)  # inside the five-minute margin
    conn = await from_kubeconfig(Settings(kubeconfig=str(exec_config(tmp_path, kube_server, [script]))))
    async with KubeClient(conn) as kube:
        await kube.list(PODS)
    assert runs.read_text() == "2"


async def test_a_failing_exec_plugin_is_an_auth_error_that_says_why(tmp_path, kube_server):
    script = tmp_path / "fail.py"
    script.write_text("import sys\nprint('no credentials configured', file=sys.stderr)\nsys.exit(3)\n")
    with pytest.raises(ServiceError) as err:
        await from_kubeconfig(Settings(kubeconfig=str(exec_config(tmp_path, kube_server, [str(script)]))))
    assert err.value.kind == "auth" and "exited with 3: no credentials configured" in err.value.message
    missing = exec_config(tmp_path, kube_server, [], command=str(tmp_path / "no-such-plugin"))
    with pytest.raises(ServiceError) as err:
        await from_kubeconfig(Settings(kubeconfig=str(missing)))
    assert err.value.kind == "auth" and "no-such-plugin could not be run" in err.value.message


async def test_a_context_naming_an_undefined_cluster_is_refused(tmp_path):
    path = write(tmp_path / "config", users=[{"name": "u", "user": {"token": "t"}}],
                 contexts=[context("broken", "gone", "u")], current="broken")
    with pytest.raises(ServiceError) as err:
        await from_kubeconfig(Settings(kubeconfig=str(path)))
    assert err.value.kind == "invalid" and "names cluster gone, which is not defined" in err.value.message


async def test_a_legacy_oidc_auth_provider_user_still_authenticates(tmp_path, kube_server):
    """auth-provider users are read by kubernetes_asyncio's loader, loaded only for them."""
    def part(doc: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")
    id_token = f"{part({'alg': 'none'})}.{part({'sub': 'someone'})}.c2ln"  # no exp: no refresh
    kube_server.set_token(id_token)
    path = write(tmp_path / "config",
                 clusters=[{"name": "c", "cluster": {"server": kube_server.url,
                                                     "certificate-authority-data": base64.b64encode(kube_server.ca_pem).decode()}}],
                 users=[{"name": "u", "user": {"auth-provider": {"name": "oidc", "config": {
                     "id-token": id_token, "client-id": "iagent", "idp-issuer-url": "https://issuer.example"}}}}],
                 contexts=[context("oidc", "c", "u")], current="oidc")
    assert await can_list(await from_kubeconfig(Settings(kubeconfig=str(path))))
