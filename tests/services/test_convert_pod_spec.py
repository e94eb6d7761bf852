"""The typed pod spec, template and status records the converters make (what insights read)."""

from datetime import datetime, timezone

from iagent_tui.insights.sizing import container_request, fargate_size, pod_request_exact
from iagent_tui.model import ClaimTemplate, ContainerPort, NodeSelectorRequirement, PodVolume
from iagent_tui.services.convert import event_from_raw, ingress_from_raw, pod_from_raw, service_from_raw, workload_from_raw


def test_pod_with_init_containers_and_a_native_sidecar():
    pod = pod_from_raw({
        "metadata": {"name": "api-1", "namespace": "prod", "uid": "u1", "resourceVersion": "42",
                     "annotations": {"CapacityProvisioned": "0.5vCPU 1GB"}},
        "spec": {
            "initContainers": [
                {"name": "migrate", "image": "migrate:1", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}},
                {"name": "proxy", "image": "envoy:1", "restartPolicy": "Always",
                 "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}},
                 "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}, "allowPrivilegeEscalation": True}},
            ],
            "containers": [{"name": "app", "image": "api:2", "ports": [{"containerPort": 80, "hostPort": 8080}],
                            "securityContext": {"privileged": True}, "volumeDevices": [{"name": "raw"}],
                            "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}}}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-0"}}, {"name": "tmp", "emptyDir": {}}],
            "hostNetwork": True, "serviceAccountName": "api", "schedulerName": "fargate-scheduler",
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}]}]}}},
        },
        "status": {
            "startTime": "2023-09-05T10:12:19Z",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "no",
                            "lastTransitionTime": "2023-09-05T10:12:18.123456789Z"}],
            "initContainerStatuses": [{"name": "migrate", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}],
            "containerStatuses": [{"name": "app", "image": "api:2", "restartCount": 3,
                                   "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
                                   "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}],
        },
    })
    spec = pod.spec
    assert [c.name for c in spec.all_containers] == ["migrate", "proxy", "app"]
    migrate, proxy = spec.init_containers
    assert not migrate.is_sidecar and proxy.is_sidecar
    assert proxy.capabilities_added == ("NET_ADMIN",) and proxy.allow_privilege_escalation and not proxy.privileged
    app = spec.containers[0]
    assert app.privileged and app.has_volume_devices and app.uses_host_port
    assert app.ports == (ContainerPort(80, 8080, ""),)
    assert spec.volumes == (PodVolume("data", "persistentVolumeClaim", "data-0"), PodVolume("tmp", "emptyDir"))
    assert spec.host_network and not spec.host_pid
    assert (spec.service_account_name, spec.scheduler_name) == ("api", "fargate-scheduler")
    assert dict(spec.node_selector) == {"kubernetes.io/os": "linux"}
    assert spec.required_node_terms[0].expressions == (NodeSelectorRequirement("kubernetes.io/arch", "In", ("arm64",)),)
    # migrate runs before the sidecar starts (1000m); the sidecar then runs beside the app (750m).
    assert pod_request_exact(spec).millicores == 1000
    scheduled = pod.condition("PodScheduled")
    assert (scheduled.status, scheduled.reason, scheduled.message) == ("False", "Unschedulable", "no")
    assert scheduled.last_transition == datetime(2023, 9, 5, 10, 12, 18, 123456, tzinfo=timezone.utc)
    assert pod.started == datetime(2023, 9, 5, 10, 12, 19, tzinfo=timezone.utc)
    status = pod.container_statuses[0]
    assert (status.waiting_reason, status.waiting_message, status.restart_count) == ("CrashLoopBackOff", "back-off", 3)
    assert (status.last_terminated_reason, status.last_exit_code, status.running_since) == ("OOMKilled", 137, None)
    assert pod.init_container_statuses[0].terminated_reason == "Completed"
    assert (pod.uid, pod.resource_version, pod.annotations["CapacityProvisioned"]) == ("u1", "42", "0.5vCPU 1GB")
    assert pod.template.spec is spec and pod.kind == "Pod"


def test_statefulset_template_with_claim_templates():
    sts = workload_from_raw({
        "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "prod", "resourceVersion": "7"},
        "spec": {"replicas": 2,
                 "template": {"metadata": {"labels": {"app": "db"}, "annotations": {"a": "b"}},
                              "spec": {"containers": [{"name": "db", "image": "postgres"}]}},
                 "volumeClaimTemplates": [
                     {"metadata": {"name": "data"}, "spec": {"storageClassName": "gp3"}},
                     {"metadata": {"name": "wal"}, "spec": {}}]},
    })
    assert sts.claim_templates == (ClaimTemplate("data", "gp3"), ClaimTemplate("wal", ""))
    assert dict(sts.template.labels) == {"app": "db"} and dict(sts.template.annotations) == {"a": "b"}
    assert [c.image for c in sts.template.spec.containers] == ["postgres"]
    assert sts.resource_version == "7"


def test_pod_without_resources_gets_the_smallest_size():
    pod = pod_from_raw({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}})
    container = pod.spec.containers[0]
    assert dict(container.requests) == {} and dict(container.limits) == {}
    assert tuple(pod_request_exact(pod.spec)) == (0, 0, 0)
    assert str(fargate_size(pod.spec)) == "0.25vCPU 0.5GB"


def test_limits_only_containers_are_requested_at_their_limits():
    """Kubernetes defaults a missing request to the limit (DOMAIN.md 1.2); the records keep what
    was written and the sizing rule applies the default."""
    pod = pod_from_raw({"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "a", "resources": {"limits": {"cpu": "1", "memory": "2Gi"}}},
        {"name": "b", "resources": {"requests": {"cpu": "500m"}, "limits": {"cpu": "1", "memory": "1Gi"}}}]}})
    a, b = pod.spec.containers
    assert dict(a.requests) == {} and dict(a.limits) == {"cpu": "1", "memory": "2Gi"}
    assert container_request(a)[:2] == (1000, 2 * 2**30)
    assert container_request(b)[:2] == (500, 2**30)
    assert str(fargate_size(pod.spec)) == "2vCPU 4GB"


def test_service_ingress_and_event_fields():
    service = service_from_raw({"metadata": {"name": "api", "namespace": "prod", "annotations": {"x": "y"}},
                                "spec": {"type": "LoadBalancer", "selector": {"app": "api"}, "loadBalancerClass": "service.k8s.aws/nlb"}})
    assert (dict(service.selector), dict(service.annotations), service.load_balancer_class) == (
        {"app": "api"}, {"x": "y"}, "service.k8s.aws/nlb")
    ingress = ingress_from_raw({"metadata": {"name": "web", "namespace": "prod", "creationTimestamp": "2023-09-05T10:00:00Z"},
                                "spec": {"defaultBackend": {"service": {"name": "api"}}, "rules": [{"http": {"paths": [
                                    {"backend": {"service": {"name": "web"}}}, {"backend": {"service": {"name": "api"}}}]}}]}})
    assert ingress.backend_services == ("api", "web")
    assert ingress.created == datetime(2023, 9, 5, 10, tzinfo=timezone.utc)
    event = event_from_raw({"reason": "Pulling", "firstTimestamp": "2023-09-05T10:00:00Z", "lastTimestamp": "2023-09-05T10:05:00Z",
                            "involvedObject": {"kind": "Pod", "name": "p", "namespace": "prod", "uid": "u1"}})
    assert event.first_seen < event.last_seen and event.object_uid == "u1"
