"""coordination.k8s.io/v1 Leases, as the official client and kubectl see them: discovery, CRUD,
optimistic concurrency (409 Conflict with a Status), watch, validation and the `kubectl get lease`
table (NAME, HOLDER, AGE)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timezone

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from tests.sandbox.kube_api_harness import ApiServerThread
from tests.conftest import requires_kubectl

NS = "kube-system"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = ApiServerThread(tmp_path_factory.mktemp("kube-api"))  # kube-system exists from the start
    yield server
    server.stop()


@pytest.fixture(scope="module")
def leases(api):
    with api.sync_client() as c:
        yield client.CoordinationV1Api(c)


def _micro(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lease(name: str, holder: str = "alice@laptop pid 4242", duration: int = 60) -> dict:
    now = _micro(datetime.now(timezone.utc))
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name, "annotations": {"iagent-tui.io/action": "deploy"}},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration,
                     "acquireTime": now, "renewTime": now}}


def _status(err: ApiException) -> dict:
    return json.loads(err.body)


def test_discovery_publishes_leases(api):
    with api.sync_client() as c:
        resources = client.CoordinationV1Api(c).get_api_resources()
        groups = client.ApisApi(c).get_api_versions()
    lease = next(r for r in resources.resources if r.name == "leases")
    assert lease.namespaced and lease.kind == "Lease" and lease.singular_name == "lease"
    assert {"create", "get", "list", "watch", "update", "patch", "delete"} <= set(lease.verbs)
    assert "coordination.k8s.io" in {g.name for g in groups.groups}


def test_create_read_list_update_delete(leases):
    created = leases.create_namespaced_lease(NS, _lease("crud"))
    assert created.spec.holder_identity == "alice@laptop pid 4242"
    assert created.spec.lease_duration_seconds == 60
    assert created.spec.renew_time is not None and created.metadata.resource_version
    assert [item.metadata.name for item in leases.list_namespaced_lease(NS).items if item.metadata.name == "crud"]
    assert "crud" in {item.metadata.name for item in leases.list_lease_for_all_namespaces().items}

    created.spec.holder_identity = "bob@desk pid 7"
    updated = leases.replace_namespaced_lease("crud", NS, created)
    assert updated.spec.holder_identity == "bob@desk pid 7"
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)

    leases.delete_namespaced_lease("crud", NS)
    with pytest.raises(ApiException) as err:
        leases.read_namespaced_lease("crud", NS)
    assert err.value.status == 404
    assert _status(err.value)["message"] == 'leases.coordination.k8s.io "crud" not found'


def test_second_create_is_409_already_exists(leases):
    leases.create_namespaced_lease(NS, _lease("taken"))
    with pytest.raises(ApiException) as err:
        leases.create_namespaced_lease(NS, _lease("taken", holder="bob@desk pid 7"))
    status = _status(err.value)
    assert err.value.status == 409 and status["kind"] == "Status" and status["reason"] == "AlreadyExists"
    assert status["message"] == 'leases.coordination.k8s.io "taken" already exists'
    assert status["details"] == {"name": "taken", "group": "coordination.k8s.io", "kind": "leases"}
    assert leases.read_namespaced_lease("taken", NS).spec.holder_identity == "alice@laptop pid 4242"


def test_two_takers_with_the_same_resource_version_only_one_wins(leases):
    """Optimistic concurrency: both read version N; the first update wins, the second is 409."""
    leases.create_namespaced_lease(NS, _lease("race"))
    read_by_a = leases.read_namespaced_lease("race", NS)
    read_by_b = leases.read_namespaced_lease("race", NS)
    read_by_a.spec.holder_identity = "a@host pid 1"
    leases.replace_namespaced_lease("race", NS, read_by_a)
    read_by_b.spec.holder_identity = "b@host pid 2"
    with pytest.raises(ApiException) as err:
        leases.replace_namespaced_lease("race", NS, read_by_b)
    status = _status(err.value)
    assert err.value.status == 409 and status["reason"] == "Conflict"
    assert status["message"].startswith('Operation cannot be fulfilled on leases.coordination.k8s.io "race": '
                                        "the object has been modified")
    assert leases.read_namespaced_lease("race", NS).spec.holder_identity == "a@host pid 1"


def test_delete_with_a_stale_resource_version_precondition_is_409(leases):
    first = leases.create_namespaced_lease(NS, _lease("pre"))
    first.spec.renew_time = datetime.now(timezone.utc)
    leases.replace_namespaced_lease("pre", NS, first)
    with pytest.raises(ApiException) as err:
        leases.delete_namespaced_lease("pre", NS, body=client.V1DeleteOptions(
            preconditions=client.V1Preconditions(resource_version=first.metadata.resource_version)))
    assert err.value.status == 409
    assert leases.read_namespaced_lease("pre", NS).metadata.name == "pre"


def test_invalid_lease_duration_is_422(leases):
    with pytest.raises(ApiException) as err:
        leases.create_namespaced_lease(NS, _lease("bad", duration=0))
    status = _status(err.value)
    assert err.value.status == 422 and status["reason"] == "Invalid"
    assert "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0" in status["message"]


def test_watch_sees_the_lease_acquired_renewed_and_released(leases):
    rv = leases.list_namespaced_lease(NS).metadata.resource_version
    created = leases.create_namespaced_lease(NS, _lease("watched"))
    created.spec.renew_time = datetime.now(timezone.utc)
    leases.replace_namespaced_lease("watched", NS, created)
    leases.delete_namespaced_lease("watched", NS)
    seen = []
    w = watch.Watch()
    for event in w.stream(leases.list_namespaced_lease, NS, resource_version=rv, timeout_seconds=5):
        if event["object"].metadata.name == "watched":
            seen.append(event["type"])
        if len(seen) == 3:
            w.stop()
    assert seen == ["ADDED", "MODIFIED", "DELETED"]


def test_table_has_name_holder_age(api, leases):
    import ssl
    import urllib.request

    from tests.sandbox.kube_api_harness import TOKEN

    leases.create_namespaced_lease(NS, _lease("tabled", holder="carol@ci pid 99"))
    request = urllib.request.Request(f"{api.url}/apis/coordination.k8s.io/v1/namespaces/{NS}/leases", headers={
        "Authorization": f"Bearer {TOKEN}", "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
    with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=str(api.ca_file))) as resp:
        table = json.loads(resp.read())
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Holder", "Age"]
    row = next(r for r in table["rows"] if r["cells"][0] == "tabled")
    assert row["cells"][1] == "carol@ci pid 99"


@requires_kubectl
def test_kubectl_creates_and_gets_leases(api, tmp_path):
    manifest = tmp_path / "lease.yaml"
    manifest.write_text(
        "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: by-kubectl\n  namespace: kube-system\n"
        "spec:\n  holderIdentity: dave@laptop pid 5\n  leaseDurationSeconds: 30\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(KUBECONFIG=str(api.kubeconfig), HOME=str(tmp_path))

    def kubectl(*args: str) -> str:
        proc = subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert kubectl("create", "-f", str(manifest)).strip() == "lease.coordination.k8s.io/by-kubectl created"
    lines = kubectl("get", "lease", "-n", NS).splitlines()
    assert lines[0].split() == ["NAME", "HOLDER", "AGE"]
    assert any(line.split()[:4] == ["by-kubectl", "dave@laptop", "pid", "5"] for line in lines[1:])
    got = json.loads(kubectl("get", "lease", "-n", NS, "by-kubectl", "-o", "json"))
    assert got["spec"] == {"holderIdentity": "dave@laptop pid 5", "leaseDurationSeconds": 30}
    assert "by-kubectl" in kubectl("get", "leases.coordination.k8s.io", "-A")
