"""Server-side apply as kubectl drives it: ``kubectl apply --server-side`` (twice, with a conflict,
with --force-conflicts, after a client-side apply), ``kubectl diff --server-side``, dry runs, and
``kubectl get --show-managed-fields``, against the sandbox's API server."""

from __future__ import annotations


import pytest
import yaml

from iagent_sandbox.kube.resources import rt
from tests.sandbox.kube_api_harness import ApiServerThread
from tests.sandbox.test_api_kubectl import kubectl

from tests.conftest import requires_kubectl

pytestmark = requires_kubectl

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}]
        env: [{name: MODE, value: "blue"}]
"""

APPLIED_FIELDS = {
    "f:metadata": {"f:labels": {"f:app": {}}},
    "f:spec": {
        "f:replicas": {}, "f:selector": {},
        "f:template": {
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:containers": {'k:{"name":"nginx"}': {
                ".": {}, "f:env": {'k:{"name":"MODE"}': {".": {}, "f:name": {}, "f:value": {}}},
                "f:image": {}, "f:name": {},
                "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}},
            }}}}},
}


@pytest.fixture
def api(tmp_path):
    server = ApiServerThread(tmp_path)
    yield server
    server.stop()


def _file(tmp_path, text: str, name: str = "obj.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _stored(api, plural: str, name: str, namespace: str | None = "default") -> dict | None:
    return api.on_loop(lambda: api.store.get(rt(plural), namespace, name))


def test_apply_twice_creates_then_changes_nothing(api, tmp_path):
    manifest = _file(tmp_path, DEPLOYMENT)
    assert kubectl(api, "apply", "--server-side", "-f", manifest).stdout == \
        "deployment.apps/web serverside-applied\n"
    first = _stored(api, "deployments", "web")
    [entry] = first["metadata"]["managedFields"]
    assert {k: entry[k] for k in ("manager", "operation", "apiVersion", "fieldsType")} == \
        {"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1"}
    assert entry["fieldsV1"] == APPLIED_FIELDS
    assert entry["time"] == first["metadata"]["creationTimestamp"]
    assert first["spec"]["strategy"]["type"] == "RollingUpdate"  # defaults still filled in

    assert kubectl(api, "apply", "--server-side", "-f", manifest).stdout == \
        "deployment.apps/web serverside-applied\n"
    assert _stored(api, "deployments", "web") == first  # nothing written: same resourceVersion


def test_conflict_then_force(api, tmp_path):
    manifest = _file(tmp_path, DEPLOYMENT)
    kubectl(api, "apply", "--server-side", "-f", manifest)
    kubectl(api, "scale", "deployment", "web", "--replicas=3")
    scaled = _stored(api, "deployments", "web")
    scale_entry = next(e for e in scaled["metadata"]["managedFields"] if e["operation"] == "Update")
    assert (scale_entry["manager"], scale_entry.get("subresource")) == ("kubectl", "scale")
    assert scale_entry["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in next(e for e in scaled["metadata"]["managedFields"]
                                    if e["operation"] == "Apply")["fieldsV1"]["f:spec"]

    refused = kubectl(api, "apply", "--server-side", "-f", manifest, check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        'error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" '
        "using apps/v1: .spec.replicas\nPlease review the fields above--they currently have other "
        "managers.")
    assert "--force-conflicts" in refused.stderr
    assert _stored(api, "deployments", "web") == scaled

    diff = kubectl(api, "diff", "--server-side", "--force-conflicts", "-f", manifest, check=False)
    assert diff.returncode == 1 and "-  replicas: 3" in diff.stdout and "+  replicas: 2" in diff.stdout
    assert _stored(api, "deployments", "web") == scaled  # a diff is a dry run

    kubectl(api, "apply", "--server-side", "--force-conflicts", "-f", manifest)
    forced = _stored(api, "deployments", "web")
    assert forced["spec"]["replicas"] == 2
    assert [e["manager"] for e in forced["metadata"]["managedFields"]] == ["kubectl"]  # took it over
    assert forced["metadata"]["managedFields"][0]["fieldsV1"] == APPLIED_FIELDS


def test_fields_no_longer_applied_are_removed_and_diff_shows_it(api, tmp_path):
    kubectl(api, "apply", "--server-side", "-f", _file(tmp_path, DEPLOYMENT))
    before = _stored(api, "deployments", "web")
    smaller = DEPLOYMENT.replace('        env: [{name: MODE, value: "blue"}]\n', "") \
        .replace("nginx:1.27", "nginx:1.28")
    manifest = _file(tmp_path, smaller, "smaller.yaml")
    diff = kubectl(api, "diff", "--server-side", "-f", manifest, check=False)
    assert diff.returncode == 1, diff.stderr
    assert "-        - name: MODE" in diff.stdout and "-        image: nginx:1.27" in diff.stdout
    assert "+      - image: nginx:1.28" in diff.stdout  # env gone: image is the item's first field
    assert _stored(api, "deployments", "web") == before
    kubectl(api, "apply", "--server-side", "-f", manifest)
    [container] = _stored(api, "deployments", "web")["spec"]["template"]["spec"]["containers"]
    assert "env" not in container and container["image"] == "nginx:1.28"
    assert container["terminationMessagePath"] == "/dev/termination-log"  # defaults stay


def test_an_update_manager_owns_what_it_wrote(api, tmp_path):
    kubectl(api, "create", "deployment", "web", "--image=nginx:1.26")
    created = _stored(api, "deployments", "web")
    [entry] = created["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"], entry["apiVersion"]) == \
        ("kubectl-create", "Update", "apps/v1")
    spec = entry["fieldsV1"]["f:spec"]
    assert {"f:replicas", "f:strategy", "f:template"} <= set(spec)  # defaults included, as on a real server
    refused = kubectl(api, "apply", "--server-side", "-f", _file(tmp_path, DEPLOYMENT), check=False)
    assert 'conflicts with "kubectl-create" using apps/v1:\n' in refused.stderr
    assert '- .spec.template.spec.containers[name="nginx"].image\n' in refused.stderr
    assert refused.stderr.startswith("error: Apply failed with 2 conflicts: ")


def test_kinds_kubectl_applies_and_dry_run(api, tmp_path):
    manifest = _file(tmp_path, """apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: shop-sa, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: blue}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: shop}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, command: [sh, -c, "true"]}]
""")
    dry = kubectl(api, "apply", "--server-side", "--dry-run=server", "-f", manifest, check=False)
    assert "namespace/shop serverside-applied (server dry run)" in dry.stdout
    assert _stored(api, "namespaces", "shop", None) is None
    out = kubectl(api, "apply", "--server-side", "-f", manifest).stdout
    assert out.splitlines() == ["namespace/shop serverside-applied",
                                "serviceaccount/shop-sa serverside-applied",
                                "configmap/settings serverside-applied",
                                "service/web serverside-applied", "job.batch/once serverside-applied"]
    rv = api.on_loop(lambda: api.store.resource_version)
    kubectl(api, "apply", "--server-side", "-f", manifest)
    assert api.on_loop(lambda: api.store.resource_version) == rv  # the second apply wrote nothing
    service = _stored(api, "services", "web", "shop")
    assert service["metadata"]["managedFields"][0]["fieldsV1"] == {"f:spec": {
        "f:ports": {'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}, "f:targetPort": {}}},
        "f:selector": {}}}
    assert service["spec"]["clusterIP"]  # allocated as on create


def test_client_side_then_server_side_apply_hands_over_the_fields(api, tmp_path):
    manifest = _file(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: csa}\n"
                               "data: {a: '1'}\n")
    kubectl(api, "apply", "-f", manifest)
    [entry] = _stored(api, "configmaps", "csa")["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"]) == ("kubectl-client-side-apply", "Update")
    kubectl(api, "apply", "--server-side", "-f", manifest)
    managers = {(e["manager"], e["operation"]): e["fieldsV1"]
                for e in _stored(api, "configmaps", "csa")["metadata"]["managedFields"]}
    assert managers[("kubectl", "Apply")] == {"f:data": {"f:a": {}}}
    assert ("kubectl-client-side-apply", "Update") not in managers


def test_show_managed_fields(api, tmp_path):
    kubectl(api, "apply", "--server-side", "-f", _file(tmp_path, DEPLOYMENT))
    shown = yaml.safe_load(kubectl(api, "get", "deployment", "web", "-o", "yaml",
                                   "--show-managed-fields").stdout)
    assert shown["metadata"]["managedFields"][0]["fieldsV1"] == APPLIED_FIELDS
    hidden = yaml.safe_load(kubectl(api, "get", "deployment", "web", "-o", "yaml").stdout)
    assert "managedFields" not in hidden["metadata"]
