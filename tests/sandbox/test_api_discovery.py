"""Discovery and OpenAPI documents, read with the official sync client and raw HTTP."""

from __future__ import annotations

import json

import pytest
from kubernetes import client

from tests.sandbox.kube_api_harness import ApiServerThread


class Metrics:
    def pod_usage(self, pod):
        return None

    def node_usage(self, node):
        return None


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = ApiServerThread(tmp_path_factory.mktemp("kube-api"), metrics=Metrics())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def c(api):
    with api.sync_client() as api_client:
        yield api_client


def _get(c, path: str, accept: str = "application/json") -> tuple[int, dict, dict]:
    method, url, headers, _, _ = c.param_serialize("GET", path, header_params={"Accept": accept},
                                                   auth_settings=["BearerToken"])
    resp = c.call_api(method, url, header_params=headers)
    resp.read()
    return resp.status, json.loads(resp.data), dict(resp.getheaders())


def test_version_is_an_eks_build(c):
    info = client.VersionApi(c).get_code()
    assert info.git_version == "v1.31.2-eks-7f9249a"
    assert info.major == "1" and info.minor == "31+" and info.platform == "linux/amd64"


def test_group_lists(c):
    assert client.CoreApi(c).get_api_versions().versions == ["v1"]
    groups = {g.name: g.preferred_version.group_version for g in client.ApisApi(c).get_api_versions().groups}
    assert groups == {"apps": "apps/v1", "networking.k8s.io": "networking.k8s.io/v1",
                      "coordination.k8s.io": "coordination.k8s.io/v1",
                      "elbv2.k8s.aws": "elbv2.k8s.aws/v1beta1", "metrics.k8s.io": "metrics.k8s.io/v1beta1",
                      "batch": "batch/v1", "policy": "policy/v1",
                      "rbac.authorization.k8s.io": "rbac.authorization.k8s.io/v1",
                      "authentication.k8s.io": "authentication.k8s.io/v1",
                      "authorization.k8s.io": "authorization.k8s.io/v1",
                      "apiregistration.k8s.io": "apiregistration.k8s.io/v1"}


def test_resource_lists_carry_verbs_short_names_and_subresources(c):
    core = {r.name: r for r in client.CoreV1Api(c).get_api_resources().resources}
    assert core["pods"].short_names == ["po"] and core["pods"].categories == ["all"]
    assert core["pods"].namespaced and not core["nodes"].namespaced
    assert set(core["pods"].verbs) == {"create", "delete", "deletecollection", "get", "list",
                                       "patch", "update", "watch"}
    assert core["pods/log"].verbs == ["get"] and core["pods/status"].kind == "Pod"
    apps = {r.name: r for r in client.AppsV1Api(c).get_api_resources().resources}
    scale = apps["deployments/scale"]
    assert (scale.group, scale.version, scale.kind) == ("autoscaling", "v1", "Scale")
    assert apps["deployments"].short_names == ["deploy"]
    assert "statefulsets/scale" in apps


def test_aggregated_discovery(c):
    accept = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")
    status, doc, headers = _get(c, "/apis", accept)
    assert status == 200
    assert headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    assert doc["kind"] == "APIGroupDiscoveryList"
    groups = {g["metadata"]["name"]: g for g in doc["items"]}
    deployments = next(r for r in groups["apps"]["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deployments["scope"] == "Namespaced" and deployments["responseKind"]["kind"] == "Deployment"
    assert {s["subresource"] for s in deployments["subresources"]} == {"status", "scale"}
    status, core, _ = _get(c, "/api", accept)
    assert [g["metadata"]["name"] for g in core["items"]] == [""]
    # Without the aggregated Accept, the legacy documents.
    assert _get(c, "/api")[1]["kind"] == "APIVersions"


def test_openapi_v3_index_and_group_documents(c):
    status, index, _ = _get(c, "/openapi/v3")
    assert status == 200
    assert set(index["paths"]) == {"api/v1", "apis/apps/v1", "apis/networking.k8s.io/v1",
                                   "apis/coordination.k8s.io/v1", "apis/elbv2.k8s.aws/v1beta1",
                                   "apis/batch/v1", "apis/policy/v1",
                                   "apis/rbac.authorization.k8s.io/v1",
                                   "apis/authentication.k8s.io/v1", "apis/authorization.k8s.io/v1",
                                   "apis/apiregistration.k8s.io/v1"}
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    status, doc, _ = _get(c, url)
    schemas = doc["components"]["schemas"]
    deployment = schemas["io.k8s.api.apps.v1.Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["items"]["$ref"] == "#/components/schemas/io.k8s.api.core.v1.Container"
    assert "#/$defs/" not in json.dumps(doc)
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Deployment"
    assert _get(c, "/openapi/v3/apis/nosuch/v1")[0] == 404


def test_openapi_v2_json(c):
    status, doc, _ = _get(c, "/openapi/v2")
    assert status == 200 and doc["swagger"] == "2.0"
    pod = doc["definitions"]["io.k8s.api.core.v1.Pod"]
    assert pod["properties"]["spec"]["$ref"] == "#/definitions/io.k8s.api.core.v1.PodSpec"
    assert doc["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    assert "/api/v1/namespaces/{namespace}/pods/{name}" in doc["paths"]
    # Protobuf only: refused (406) so a client falls back instead of misreading JSON.
    status, body, _ = _get(c, "/openapi/v2", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
    assert status == 406 and body["kind"] == "Status"
