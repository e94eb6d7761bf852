"""apiregistration.k8s.io/v1 APIServices: one per served group version, Local and Available, as
`kubectl get apiservices` and the official client show them on a real cluster."""

from __future__ import annotations


import pytest
from kubernetes import client

from tests.sandbox.kube_api_harness import ApiServerThread
from tests.sandbox.test_api_kubectl import kubectl

from tests.conftest import requires_kubectl

pytestmark = requires_kubectl


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = ApiServerThread(tmp_path_factory.mktemp("kube-api"))
    yield server
    server.stop()


def test_kubectl_get_apiservices(api):
    lines = kubectl(api, "get", "apiservices").stdout.splitlines()
    assert lines[0].split() == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    table = {line.split()[0]: line.split()[1:3] for line in lines[1:]}
    assert table["v1."] == ["Local", "True"]
    assert table["v1.apps"] == ["Local", "True"]
    assert table["v1.apiregistration.k8s.io"] == ["Local", "True"]
    assert table["v1beta1.elbv2.k8s.aws"] == ["Local", "True"]
    assert "v1beta1.metrics.k8s.io" not in table  # no metrics source behind this server
    served = set(kubectl(api, "api-versions").stdout.split())
    assert {f"{name.partition('.')[2]}/{name.partition('.')[0]}".lstrip("/") for name in table} == served


def test_apiservice_objects(api):
    with api.sync_client() as c:
        apps = client.ApiregistrationV1Api(c).read_api_service("v1.apps")
        assert (apps.spec.group, apps.spec.version) == ("apps", "v1")
        assert (apps.spec.group_priority_minimum, apps.spec.version_priority) == (17800, 15)
        assert apps.spec.service is None
        [available] = apps.status.conditions
        assert (available.type, available.status, available.reason, available.message) == \
            ("Available", "True", "Local", "Local APIServices are always available")
        assert apps.metadata.labels == {"kube-aggregator.kubernetes.io/automanaged": "onstart"}
        core = client.ApiregistrationV1Api(c).read_api_service("v1.")
        assert core.spec.group is None and core.spec.group_priority_minimum == 18000
    described = kubectl(api, "describe", "apiservice", "v1.batch").stdout
    assert "Group Priority Minimum:  17400" in described and "Local APIServices are always available" in described
