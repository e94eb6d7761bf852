"""kubectl as the admin and as the read-only user: `auth can-i --list`, `auth can-i`, `auth whoami`,
and what it prints when RBAC refuses a request."""

from __future__ import annotations

import os
import subprocess

import pytest

from iagent_sandbox.identities import READONLY_USER, seed_kube
from tests.sandbox.kube_api_harness import ApiServerThread, kubeconfig_text

from tests.conftest import requires_kubectl

pytestmark = requires_kubectl
RO_TOKEN = "kubectl-read-only-token"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = ApiServerThread(tmp_path_factory.mktemp("rbac-kubectl"))
    server.on_loop(lambda: seed_kube(server.store))
    server.on_loop(lambda: server.server.add_token(RO_TOKEN, READONLY_USER))
    server.ro_kubeconfig = server.tmp / "ro.kubeconfig"
    server.ro_kubeconfig.write_text(kubeconfig_text(server.url, server.server.ca_pem, RO_TOKEN))
    yield server
    server.stop()


def kubectl(kubeconfig, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    return subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, timeout=60)


def rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()[1:] if line.strip()]


def test_can_i_list_as_admin_shows_everything(api):
    out = kubectl(api.kubeconfig, "auth", "can-i", "--list")
    assert out.returncode == 0, out.stderr
    assert ["*.*", "[]", "[]", "[*]"] in rows(out.stdout)
    assert ["[*]", "[]", "[*]"] in rows(out.stdout)


def test_can_i_list_as_read_only_lists_reads_only(api):
    out = kubectl(api.ro_kubeconfig, "auth", "can-i", "--list", "-n", "prod")
    assert out.returncode == 0, out.stderr
    listed = rows(out.stdout)
    # kubectl's columns: Resources, Non-Resource URLs, Resource Names, Verbs (space-separated).
    resources = {r[0]: " ".join(r[3:]) for r in listed if not r[0].startswith("[")}
    for name, verbs in resources.items():
        expected = "[create]" if name.startswith("self") else "[get list watch]"
        assert verbs == expected, (name, verbs)
    assert {"pods", "deployments.apps", "events", "namespaces", "pods/log"} <= set(resources)
    assert not {"secrets", "nodes", "leases.coordination.k8s.io"} & set(resources)
    assert ["[/version]", "[]", "[get]"] in listed and ["[/apis/*]", "[]", "[get]"] in listed


def test_can_i_and_whoami_as_read_only(api):
    yes = kubectl(api.ro_kubeconfig, "auth", "can-i", "watch", "deployments", "-n", "prod")
    assert (yes.returncode, yes.stdout) == (0, "yes\n")
    no = kubectl(api.ro_kubeconfig, "auth", "can-i", "create", "deployments", "-n", "prod")
    assert (no.returncode, no.stdout) == (1, "no\n")
    assert kubectl(api.kubeconfig, "auth", "can-i", "create", "deployments").stdout == "yes\n"
    who = kubectl(api.ro_kubeconfig, "auth", "whoami")
    assert rows(who.stdout) == [["Username", "iagent-readonly"],
                                ["Groups", "[iagent:readonly", "system:authenticated]"]]


def test_kubectl_prints_the_servers_forbidden_message(api):
    nodes = kubectl(api.ro_kubeconfig, "get", "nodes")
    assert nodes.returncode == 1
    assert nodes.stderr == ('Error from server (Forbidden): nodes is forbidden: User "iagent-readonly" '
                            'cannot list resource "nodes" in API group "" at the cluster scope\n')
    create = kubectl(api.ro_kubeconfig, "create", "namespace", "x")
    assert create.returncode == 1 and create.stderr == (
        'Error from server (Forbidden): namespaces is forbidden: User "iagent-readonly" cannot '
        'create resource "namespaces" in API group "" at the cluster scope\n')
    listed = kubectl(api.kubeconfig, "get", "namespaces", "-o", "name")
    assert "namespace/x" not in listed.stdout.split()
