"""Server-side apply and field managers through the official sync ``kubernetes`` client: typed
``patch_*`` with the apply content type and ``field_manager``, the dynamic client's
``server_side_apply``, the 409 Status of a conflict as the API server writes it, and Update
operations recording their manager."""

from __future__ import annotations

import json

import pytest
from kubernetes import client, dynamic

from iagent_sandbox.kube.resources import rt
from tests.sandbox.kube_api_harness import ApiServerThread

APPLY = "application/apply-patch+yaml"


def deployment(replicas: int = 2, image: str = "nginx:1.27") -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "nginx", "image": image}]}}}}


@pytest.fixture
def api(tmp_path):
    server = ApiServerThread(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def k8s(api):
    with api.sync_client() as c:
        yield c


def _managers(obj) -> list[tuple]:
    return [(e.manager, e.operation, e.subresource) for e in obj.metadata.managed_fields]


def test_apply_creates_updates_and_transfers_on_force(k8s):
    apps = client.AppsV1Api(k8s)
    created = apps.patch_namespaced_deployment("web", "default", deployment(), field_manager="deployer",
                                               _content_type=APPLY)
    assert _managers(created) == [("deployer", "Apply", None)]
    assert created.spec.strategy.type == "RollingUpdate"

    # An Update by another manager (the client's own name when it gives none).
    moved = apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 5}})
    assert _managers(moved) == [("deployer", "Apply", None), ("OpenAPI-Generator", "Update", None)]
    assert moved.metadata.managed_fields[1].fields_v1 == {"f:spec": {"f:replicas": {}}}

    with pytest.raises(client.ApiException) as refused:
        apps.patch_namespaced_deployment("web", "default", deployment(replicas=3), field_manager="deployer",
                                         _content_type=APPLY)
    status = json.loads(refused.value.body)
    assert refused.value.status == 409
    assert status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'Apply failed with 1 conflict: conflict with "OpenAPI-Generator" using apps/v1: '
                   ".spec.replicas",
        "reason": "Conflict",
        "details": {"causes": [{"type": "FieldManagerConflict",
                                "message": 'conflict with "OpenAPI-Generator" using apps/v1',
                                "field": ".spec.replicas"}]},
        "code": 409}
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 5

    forced = apps.patch_namespaced_deployment("web", "default", deployment(replicas=3),
                                              field_manager="deployer", force=True, _content_type=APPLY)
    assert forced.spec.replicas == 3
    assert _managers(forced) == [("deployer", "Apply", None)]  # the other manager had nothing left


def test_same_value_is_shared_not_a_conflict(k8s):
    apps = client.AppsV1Api(k8s)
    apps.patch_namespaced_deployment("web", "default", deployment(), field_manager="a", _content_type=APPLY)
    shared = apps.patch_namespaced_deployment("web", "default", deployment(), field_manager="b",
                                              _content_type=APPLY)
    assert [m for m, _, _ in _managers(shared)] == ["a", "b"]
    # a stops applying the image: b still has it, so it stays.
    after = apps.patch_namespaced_deployment("web", "default", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}}}, field_manager="a", _content_type=APPLY)
    assert after.spec.template.spec.containers[0].image == "nginx:1.27"
    assert after.spec.replicas == 2


def test_dynamic_client_server_side_apply_and_dry_run(k8s, api):
    dyn = dynamic.DynamicClient(k8s)
    maps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "default"},
            "data": {"mode": "blue"}}
    dry = maps.server_side_apply(body=body, field_manager="tool", dry_run="All")
    assert dry.data.mode == "blue"
    assert api.on_loop(lambda: api.store.get(rt("configmaps"), "default", "settings")) is None
    applied = maps.server_side_apply(body=body, field_manager="tool")
    assert applied.to_dict()["metadata"]["managedFields"][0]["fieldsV1"] == {"f:data": {"f:mode": {}}}
    again = maps.server_side_apply(body=body, field_manager="tool")
    assert again.metadata.resourceVersion == applied.metadata.resourceVersion


def test_apply_requests_a_real_server_refuses(k8s):
    core = client.CoreV1Api(k8s)
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "1"}}
    with pytest.raises(client.ApiException) as missing:
        core.patch_namespaced_config_map("x", "default", cm, _content_type=APPLY)
    assert missing.value.status == 422
    assert json.loads(missing.value.body)["message"] == \
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
    core.create_namespaced_config_map("default", cm, field_manager="maker")
    with pytest.raises(client.ApiException) as forced:
        core.patch_namespaced_config_map("x", "default", {"data": {"a": "2"}}, force=True)
    assert forced.value.status == 422
    assert "force: Forbidden: may not be specified for non-apply patch" in json.loads(forced.value.body)["message"]
    with pytest.raises(client.ApiException) as other_name:
        core.patch_namespaced_config_map("x", "default", {**cm, "metadata": {"name": "y"}},
                                         field_manager="m", _content_type=APPLY)
    assert other_name.value.status == 400
    stored = core.read_namespaced_config_map("x", "default")
    assert stored.data == {"a": "1"} and _managers(stored) == [("maker", "Update", None)]


def test_status_writes_are_their_own_manager(k8s):
    apps = client.AppsV1Api(k8s)
    apps.create_namespaced_deployment("default", deployment(), field_manager="maker")
    patched = apps.patch_namespaced_deployment_status("web", "default", {"status": {"replicas": 2}},
                                                      field_manager="controller")
    entry = next(e for e in patched.metadata.managed_fields if e.manager == "controller")
    assert (entry.operation, entry.subresource, entry.fields_v1) == \
        ("Update", "status", {"f:status": {"f:replicas": {}}})
    maker = next(e for e in patched.metadata.managed_fields if e.manager == "maker")
    assert "f:status" not in maker.fields_v1  # a create on the main resource owns no status
