"""RBAC in the sandbox API server: request attributes as kube-apiserver derives them, the 403
Status it writes byte for byte, Roles/ClusterRoles through their bindings (namespaces,
resourceNames, subresources, non-resource URLs), and the reviews answering from the same rules.
Driven over HTTPS with the official sync client and raw requests."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from iagent_sandbox.identities import READONLY_USER, seed_kube
from iagent_sandbox.kube.authz import request_attributes
from iagent_sandbox.kube.resources import rt
from tests.sandbox.kube_api_harness import TOKEN, ApiServerThread

RO_TOKEN = "read-only-test-token"
ALICE_TOKEN = "alice-test-token"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from iagent_sandbox.kube.authz import UserInfo
    server = ApiServerThread(tmp_path_factory.mktemp("rbac"))
    server.on_loop(lambda: seed_kube(server.store))
    server.on_loop(lambda: server.server.add_token(RO_TOKEN, READONLY_USER))
    server.on_loop(lambda: server.server.add_token(
        ALICE_TOKEN, UserInfo("alice", ("devs", "system:authenticated"))))
    for ns in ("team",):
        server.on_loop(lambda ns=ns: server.store.create(rt("namespaces"), {
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
    yield server
    server.stop()


def raw(api, path: str, token: str, method: str = "GET", body: dict | None = None) -> tuple[int, bytes]:
    ctx = ssl.create_default_context(cafile=str(api.ca_file))
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(api.url + path, method=method, data=data,
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=ctx) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.mark.parametrize("method,path,query,expected", [
    ("GET", "/api/v1/namespaces/prod/pods", {}, ("list", "prod", "", "pods", "", "")),
    ("GET", "/api/v1/namespaces/prod/pods", {"watch": "true"}, ("watch", "prod", "", "pods", "", "")),
    ("GET", "/api/v1/watch/namespaces/prod/pods/p1", {}, ("watch", "prod", "", "pods", "p1", "")),
    ("GET", "/api/v1/namespaces/prod/pods", {"fieldSelector": "metadata.name=p1"},
     ("list", "prod", "", "pods", "p1", "")),
    ("GET", "/api/v1/namespaces/prod/pods/p1/log", {}, ("get", "prod", "", "pods", "p1", "log")),
    ("DELETE", "/apis/apps/v1/namespaces/prod/deployments", {},
     ("deletecollection", "prod", "apps", "deployments", "", "")),
    ("PATCH", "/apis/apps/v1/namespaces/prod/deployments/web/scale", {},
     ("patch", "prod", "apps", "deployments", "web", "scale")),
    ("GET", "/api/v1/namespaces/prod", {}, ("get", "prod", "", "namespaces", "prod", "")),
    ("PUT", "/api/v1/namespaces/prod/finalize", {}, ("update", "prod", "", "namespaces", "prod", "finalize")),
    ("GET", "/api/v1/nodes", {}, ("list", "", "", "nodes", "", "")),
])
def test_request_attributes_follow_the_api_servers_request_info(method, path, query, expected):
    a = request_attributes(method, path, query)
    assert a.resource_request
    assert (a.verb, a.namespace, a.group, a.resource, a.name, a.subresource) == expected


@pytest.mark.parametrize("path", ["/api", "/api/v1", "/apis", "/apis/apps/v1", "/version", "/openapi/v3"])
def test_discovery_paths_are_non_resource_requests(path):
    a = request_attributes("GET", path, {})
    assert not a.resource_request and a.verb == "get" and a.path == path


def test_forbidden_status_is_written_as_the_api_server_writes_it(api):
    status, body = raw(api, "/api/v1/namespaces/default/secrets", RO_TOKEN)
    assert status == 403
    assert body == (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
                    b'"secrets is forbidden: User \\"iagent-readonly\\" cannot list resource \\"secrets\\" '
                    b'in API group \\"\\" in the namespace \\"default\\"","reason":"Forbidden",'
                    b'"details":{"kind":"secrets"},"code":403}\n')
    status, body = raw(api, "/api/v1/namespaces/default/secrets/db", RO_TOKEN)
    doc = json.loads(body)
    assert doc["message"] == ('secrets "db" is forbidden: User "iagent-readonly" cannot get resource '
                              '"secrets" in API group "" in the namespace "default"')
    assert doc["details"] == {"name": "db", "kind": "secrets"}
    status, body = raw(api, "/apis/apps/v1/namespaces/default/deployments", RO_TOKEN, "POST",
                       {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}})
    doc = json.loads(body)
    assert status == 403 and doc["details"] == {"group": "apps", "kind": "deployments"}
    assert doc["message"] == ('deployments.apps is forbidden: User "iagent-readonly" cannot create '
                              'resource "deployments" in API group "apps" in the namespace "default"')
    status, body = raw(api, "/api/v1/nodes", RO_TOKEN)
    assert json.loads(body)["message"].endswith(
        'cannot list resource "nodes" in API group "" at the cluster scope')
    status, body = raw(api, "/metrics", RO_TOKEN)
    assert status == 403 and json.loads(body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'forbidden: User "iagent-readonly" cannot get path "/metrics"',
        "reason": "Forbidden", "details": {}, "code": 403}


def test_read_only_user_reads_what_view_grants_and_discovery(api):
    core = client.CoreV1Api(api.sync_client(RO_TOKEN))
    assert core.list_namespaced_pod("default").items == []
    assert {n.metadata.name for n in core.list_namespace().items} >= {"default", "team"}
    for path in ("/api", "/apis", "/version", "/openapi/v3", "/healthz"):
        assert raw(api, path, RO_TOKEN)[0] == 200, path
    with pytest.raises(ApiException) as denied:
        core.create_namespaced_config_map("default", {"metadata": {"name": "x"}})
    assert denied.value.status == 403 and json.loads(denied.value.body)["reason"] == "Forbidden"
    # Nothing was written, and denial comes before routing: an unknown object is still a 403.
    assert api.on_loop(lambda: api.store.get(rt("configmaps"), "default", "x")) is None
    assert raw(api, "/api/v1/namespaces/default/secrets/nope", RO_TOKEN)[0] == 403


def _bind(api, kind: str, ns: str | None, name: str, role_kind: str, role: str, subject: dict):
    obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
           "subjects": [subject]}
    plural = "rolebindings" if kind == "RoleBinding" else "clusterrolebindings"
    rbac = client.RbacAuthorizationV1Api(api.sync_client(TOKEN))
    if ns:
        getattr(rbac, "create_namespaced_role_binding")(ns, obj)
    else:
        rbac.create_cluster_role_binding(obj)
    return plural


def test_role_bindings_grant_only_in_their_namespace_with_resource_names(api):
    rbac = client.RbacAuthorizationV1Api(api.sync_client(TOKEN))
    rbac.create_namespaced_role("team", {
        "metadata": {"name": "one-config"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "update"],
                   "resourceNames": ["settings"]},
                  {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["get"]}]})
    _bind(api, "RoleBinding", "team", "alice-one-config", "Role", "one-config",
          {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"})
    _bind(api, "RoleBinding", "team", "devs-edit", "ClusterRole", "edit",
          {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"})
    admin = client.CoreV1Api(api.sync_client(TOKEN))
    for ns, name in (("team", "settings"), ("team", "other"), ("default", "settings")):
        admin.create_namespaced_config_map(ns, {"metadata": {"name": name}})
    assert raw(api, "/api/v1/namespaces/team/configmaps/settings", ALICE_TOKEN)[0] == 200
    assert raw(api, "/api/v1/namespaces/team/configmaps?fieldSelector=metadata.name%3Dsettings",
               ALICE_TOKEN)[0] == 200
    # edit (through the group) covers configmaps in team, but nothing in default.
    assert raw(api, "/api/v1/namespaces/team/configmaps/other", ALICE_TOKEN)[0] == 200
    status, body = raw(api, "/api/v1/namespaces/default/configmaps/settings", ALICE_TOKEN)
    assert status == 403 and 'in the namespace "default"' in json.loads(body)["message"]
    assert raw(api, "/api/v1/namespaces/team/secrets", ALICE_TOKEN)[0] == 200  # edit reads secrets
    assert raw(api, "/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles", ALICE_TOKEN)[0] == 403


def test_resource_names_and_subresource_wildcards(api):
    rbac = client.RbacAuthorizationV1Api(api.sync_client(TOKEN))
    rbac.create_cluster_role({"metadata": {"name": "bob-narrow"}, "rules": [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"],
         "resourceNames": ["settings"]},
        {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["get"]},
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]})
    _bind(api, "ClusterRoleBinding", None, "bob-narrow", "ClusterRole", "bob-narrow",
          {"kind": "User", "name": "bob", "apiGroup": "rbac.authorization.k8s.io"})
    from iagent_sandbox.kube.authz import UserInfo
    api.on_loop(lambda: api.server.add_token("bob-token", UserInfo("bob", ("system:authenticated",))))
    assert raw(api, "/api/v1/namespaces/default/configmaps/settings", "bob-token")[0] == 200
    assert raw(api, "/api/v1/namespaces/default/configmaps/other", "bob-token")[0] == 403
    assert raw(api, "/api/v1/namespaces/default/configmaps", "bob-token")[0] == 403  # list of all
    assert raw(api, "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name=settings",
               "bob-token")[0] == 200
    assert raw(api, "/apis/apps/v1/namespaces/default/deployments/web/scale", "bob-token")[0] == 404
    assert raw(api, "/apis/apps/v1/namespaces/default/deployments/web", "bob-token")[0] == 403
    assert raw(api, "/metrics", "bob-token")[0] != 403


def test_reviews_answer_from_the_same_rules(api):
    auth = client.AuthorizationV1Api(api.sync_client(RO_TOKEN))
    def can(verb, resource, ns="default", group=""):
        review = auth.create_self_subject_access_review({"spec": {"resourceAttributes": {
            "verb": verb, "resource": resource, "namespace": ns, "group": group}}})
        return review.status
    allowed = can("list", "pods")
    assert allowed.allowed and allowed.reason == (
        'RBAC: allowed by ClusterRoleBinding "iagent-readonly-view" of ClusterRole "view" to Group '
        '"iagent:readonly"')
    assert not can("create", "deployments", group="apps").allowed
    assert not can("get", "secrets").allowed
    rules = auth.create_self_subject_rules_review({"spec": {"namespace": "default"}}).status
    verbs = {v for r in rules.resource_rules for v in r.verbs}
    assert verbs == {"get", "list", "watch", "create"}  # create: only the self-reviews
    assert {tuple(r.resources) for r in rules.resource_rules if "create" in r.verbs} == {
        ("selfsubjectreviews",), ("selfsubjectaccessreviews", "selfsubjectrulesreviews")}
    assert not any("secrets" in r.resources or "nodes" in (r.resources or [])
                   for r in rules.resource_rules if "" in (r.api_groups or []))
    who = client.AuthenticationV1Api(api.sync_client(RO_TOKEN)).create_self_subject_review({})
    assert who.status.user_info.username == "iagent-readonly"
    assert who.status.user_info.groups == ["iagent:readonly", "system:authenticated"]
    # SubjectAccessReview: the admin asks about another user; the read-only user may not ask.
    sar = {"spec": {"user": "iagent-readonly", "groups": ["iagent:readonly"],
                    "resourceAttributes": {"verb": "watch", "resource": "deployments", "group": "apps",
                                           "namespace": "prod"}}}
    assert client.AuthorizationV1Api(api.sync_client(TOKEN)).create_subject_access_review(sar).status.allowed
    with pytest.raises(ApiException) as denied:
        auth.create_subject_access_review(sar)
    assert denied.value.status == 403
