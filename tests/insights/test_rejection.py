"""Exact fargate-scheduler rejection clauses (DOMAIN.md 5.2)."""

import pytest

from iagent_tui.insights import rejection
from iagent_tui.insights.rejection import rejection_message
from iagent_tui.services.convert import pod_spec_from_raw, volume_claim_from_raw, volume_from_raw


def fargate_rejection_reasons(spec, *, pvcs=None, pvs=None, **options):
    """The rule on the typed records the converters make of these API-shaped dicts."""
    return rejection.fargate_rejection_reasons(
        pod_spec_from_raw(spec),
        pvcs=None if pvcs is None else {name: volume_claim_from_raw(c) for name, c in pvcs.items()},
        pvs=None if pvs is None else {name: volume_from_raw(v) for name, v in pvs.items()},
        **options)


def pod(*containers, init=(), **spec):
    return {"containers": list(containers) or [{"name": "app", "image": "x"}], "initContainers": list(init), **spec}


def container(name="app", **fields):
    return {"name": name, "image": "x", **fields}


def efs_pv(name):
    return {"metadata": {"name": name}, "spec": {"csi": {"driver": "efs.csi.aws.com", "volumeHandle": "fs-1"}}}


def pvc(name, volume=None, phase="Bound"):
    return {"metadata": {"name": name}, "spec": {"volumeName": volume} if volume else {}, "status": {"phase": phase}}


def claim_volume(name, claim):
    return {"name": name, "persistentVolumeClaim": {"claimName": claim}}


def test_plain_pod_is_admitted():
    assert fargate_rejection_reasons(pod()) == []


def test_host_network():
    assert fargate_rejection_reasons(pod(hostNetwork=True)) == ["fields not supported: HostNetwork"]


def test_host_namespaces_share_one_clause():
    reasons = fargate_rejection_reasons(pod(hostNetwork=True, hostPID=True, hostIPC=True))
    assert reasons == ["fields not supported: HostNetwork, HostPID, HostIPC"]


@pytest.mark.parametrize("port", [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 80, "hostIP": "0.0.0.0"}])
def test_host_port_or_ip(port):
    assert fargate_rejection_reasons(pod(container(ports=[port]))) == ["port contains HostIP or HostPort"]


def test_host_port_in_init_container():
    spec = pod(init=[container("init", ports=[{"containerPort": 1, "hostPort": 1}])])
    assert fargate_rejection_reasons(spec) == ["port contains HostIP or HostPort"]


def test_privileged_repeats_per_container():
    privileged = {"securityContext": {"privileged": True}}
    spec = pod(container("a", **privileged), container("b", **privileged))
    assert fargate_rejection_reasons(spec) == ["invalid SecurityContext fields: Privileged,Privileged"]


@pytest.mark.parametrize("cap", ["NET_ADMIN", "CAP_CHOWN", "DAC_READ_SEARCH"])
def test_added_capabilities_observed_rejected(cap):
    spec = pod(container(securityContext={"capabilities": {"add": [cap]}}))
    assert fargate_rejection_reasons(spec) == [f"invalid SecurityContext fields: Capabilities added: {cap}"]


@pytest.mark.parametrize("cap", ["NET_BIND_SERVICE", "CHOWN", "SYS_PTRACE"])
def test_default_and_advanced_capabilities_are_not_rejected(cap):
    assert fargate_rejection_reasons(pod(container(securityContext={"capabilities": {"add": [cap]}}))) == []


def test_allow_privilege_escalation_only_when_asked():
    spec = pod(container(securityContext={"allowPrivilegeEscalation": True}))
    assert fargate_rejection_reasons(spec) == []
    assert fargate_rejection_reasons(spec, reject_privilege_escalation=True) == [
        "invalid SecurityContext fields: AllowPrivilegeEscalation"
    ]


def test_one_container_with_several_fields():
    context = {"privileged": True, "allowPrivilegeEscalation": True, "capabilities": {"add": ["NET_ADMIN", "SYS_ADMIN"]}}
    spec = pod(container(securityContext=context))
    assert fargate_rejection_reasons(spec, reject_privilege_escalation=True) == [
        "invalid SecurityContext fields: Capabilities added: NET_ADMIN, SYS_ADMIN, AllowPrivilegeEscalation, Privileged"
    ]


@pytest.mark.parametrize(
    "volume",
    [
        {"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}},
        {"name": "certs", "csi": {"driver": "csi.cert-manager.io"}},
        {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {}}},
        {"name": "ebs", "awsElasticBlockStore": {"volumeID": "vol-1"}},
    ],
)
def test_unsupported_volume_types(volume):
    reasons = fargate_rejection_reasons(pod(volumes=[volume]))
    assert reasons == [f"volumes not supported: {volume['name']} is of an unsupported volume Type"]


def test_supported_volume_types():
    volumes = [
        {"name": "a", "emptyDir": {}},
        {"name": "b", "configMap": {"name": "c"}},
        {"name": "c", "secret": {"secretName": "s"}},
        {"name": "d", "projected": {"sources": []}},
        {"name": "e", "downwardAPI": {"items": []}},
        claim_volume("f", "efs-claim"),
    ]
    reasons = fargate_rejection_reasons(
        pod(volumes=volumes), pvcs={"efs-claim": pvc("efs-claim", "efs-pv")}, pvs={"efs-pv": efs_pv("efs-pv")}
    )
    assert reasons == []


def test_pvc_bound_to_ebs():
    pv = {"metadata": {"name": "pv-1"}, "spec": {"csi": {"driver": "ebs.csi.aws.com"}}}
    reasons = fargate_rejection_reasons(
        pod(volumes=[claim_volume("data", "data-0")]), pvcs={"data-0": pvc("data-0", "pv-1")}, pvs={"pv-1": pv}
    )
    assert reasons == [
        "volumes not supported: data not supported because: PVC data-0 bound to invalid PV pv-1 with CSI Driver: ebs.csi.aws.com"
    ]


def test_pvc_not_bound():
    reasons = fargate_rejection_reasons(
        pod(volumes=[claim_volume("data", "data-0")]), pvcs={"data-0": pvc("data-0", phase="Pending")}, pvs={}
    )
    assert reasons == ["volumes not supported: data not supported because: PVC data-0 not bound"]


def test_pvc_missing():
    reasons = fargate_rejection_reasons(pod(volumes=[claim_volume("data", "data-0")]))
    assert reasons == ['volumes not supported: data not supported because: persistentvolumeclaim "data-0" not found']


def test_several_volumes_share_one_clause():
    volumes = [{"name": "a", "hostPath": {"path": "/"}}, claim_volume("b", "gone")]
    reasons = fargate_rejection_reasons(pod(volumes=volumes))
    assert reasons == [
        'volumes not supported: a is of an unsupported volume Type, b not supported because: persistentvolumeclaim "gone" not found'
    ]


def test_clause_order_and_message():
    spec = pod(
        container(ports=[{"containerPort": 1, "hostPort": 1}], securityContext={"privileged": True}),
        hostNetwork=True,
        volumes=[{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}],
    )
    reasons = fargate_rejection_reasons(spec)
    assert rejection_message(reasons) == (
        "Pod not supported on Fargate: fields not supported: HostNetwork, "
        "volumes not supported: sock is of an unsupported volume Type, "
        "invalid SecurityContext fields: Privileged, port contains HostIP or HostPort"
    )


def test_volume_devices():
    spec = pod(container(volumeDevices=[{"name": "raw", "devicePath": "/dev/xvda"}]))
    assert fargate_rejection_reasons(spec) == ["volumeDevices not supported"]


def test_rejection_message_needs_clauses():
    with pytest.raises(ValueError):
        rejection_message([])
