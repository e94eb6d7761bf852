"""PATCH through the store: JSON merge, JSON patch and strategic merge as kubectl sends them."""

from __future__ import annotations

import json

import pytest

from iagent_sandbox.kube.resources import rt
from iagent_sandbox.kube.store import ApiError

from .store_fixtures import deployment_body, new_store, pod_body

DEPLOY, PODS, TGB = rt("deploy"), rt("pods"), rt("targetgroupbindings")
SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSONP = "application/json-patch+json"


@pytest.fixture
def store():
    store, _ = new_store()
    body = deployment_body()
    body["metadata"]["labels"] = {"app": "web", "old": "yes"}
    body["metadata"]["finalizers"] = ["example.com/a", "example.com/b"]
    body["spec"]["template"]["spec"]["containers"] = [
        {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
        {"name": "log", "image": "fluent-bit:3"},
        {"name": "metrics", "image": "exporter:1"},
    ]
    body["spec"]["template"]["spec"]["volumes"] = [{"name": "cfg", "configMap": {"name": "web"}}]
    store.create(DEPLOY, body)
    return store


def containers(obj):
    return obj["spec"]["template"]["spec"]["containers"]


def test_kubectl_apply_patch_with_set_element_order(store):
    # What `kubectl apply` sends after the manifest changed the web image, dropped the env var
    # A and the "log" sidecar, added "proxy" first, and removed the "old" label.
    patch = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}\n"},
                     "labels": {"old": None}},
        "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "proxy"}, {"name": "web"}, {"name": "metrics"}],
            "containers": [
                {"name": "proxy", "image": "envoy:1.30"},
                {"name": "web", "image": "nginx:1.28",
                 "$setElementOrder/env": [{"name": "B"}],
                 "env": [{"$patch": "delete", "name": "A"}]},
                {"$patch": "delete", "name": "log"},
            ]}}},
    }
    out = store.patch(DEPLOY, "default", "web", json.dumps(patch).encode(), SMP)
    assert [c["name"] for c in containers(out)] == ["proxy", "web", "metrics"]
    web = containers(out)[1]
    assert web["image"] == "nginx:1.28" and web["env"] == [{"name": "B", "value": "2"}]
    assert web["ports"] == [{"containerPort": 80, "protocol": "TCP"}]  # untouched fields stay
    assert containers(out)[0]["imagePullPolicy"] == "IfNotPresent"  # new container is defaulted
    assert out["metadata"]["labels"] == {"app": "web"}
    assert out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] == "{}\n"
    assert out["metadata"]["generation"] == 2
    assert store.get(DEPLOY, "default", "web") == out


def test_set_element_order_keeps_server_only_items_in_place(store):
    # The client knows only web and metrics; "log" was added by someone else and must stay
    # where it was relative to them.
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "metrics"}, {"name": "web"}],
        "containers": [{"name": "web", "image": "nginx:1.29"}]}}}}
    out = store.patch(DEPLOY, "default", "web", patch, SMP)
    # strategicpatch.normalizeElementOrder: "log" stood before metrics on the server, so it
    # still comes first; the patch's own items follow in the patch's order.
    assert [c["name"] for c in containers(out)] == ["log", "metrics", "web"]
    assert {c["name"]: c["image"] for c in containers(out)}["web"] == "nginx:1.29"


def test_list_order_without_set_element_order(store):
    # No $setElementOrder: the patch's items keep the patch's order, an item new to the server
    # goes ahead of the server's, and server-only items keep their places.
    out = store.patch(DEPLOY, "default", "web", {"spec": {"template": {"spec": {"containers": [
        {"name": "proxy", "image": "envoy:1.30"}]}}}}, SMP)
    assert [c["name"] for c in containers(out)] == ["proxy", "web", "log", "metrics"]
    out = store.patch(DEPLOY, "default", "web", {"spec": {"template": {"spec": {"containers": [
        {"name": "metrics", "image": "exporter:2"}, {"name": "web", "image": "nginx:1.29"}]}}}}, SMP)
    assert [c["name"] for c in containers(out)] == ["proxy", "log", "metrics", "web"]


def test_rollout_restart_annotation_patch(store):
    before = store.get(DEPLOY, "default", "web")
    patch = {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-03-01T12:00:00Z"}}}}}
    out = store.patch(DEPLOY, "default", "web", json.dumps(patch), SMP)
    assert out["spec"]["template"]["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/restartedAt": "2026-03-01T12:00:00Z"}
    assert out["spec"]["template"]["metadata"]["labels"] == {"app": "web"}
    assert out["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert int(out["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])


def test_retain_keys_and_primitive_lists(store):
    out = store.patch(DEPLOY, "default", "web", {
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a"],
                     "finalizers": ["example.com/c"]},
        "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"},
                 "template": {"spec": {"volumes": [
                     {"$retainKeys": ["name", "secret"], "name": "cfg",
                      "secret": {"secretName": "web"}}]}}}}, SMP)
    # the strategicpatch package puts values new to the server ahead of the server's own
    assert out["metadata"]["finalizers"] == ["example.com/c", "example.com/b"]
    assert out["spec"]["strategy"] == {"type": "Recreate"}  # rollingUpdate dropped
    assert out["spec"]["template"]["spec"]["volumes"] == [{"name": "cfg", "secret": {"secretName": "web"}}]


def test_replace_directives(store):
    out = store.patch(DEPLOY, "default", "web", {"spec": {"selector": {
        "$patch": "replace", "matchLabels": {"app": "web"}}, "template": {"spec": {
            "containers": [{"$patch": "replace"}, {"name": "only", "image": "busybox:1"}]}}}}, SMP)
    assert [c["name"] for c in containers(out)] == ["only"]
    atomic = store.patch(DEPLOY, "default", "web", {"spec": {"template": {"spec": {
        "tolerations": [{"key": "a", "operator": "Exists"}]}}}}, SMP)
    assert atomic["spec"]["template"]["spec"]["tolerations"] == [{"key": "a", "operator": "Exists"}]


def test_ports_merge_by_container_port(store):
    out = store.patch(DEPLOY, "default", "web", {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 9090}]}]}}}},
        SMP)
    assert containers(out)[0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP", "name": "http"},
        {"containerPort": 9090, "protocol": "TCP"}]


def test_strategic_merge_errors(store):
    with pytest.raises(ApiError) as err:
        store.patch(DEPLOY, "default", "web", {"spec": {"template": {"spec": {
            "containers": [{"image": "x"}]}}}}, SMP)
    assert err.value.status == 400 and "does not contain declared merge key: name" in err.value.message
    with pytest.raises(ApiError) as err:
        store.patch(DEPLOY, "default", "web", b"{not json", SMP)
    assert err.value.status == 400
    with pytest.raises(ApiError) as err:
        store.patch(DEPLOY, "default", "web", {"spec": {"$patch": "explode"}}, SMP)
    assert err.value.status == 400


def test_merge_patch_replaces_lists_and_deletes_with_null(store):
    out = store.patch(DEPLOY, "default", "web", {
        "metadata": {"labels": {"old": None, "team": "a"}},
        "spec": {"template": {"spec": {"containers": [{"name": "solo", "image": "busybox:1"}]}}}},
        MERGE + "; charset=utf-8")
    assert out["metadata"]["labels"] == {"app": "web", "team": "a"}
    assert [c["name"] for c in containers(out)] == ["solo"]


def test_json_patch(store):
    out = store.patch(DEPLOY, "default", "web", [
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/labels/team", "value": "a"},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
    ], JSONP)
    assert out["spec"]["replicas"] == 3 and out["metadata"]["labels"]["team"] == "a"
    assert [c["name"] for c in containers(out)] == ["web", "metrics"]
    with pytest.raises(ApiError) as err:
        store.patch(DEPLOY, "default", "web", [{"op": "test", "path": "/spec/replicas", "value": 9}],
                    JSONP)
    assert (err.value.status, err.value.reason) == (422, "Invalid")
    with pytest.raises(ApiError) as err:
        store.patch(DEPLOY, "default", "web", [{"op": "jump", "path": "/x"}], JSONP)
    assert err.value.status == 400
    with pytest.raises(ApiError) as err:
        store.patch(DEPLOY, "default", "web", {"op": "add"}, JSONP)
    assert err.value.status == 400


def test_patch_keeps_status_and_checks_resource_version(store):
    store.mutate(DEPLOY, "default", "web", lambda d: d.update(status={"replicas": 2}), status=True)
    out = store.patch(DEPLOY, "default", "web", {"status": {"replicas": 50}}, MERGE)
    assert out["status"] == {"replicas": 2}
    status = store.patch(DEPLOY, "default", "web", {"status": {"readyReplicas": 2}}, MERGE,
                         subresource="status")
    assert status["status"] == {"replicas": 2, "readyReplicas": 2}
    with pytest.raises(ApiError) as err:
        store.patch(DEPLOY, "default", "web", {"metadata": {"resourceVersion": "1"}, "spec": {
            "replicas": 1}}, MERGE)
    assert err.value.status == 409 and "the object has been modified" in err.value.message
    with pytest.raises(ApiError) as err:
        store.patch(DEPLOY, "default", "web", {"metadata": {"labels": {"bad key": "x"}}}, MERGE)
    assert err.value.status == 422
    with pytest.raises(ApiError) as err:
        store.patch(PODS, "default", "web-1", {}, MERGE)
    assert (err.value.status, err.value.message) == (404, 'pods "web-1" not found')


def test_scale_subresource_patch_like_kubectl_scale(store):
    scale = store.patch(DEPLOY, "default", "web", b'{"spec":{"replicas":5}}', MERGE,
                        subresource="scale")
    assert scale["kind"] == "Scale" and scale["spec"] == {"replicas": 5}
    assert store.get(DEPLOY, "default", "web")["spec"]["replicas"] == 5


def test_custom_resources_refuse_strategic_merge():
    store, _ = new_store()
    store.create(TGB, {"metadata": {"name": "web"}, "spec": {
        "targetGroupARN": "arn:aws:elasticloadbalancing:eu-central-1:1:targetgroup/web/1",
        "targetType": "ip", "serviceRef": {"name": "web", "port": 80}}})
    with pytest.raises(ApiError) as err:
        store.patch(TGB, "default", "web", {"spec": {"targetType": "instance"}}, SMP)
    assert (err.value.status, err.value.reason) == (415, "UnsupportedMediaType")
    assert err.value.message == ("the body of the request was in an unknown format - accepted "
                                 "media types include: application/json-patch+json, "
                                 "application/merge-patch+json")
    out = store.patch(TGB, "default", "web", {"spec": {"targetType": "instance"}}, MERGE)
    assert out["spec"]["targetType"] == "instance" and out["metadata"]["generation"] == 2
    with pytest.raises(ApiError) as err:
        store.patch(DEPLOY, "default", "web", {}, "application/xml")
    assert err.value.status == 415


def test_pod_patch_uses_pod_schema():
    store, _ = new_store()
    store.create(PODS, pod_body("p", node="n1"))
    store.mutate(PODS, "default", "p", lambda p: p["status"].update(conditions=[
        {"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False"}]),
        status=True)
    out = store.patch(PODS, "default", "p", {"status": {"conditions": [
        {"type": "Ready", "status": "True"}]}}, SMP, subresource="status")
    assert out["status"]["conditions"] == [{"type": "PodScheduled", "status": "True"},
                                           {"type": "Ready", "status": "True"}]
