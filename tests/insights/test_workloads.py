"""Workload attribution and pod templates (parsed by the converters, read by the insights)."""

import pytest

from iagent_tui.insights.workloads import WorkloadRef, workload_of
from iagent_tui.model import PodTemplate
from iagent_tui.services.convert import pod_from_raw, pod_spec_from_raw, pod_template_from_raw


def pod_owned_by(kind, name, labels=None):
    return pod_from_raw({
        "metadata": {
            "name": "p",
            "namespace": "prod",
            "labels": labels or {},
            "ownerReferences": [{"kind": kind, "name": name, "controller": True}],
        }
    })


def test_deployment_recovered_from_replicaset_hash():
    pod = pod_owned_by("ReplicaSet", "api-7f9c6d5b4", {"pod-template-hash": "7f9c6d5b4"})
    assert workload_of(pod) == WorkloadRef("Deployment", "prod", "api")
    assert str(workload_of(pod)) == "Deployment/prod/api"


def test_replicaset_without_template_hash_stays_a_replicaset():
    assert workload_of(pod_owned_by("ReplicaSet", "api-x")) == WorkloadRef("ReplicaSet", "prod", "api-x")


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet", "Job"])
def test_other_controllers(kind):
    assert workload_of(pod_owned_by(kind, "w")) == WorkloadRef(kind, "prod", "w")


def test_bare_pod():
    assert workload_of(pod_from_raw({"metadata": {"name": "solo", "namespace": "default"}})) == WorkloadRef("Pod", "default", "solo")


def test_pod_templates():
    template = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c"}]}}
    spec = pod_spec_from_raw(template["spec"])
    assert pod_template_from_raw({"kind": "Deployment", "spec": {"template": template}}) == PodTemplate({"app": "a"}, {}, spec)
    cron = {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": template}}}}
    assert pod_template_from_raw(cron).spec == spec
    pod = {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": []}}
    assert pod_template_from_raw(pod) == PodTemplate()
    with pytest.raises(ValueError, match="ConfigMap has no pod template"):
        pod_template_from_raw({"kind": "ConfigMap"})
