"""dryRun=All: kubectl apply --dry-run=server, kubectl diff and delete --dry-run=server get the
answer a real write would give, and nothing is stored (no new resourceVersion, no watch event)."""

from __future__ import annotations


import pytest
import yaml

from iagent_sandbox.kube.resources import rt
from tests.sandbox.kube_api_harness import ApiServerThread
from tests.sandbox.test_api_kubectl import kubectl

from tests.conftest import requires_kubectl

pytestmark = requires_kubectl

DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "dry", "namespace": "default"},
              "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "dry"}},
                       "template": {"metadata": {"labels": {"app": "dry"}},
                                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = ApiServerThread(tmp_path_factory.mktemp("kube-api"))
    yield server
    server.stop()


def _manifest(tmp_path, obj) -> str:
    path = tmp_path / "obj.yaml"
    path.write_text(yaml.safe_dump(obj))
    return str(path)


def test_apply_dry_run_server_stores_nothing(api, tmp_path):
    rv = api.on_loop(lambda: api.store.resource_version)
    out = kubectl(api, "apply", "--dry-run=server", "-f", _manifest(tmp_path, DEPLOYMENT), "-o", "yaml").stdout
    answered = yaml.safe_load(out)
    assert answered["metadata"]["uid"] and answered["metadata"]["generation"] == 1
    assert "resourceVersion" not in answered["metadata"]
    assert answered["spec"]["strategy"]["type"] == "RollingUpdate"  # defaulted like a real create
    assert api.on_loop(lambda: api.store.get(rt("deployments"), "default", "dry")) is None
    assert api.on_loop(lambda: api.store.resource_version) == rv
    assert kubectl(api, "apply", "--dry-run=server", "-f", _manifest(tmp_path, DEPLOYMENT)).stdout == \
        "deployment.apps/dry created (server dry run)\n"


def test_diff_and_dry_run_update_and_delete(api, tmp_path):
    kubectl(api, "apply", "-f", _manifest(tmp_path, DEPLOYMENT))
    rv = api.on_loop(lambda: api.store.resource_version)
    changed = {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "replicas": 5}}
    diff = kubectl(api, "diff", "-f", _manifest(tmp_path, changed), check=False)
    assert diff.returncode == 1, diff.stderr  # 1: differences found
    assert "-  replicas: 2" in diff.stdout and "+  replicas: 5" in diff.stdout
    assert "+  generation: 2" in diff.stdout
    out = kubectl(api, "apply", "--dry-run=server", "-f", _manifest(tmp_path, changed)).stdout
    assert out == "deployment.apps/dry configured (server dry run)\n"
    assert kubectl(api, "delete", "deployment", "dry", "--dry-run=server").stdout == \
        'deployment.apps "dry" deleted (server dry run)\n'
    stored = api.on_loop(lambda: api.store.get(rt("deployments"), "default", "dry"))
    assert stored["spec"]["replicas"] == 2
    assert api.on_loop(lambda: api.store.resource_version) == rv
    assert kubectl(api, "diff", "-f", _manifest(tmp_path, DEPLOYMENT)).returncode == 0


def test_unknown_dry_run_value_is_refused(api):
    import json
    import ssl
    import urllib.error
    import urllib.request
    from tests.sandbox.kube_api_harness import TOKEN
    req = urllib.request.Request(api.url + "/api/v1/namespaces/default/configmaps?dryRun=Some", method="POST",
                                 data=json.dumps({"metadata": {"name": "x"}}).encode(),
                                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, context=ssl.create_default_context(cafile=str(api.ca_file)))
    assert err.value.code == 400
    assert json.loads(err.value.read())["message"] == 'dryRun: Unsupported value: "Some": supported values: "All"'
