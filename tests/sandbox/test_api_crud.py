"""Create, read, update, patch and delete through the official sync client, as a user's script would."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from iagent_sandbox.kube.resources import rt
from tests.sandbox.kube_api_harness import ApiServerThread


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = ApiServerThread(tmp_path_factory.mktemp("kube-api"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def core(api):
    with api.sync_client() as c:
        yield client.CoreV1Api(c)


@pytest.fixture(scope="module")
def apps(api):
    with api.sync_client() as c:
        yield client.AppsV1Api(c)


@pytest.fixture
def ns(api, core, request):
    """A fresh namespace per test, so tests do not see each other's objects."""
    name = request.node.name.replace("_", "-")[:40].strip("-").lower()
    core.create_namespace({"metadata": {"name": name}})
    yield name
    # Straight through the store: a namespace still terminating answers with the Namespace
    # object, which the pydantic-based client cannot read as the V1Status it expects.
    api.on_loop(lambda: api.store.delete(rt("namespaces"), None, name))


def _deployment(name: str, replicas: int = 2, **labels: str) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                                  "env": [{"name": "A", "value": "1"}]},
                                                 {"name": "sidecar", "image": "busybox"}]}},
        },
    }


def _status(err: ApiException) -> dict:
    return json.loads(err.body)


def test_create_get_list_with_server_filled_metadata(api, core, ns):
    created = core.create_namespaced_config_map(ns, {"metadata": {"generateName": "cfg-"},
                                                     "data": {"a": "1"}})
    meta = created.metadata
    assert meta.name.startswith("cfg-") and len(meta.name) == len("cfg-") + 5
    assert meta.uid and meta.resource_version and meta.creation_timestamp is not None
    assert core.read_namespaced_config_map(meta.name, ns).data == {"a": "1"}
    listed = core.list_namespaced_config_map(ns)
    assert [i.metadata.name for i in listed.items] == [meta.name]
    assert int(listed.metadata.resource_version) >= int(meta.resource_version)
    # The store holds the same thing the client saw.
    stored = api.on_loop(lambda: api.store.get(rt("configmaps"), ns, meta.name))
    assert stored["metadata"]["uid"] == meta.uid


def test_duplicate_create_is_409_already_exists(core, ns):
    core.create_namespaced_config_map(ns, {"metadata": {"name": "dup"}})
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map(ns, {"metadata": {"name": "dup"}})
    assert err.value.status == 409
    assert _status(err.value)["reason"] == "AlreadyExists"
    assert _status(err.value)["message"] == 'configmaps "dup" already exists'


def test_label_and_field_selectors(core, ns):
    for name, tier in (("a", "web"), ("b", "api"), ("c", "db"), ("d", None)):
        labels = {"tier": tier} if tier else {}
        core.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": labels}})

    def names(**kw) -> list[str]:
        return [i.metadata.name for i in core.list_namespaced_config_map(ns, **kw).items]

    assert names(label_selector="tier=web") == ["a"]
    assert names(label_selector="tier==web") == ["a"]
    assert names(label_selector="tier!=web") == ["b", "c", "d"]
    assert names(label_selector="tier in (web, api)") == ["a", "b"]
    assert names(label_selector="tier notin (web,api)") == ["c", "d"]
    assert names(label_selector="tier") == ["a", "b", "c"]
    assert names(label_selector="!tier") == ["d"]
    assert names(field_selector="metadata.name=c") == ["c"]
    assert names(field_selector="metadata.name!=c", label_selector="tier") == ["a", "b"]
    with pytest.raises(ApiException) as err:
        names(field_selector="data.k=v")
    assert err.value.status == 400 and "field label not supported" in _status(err.value)["message"]


def test_list_across_namespaces_and_paging(core, ns):
    for i in range(5):
        core.create_namespaced_config_map(ns, {"metadata": {"name": f"page-{i}"}})
    everywhere = core.list_config_map_for_all_namespaces(label_selector="")
    assert {(i.metadata.namespace, i.metadata.name) for i in everywhere.items} >= {
        (ns, f"page-{i}") for i in range(5)}
    seen, token = [], None
    while True:
        page = core.list_namespaced_config_map(ns, limit=2, _continue=token)
        assert len(page.items) <= 2
        seen += [i.metadata.name for i in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert seen == [f"page-{i}" for i in range(5)]


def test_update_with_stale_resource_version_is_409_conflict(core, ns):
    cm = core.create_namespaced_config_map(ns, {"metadata": {"name": "cfg"}, "data": {"v": "1"}})
    cm.data = {"v": "2"}
    updated = core.replace_namespaced_config_map("cfg", ns, cm)
    assert updated.data == {"v": "2"}
    assert updated.metadata.resource_version != cm.metadata.resource_version
    cm.data = {"v": "3"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("cfg", ns, cm)
    assert err.value.status == 409
    status = _status(err.value)
    assert status["reason"] == "Conflict"
    assert "the object has been modified; please apply your changes" in status["message"]
    assert core.read_namespaced_config_map("cfg", ns).data == {"v": "2"}


def test_merge_patch(core, apps, ns):
    apps.create_namespaced_deployment(ns, _deployment("web"))
    patched = apps.patch_namespaced_deployment(
        "web", ns, {"metadata": {"labels": {"team": "x"}}, "spec": {"replicas": 5}},
        _content_type="application/merge-patch+json")
    assert patched.spec.replicas == 5
    assert patched.metadata.labels == {"app": "web", "team": "x"}
    # A merge patch replaces lists wholesale.
    patched = apps.patch_namespaced_deployment(
        "web", ns, {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x"}]}}}},
        _content_type="application/merge-patch+json")
    assert [c.name for c in patched.spec.template.spec.containers] == ["only"]


def test_strategic_merge_patch_merges_containers_by_name(apps, ns):
    apps.create_namespaced_deployment(ns, _deployment("web"))
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "nginx:1.28", "env": [{"name": "B", "value": "2"}]}]}}}}
    patched = apps.patch_namespaced_deployment("web", ns, patch,
                                               _content_type="application/strategic-merge-patch+json")
    containers = {c.name: c for c in patched.spec.template.spec.containers}
    assert set(containers) == {"web", "sidecar"}
    assert containers["web"].image == "nginx:1.28"
    assert {e.name for e in containers["web"].env} == {"A", "B"}
    assert patched.metadata.generation == 2
    # $patch: delete removes one element by its merge key.
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    patched = apps.patch_namespaced_deployment("web", ns, patch,
                                               _content_type="application/strategic-merge-patch+json")
    assert [c.name for c in patched.spec.template.spec.containers] == ["web"]


def test_json_patch_and_a_failing_test_op(apps, ns):
    apps.create_namespaced_deployment(ns, _deployment("web"))
    ops = [{"op": "replace", "path": "/spec/replicas", "value": 4},
           {"op": "add", "path": "/metadata/labels/added", "value": "yes"}]
    patched = apps.patch_namespaced_deployment("web", ns, ops,
                                               _content_type="application/json-patch+json")
    assert patched.spec.replicas == 4 and patched.metadata.labels["added"] == "yes"
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment("web", ns, [{"op": "test", "path": "/spec/replicas",
                                                      "value": 99}],
                                         _content_type="application/json-patch+json")
    assert 400 <= err.value.status < 500 and _status(err.value)["kind"] == "Status"
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 4


def test_strategic_merge_on_a_custom_resource_is_415(api, ns):
    with api.sync_client() as c:
        custom = client.CustomObjectsApi(c)
        tgb = {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding",
               "metadata": {"name": "tgb"},
               "spec": {"targetGroupARN": "arn:aws:elasticloadbalancing:eu-central-1:123456789012:"
                                          "targetgroup/k8s-x/0123456789abcdef",
                        "targetType": "ip", "serviceRef": {"name": "web", "port": 80}}}
        custom.create_namespaced_custom_object("elbv2.k8s.aws", "v1beta1", ns,
                                               "targetgroupbindings", tgb)
        patched = custom.patch_namespaced_custom_object(
            "elbv2.k8s.aws", "v1beta1", ns, "targetgroupbindings", "tgb",
            {"spec": {"targetType": "instance"}})  # the client sends merge-patch for custom objects
        assert patched["spec"]["targetType"] == "instance"
        # A real API server refuses strategic merge for custom resources (no Go struct to merge by).
        method, url, headers, body, _ = c.param_serialize(
            "PATCH", f"/apis/elbv2.k8s.aws/v1beta1/namespaces/{ns}/targetgroupbindings/tgb",
            header_params={"Content-Type": "application/strategic-merge-patch+json",
                           "Accept": "application/json"},
            body={"spec": {"targetType": "ip"}}, auth_settings=["BearerToken"])
        resp = c.call_api(method, url, header_params=headers, body=body)
        resp.read()
    assert resp.status == 415
    assert json.loads(resp.data)["reason"] == "UnsupportedMediaType"


def test_status_subresource_keeps_spec_and_main_resource_keeps_status(apps, ns):
    apps.create_namespaced_deployment(ns, _deployment("web"))
    status = apps.patch_namespaced_deployment_status(
        "web", ns, {"status": {"replicas": 2, "readyReplicas": 1}, "spec": {"replicas": 9}})
    assert status.status.ready_replicas == 1 and status.spec.replicas == 2
    main = apps.patch_namespaced_deployment("web", ns, {"status": {"readyReplicas": 0},
                                                        "spec": {"replicas": 3}})
    assert main.status.ready_replicas == 1 and main.spec.replicas == 3


def test_scale_subresource(apps, ns):
    apps.create_namespaced_deployment(ns, _deployment("web", replicas=2))
    scale = apps.read_namespaced_deployment_scale("web", ns)
    assert scale.kind == "Scale" and scale.spec.replicas == 2
    assert scale.status.selector == "app=web"
    scaled = apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 6}})
    assert scaled.spec.replicas == 6
    scale = apps.read_namespaced_deployment_scale("web", ns)
    scale.spec.replicas = 1
    assert apps.replace_namespaced_deployment_scale("web", ns, scale).spec.replicas == 1
    stale = scale  # carries the resourceVersion before the last write
    stale.spec.replicas = 7
    with pytest.raises(ApiException) as err:
        apps.replace_namespaced_deployment_scale("web", ns, stale)
    assert err.value.status == 409
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 1


def test_delete_with_preconditions_and_propagation(api, core, apps, ns):
    apps.create_namespaced_deployment(ns, _deployment("web"))
    dep = apps.read_namespaced_deployment("web", ns)
    rs_type = rt("replicasets")
    owned = {"metadata": {"name": "web-abc", "ownerReferences": [{
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": dep.metadata.uid,
        "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
    api.on_loop(lambda: api.store.create(rs_type, owned, ns))
    with pytest.raises(ApiException) as err:
        apps.delete_namespaced_deployment("web", ns, body=client.V1DeleteOptions(
            preconditions=client.V1Preconditions(uid="not-the-uid")))
    assert err.value.status == 409 and "Precondition failed" in _status(err.value)["message"]
    apps.delete_namespaced_deployment("web", ns, propagation_policy="Orphan")
    orphan = apps.read_namespaced_replica_set("web-abc", ns)
    assert not orphan.metadata.owner_references
    with pytest.raises(ApiException) as err:
        apps.read_namespaced_deployment("web", ns)
    assert err.value.status == 404


def test_graceful_pod_delete_returns_the_terminating_pod(api, core, ns):
    pod = {"metadata": {"name": "p"}, "spec": {"nodeName": "node-1",
                                               "containers": [{"name": "c", "image": "nginx"}]}}
    core.create_namespaced_pod(ns, pod)
    answer = core.delete_namespaced_pod("p", ns, grace_period_seconds=20)
    assert answer.metadata.deletion_timestamp is not None
    assert answer.metadata.deletion_grace_period_seconds == 20
    assert core.read_namespaced_pod("p", ns).metadata.deletion_timestamp is not None
    core.delete_namespaced_pod("p", ns, grace_period_seconds=0)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod("p", ns)
    assert err.value.status == 404


def test_delete_collection_by_label(core, ns):
    for name, tier in (("a", "web"), ("b", "web"), ("c", "db")):
        core.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": {"tier": tier}}})
    core.delete_collection_namespaced_config_map(ns, label_selector="tier=web")
    assert [i.metadata.name for i in core.list_namespaced_config_map(ns).items] == ["c"]


def test_sync_client_watch_sees_changes_after_a_list(core, ns):
    from kubernetes import watch

    core.create_namespaced_config_map(ns, {"metadata": {"name": "before"}})
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, {"metadata": {"name": "after"}})
    core.delete_namespaced_config_map("before", ns)
    w = watch.Watch()
    seen = []
    for event in w.stream(core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 2:
            w.stop()
    assert seen == [("ADDED", "after"), ("DELETED", "before")]
