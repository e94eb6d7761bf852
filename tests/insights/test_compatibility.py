"""Compatibility findings and placement, one test per documented check."""

import json

import pytest

from iagent_tui.insights import compatibility
from iagent_tui.insights.findings import Finding, count_by_severity
from iagent_tui.services.aws import profile_from_api
from iagent_tui.services.convert import (
    ingress_from_raw,
    pod_from_raw,
    pod_template_from_raw,
    service_from_raw,
    volume_claim_from_raw,
    volume_from_raw,
    workload_from_raw,
)

PROFILES = [
    {"fargateProfileName": "fp-prod", "status": "ACTIVE", "selectors": [{"namespace": "prod"}]},
    {"fargateProfileName": "fp-staging", "status": "CREATING", "selectors": [{"namespace": "staging"}]},
]


def deployment(name="api", namespace="prod", *, labels=None, resources=None, container=None, **spec):
    c = {"name": "app", "image": "x", "resources": resources if resources is not None else {
        "requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "250m", "memory": "256Mi"}}}
    c.update(container or {})
    return {
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"metadata": {"labels": labels or {"app": name}}, "spec": {"containers": [c], **spec}}},
    }


# The objects below are written as the APIs return them; the adapters run them through the
# converters the monitor uses, so the checks see the same typed records as in the dashboard.
def typed(obj):
    return pod_from_raw(obj) if obj.get("kind") == "Pod" else workload_from_raw(obj)


def typed_profiles(profiles):
    return None if profiles is None else [profile_from_api(p) for p in profiles]


def check_workloads(workloads, *, profiles=None, pvcs=(), pvs=(), services=(), ingresses=(), **options):
    return compatibility.check_workloads(
        [typed(w) for w in workloads],
        profiles=typed_profiles(profiles),
        pvcs=None if pvcs is None else [volume_claim_from_raw(c) for c in pvcs],
        pvs=None if pvs is None else [volume_from_raw(v) for v in pvs],
        services=[service_from_raw(s) for s in services],
        ingresses=[ingress_from_raw(i) for i in ingresses],
        **options)


def placement(workload, profiles):
    return compatibility.placement(typed(workload), typed_profiles(profiles))


def codes(findings):
    return [f.code for f in findings]


def only(findings, code):
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, findings
    return matching[0]


def test_clean_deployment_has_no_findings():
    assert check_workloads([deployment()], profiles=PROFILES) == []


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ({"hostNetwork": True}, "FG001"),
        ({"hostPID": True}, "FG001"),
        ({"volumes": [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}]}, "FG007"),
        ({"volumes": [{"name": "certs", "csi": {"driver": "csi.cert-manager.io"}}]}, "FG007"),
        ({"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "missing"}}]}, "FG008"),
        ({"volumes": [{"name": "share", "nfs": {"server": "x", "path": "/"}}]}, "FG025"),
        ({"nodeSelector": {"kubernetes.io/arch": "arm64"}}, "FG011"),
        ({"nodeSelector": {"kubernetes.io/os": "windows"}}, "FG011"),
        ({"nodeSelector": {"eks.amazonaws.com/nodegroup": "ng-1"}}, "FG011"),
    ],
)
def test_pod_spec_checks(spec, code):
    findings = check_workloads([deployment(**spec)], profiles=PROFILES)
    assert code in codes(findings)
    assert all(f.object == "Deployment/prod/api" for f in findings)


@pytest.mark.parametrize(
    ("container", "code", "severity"),
    [
        ({"ports": [{"containerPort": 80, "hostPort": 80}]}, "FG002", "error"),
        ({"securityContext": {"privileged": True}}, "FG003", "error"),
        ({"securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}, "FG004", "error"),
        ({"securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}, "FG005", "warning"),
        ({"securityContext": {"allowPrivilegeEscalation": True}}, "FG006", "warning"),
        ({"volumeDevices": [{"name": "raw", "devicePath": "/dev/xvdb"}]}, "FG009", "error"),
    ],
)
def test_container_checks(container, code, severity):
    finding = only(check_workloads([deployment(container=container)], profiles=PROFILES), code)
    assert finding.severity == severity
    assert "container app" in finding.evidence[0] or code == "FG009" or code == "FG002"


def test_fargate_compatible_node_constraints_pass():
    ok = deployment(
        nodeSelector={"kubernetes.io/os": "linux", "topology.kubernetes.io/zone": "eu-central-1a"},
        affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}]}}},
    )
    assert check_workloads([ok], profiles=PROFILES) == []


def test_required_affinity_with_one_satisfiable_term_passes_and_none_fails():
    def affinity(*terms):
        return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}

    arm = {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}]}
    ec2 = {"matchExpressions": [{"key": "eks.amazonaws.com/compute-type", "operator": "NotIn", "values": ["fargate"]}]}
    any_linux = {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "Exists"}]}
    assert "FG011" in codes(check_workloads([deployment(affinity=affinity(arm, ec2))], profiles=PROFILES))
    assert "FG011" not in codes(check_workloads([deployment(affinity=affinity(arm, any_linux))], profiles=PROFILES))


def test_pvc_bound_to_efs_is_fine_and_to_ebs_is_not():
    pvcs = [
        {"metadata": {"name": "efs", "namespace": "prod"}, "spec": {"volumeName": "pv-efs"}, "status": {"phase": "Bound"}},
        {"metadata": {"name": "ebs", "namespace": "prod"}, "spec": {"volumeName": "pv-ebs"}, "status": {"phase": "Bound"}},
    ]
    pvs = [
        {"metadata": {"name": "pv-efs"}, "spec": {"csi": {"driver": "efs.csi.aws.com"}}},
        {"metadata": {"name": "pv-ebs"}, "spec": {"csi": {"driver": "ebs.csi.aws.com"}}},
    ]
    efs = deployment(volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "efs"}}])
    assert check_workloads([efs], profiles=PROFILES, pvcs=pvcs, pvs=pvs) == []
    ebs = deployment(volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "ebs"}}])
    finding = only(check_workloads([ebs], profiles=PROFILES, pvcs=pvcs, pvs=pvs), "FG008")
    assert "CSI Driver: ebs.csi.aws.com" in finding.evidence[0]
    # The same claim name in another namespace does not count.
    other_ns = deployment(namespace="prod2", volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "efs"}}])
    assert "FG008" in codes(check_workloads([other_ns], pvcs=pvcs, pvs=pvs))


def test_daemonset_is_an_error_and_never_placed():
    ds = deployment()
    ds["kind"] = "DaemonSet"
    findings = check_workloads([ds], profiles=PROFILES)
    assert codes(findings) == ["FG010"]
    assert placement(ds, PROFILES) is None


def test_gpu_too_large_and_ephemeral_storage():
    gpu = deployment(resources={"limits": {"nvidia.com/gpu": "1", "cpu": "1", "memory": "1Gi"}})
    assert "FG012" in codes(check_workloads([gpu]))
    huge = deployment(resources={"requests": {"cpu": "32", "memory": "1Gi"}, "limits": {"cpu": "32", "memory": "1Gi"}})
    assert "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE" in only(check_workloads([huge]), "FG013").message
    disk = deployment(resources={"requests": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "200Gi"},
                                 "limits": {"cpu": "1", "memory": "1Gi"}})
    assert "FG014" in codes(check_workloads([disk]))


def test_requests_differ_from_limits():
    spec = {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "0.25Gi"}}
    finding = only(check_workloads([deployment(resources=spec)]), "FG015")
    assert finding.evidence[0] == "container app: cpu 250m != 500m"  # 256Mi == 0.25Gi exactly


def test_no_requests():
    finding = only(check_workloads([deployment(resources={})]), "FG016")
    assert "no cpu or memory request" in finding.evidence[0]


def test_unparseable_quantity_is_an_error_not_a_crash():
    finding = only(check_workloads([deployment(resources={"requests": {"cpu": "lots"}})]), "FG026")
    assert "lots" in finding.evidence[0]


def test_rounding_waste_threshold():
    # 1 vCPU + 8 GiB pays for 2 vCPU 9 GB: far above 25 % waste.
    wasteful = {"requests": {"cpu": "1", "memory": "8Gi"}, "limits": {"cpu": "1", "memory": "8Gi"}}
    finding = only(check_workloads([deployment(resources=wasteful)]), "FG017")
    assert finding.severity == "info" and "2vCPU 9GB" in finding.evidence[0]
    assert "FG017" not in codes(check_workloads([deployment(resources=wasteful)], waste_threshold=0.9))


def test_unplaced_workload_and_inactive_profile():
    findings = check_workloads([deployment(namespace="default"), deployment(namespace="staging")], profiles=PROFILES)
    unplaced = {f.object: f for f in findings if f.code == "FG018"}
    assert set(unplaced) == {"Deployment/default/api", "Deployment/staging/api"}
    assert "fp-staging is CREATING" in unplaced["Deployment/staging/api"].evidence[0]
    assert check_workloads([deployment(namespace="default")]) == []  # no profiles given: not evaluated


def test_placement_follows_profile_rules():
    assert placement(deployment(), PROFILES).name == "fp-prod"
    assert placement(deployment(namespace="staging"), PROFILES) is None
    cron = {"kind": "CronJob", "metadata": {"name": "c", "namespace": "prod"},
            "spec": {"jobTemplate": {"spec": {"template": {"metadata": {}, "spec": {"containers": []}}}}}}
    assert placement(cron, PROFILES).name == "fp-prod"


def test_pods_owned_by_controllers_are_left_to_their_controller():
    pod = {"kind": "Pod", "metadata": {"name": "api-1", "namespace": "prod",
           "ownerReferences": [{"kind": "ReplicaSet", "name": "api-1", "controller": True}]},
           "spec": {"hostNetwork": True, "containers": []}}
    assert check_workloads([pod]) == []
    del pod["metadata"]["ownerReferences"]
    assert "FG001" in codes(check_workloads([pod]))


def service(name="api", namespace="prod", *, type_="ClusterIP", annotations=None, selector=None, lb_class=None):
    spec = {"type": type_, "selector": selector if selector is not None else {"app": name}}
    if lb_class:
        spec["loadBalancerClass"] = lb_class
    return {"metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}}, "spec": spec}


def ingress(annotations=None, backend="api", class_name="alb", namespace="prod"):
    return {
        "metadata": {"name": "web", "namespace": namespace, "annotations": annotations or {}},
        "spec": {"ingressClassName": class_name, "rules": [{"http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": backend, "port": {"number": 80}}}}]}}]},
    }


def test_ingress_without_ip_target_type():
    finding = only(check_workloads([deployment()], profiles=PROFILES, services=[service()], ingresses=[ingress()]), "FG019")
    assert finding.severity == "error" and finding.object == "Ingress/prod/web"
    ok = ingress({"alb.ingress.kubernetes.io/target-type": "ip"})
    assert check_workloads([deployment()], profiles=PROFILES, services=[service()], ingresses=[ok]) == []
    svc_override = service(annotations={"alb.ingress.kubernetes.io/target-type": "ip"})
    assert check_workloads([deployment()], profiles=PROFILES, services=[svc_override], ingresses=[ingress()]) == []
    assert check_workloads([deployment()], profiles=PROFILES, services=[service()], ingresses=[ingress(class_name="nginx")]) == []


def test_ingress_to_pods_not_on_fargate_is_only_a_warning():
    findings = check_workloads([deployment(namespace="default")], services=[service(namespace="default")],
                               ingresses=[ingress(namespace="default")])
    assert only(findings, "FG019").severity == "warning"


@pytest.mark.parametrize(
    ("annotations", "lb_class", "flagged"),
    [
        ({}, None, True),
        ({"service.beta.kubernetes.io/aws-load-balancer-type": "external"}, None, True),
        ({"service.beta.kubernetes.io/aws-load-balancer-type": "external",
          "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip"}, None, False),
        ({"service.beta.kubernetes.io/aws-load-balancer-type": "nlb-ip"}, None, False),
        ({"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip"}, "service.k8s.aws/nlb", False),
    ],
)
def test_load_balancer_services(annotations, lb_class, flagged):
    svc = service(type_="LoadBalancer", annotations=annotations, lb_class=lb_class)
    findings = check_workloads([deployment()], profiles=PROFILES, services=[svc])
    assert ("FG020" in codes(findings)) is flagged
    if flagged:
        assert only(findings, "FG020").severity == "error"


def role(principal, condition=True, encoded=False):
    statement = {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = {"ArnLike": {"aws:SourceArn": "arn:aws:eks:eu-central-1:111122223333:fargateprofile/iagent-cluster/*"}}
    document = {"Version": "2012-10-17", "Statement": [statement]}
    if encoded:
        from urllib.parse import quote
        document = quote(json.dumps(document))
    return {"RoleName": "EKSFargatePodExecutionRole", "AssumeRolePolicyDocument": document}


def test_pod_execution_role_with_the_brief_principal_is_flagged():
    finding = only(check_workloads([], pod_execution_roles=[role("pods.eks.amazonaws.com")]), "FG021")
    assert finding.severity == "error"
    assert "EKS Pod Identity" in finding.message and "eks-fargate-pods.amazonaws.com" in finding.fix


def test_pod_execution_role_correct_principal():
    assert check_workloads([], pod_execution_roles=[role("eks-fargate-pods.amazonaws.com")]) == []
    assert check_workloads([], pod_execution_roles=[role(["ec2.amazonaws.com", "eks-fargate-pods.amazonaws.com"], encoded=True)]) == []
    assert codes(check_workloads([], pod_execution_roles=[role("eks-fargate-pods.amazonaws.com", condition=False)])) == ["FG022"]


def test_pod_identity_association_on_fargate_workload():
    associations = [{"namespace": "prod", "serviceAccount": "api-sa"}]
    wl = deployment(serviceAccountName="api-sa")
    assert codes(check_workloads([wl], profiles=PROFILES, pod_identity_associations=associations)) == ["FG024"]
    assert check_workloads([deployment()], profiles=PROFILES, pod_identity_associations=associations) == []


def test_findings_sorted_worst_first_and_counted():
    workloads = [
        deployment("a", resources={"requests": {"cpu": "1", "memory": "8Gi"}, "limits": {"cpu": "1", "memory": "8Gi"}}),
        deployment("b", namespace="default"),
        deployment("c", hostNetwork=True),
    ]
    findings = check_workloads(workloads, profiles=PROFILES)
    assert [f.severity for f in findings] == ["error", "warning", "info"]
    assert count_by_severity(findings) == {"error": 1, "warning": 1, "info": 1}


def test_finding_rejects_unknown_severity():
    with pytest.raises(ValueError):
        Finding("FG999", "fatal", "blocker", "x", "t", "m", ("e",), ("f",))


def test_workload_without_template_is_a_clear_error():
    with pytest.raises(ValueError, match="no pod template"):
        pod_template_from_raw({"kind": "Service", "metadata": {"name": "s"}})


def test_coredns_deployment_pinned_to_ec2_is_not_placed():
    coredns = deployment("coredns", "kube-system", labels={"k8s-app": "kube-dns"})
    coredns["spec"]["template"]["metadata"]["annotations"] = {"eks.amazonaws.com/compute-type": "ec2"}
    profiles = [{"fargateProfileName": "coredns", "status": "ACTIVE",
                 "selectors": [{"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}}]}]
    assert placement(coredns, profiles) is None
    del coredns["spec"]["template"]["metadata"]["annotations"]
    assert placement(coredns, profiles).name == "coredns"


def test_eks_node_agents_are_not_migration_errors():
    def daemonset(namespace, name):
        return {"kind": "DaemonSet", "metadata": {"namespace": namespace, "name": name},
                "spec": {"template": {"metadata": {"labels": {"k8s-app": name}}, "spec": {
                    "hostNetwork": True,
                    "containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}]}}}}

    findings = check_workloads([daemonset("kube-system", "aws-node"), daemonset("kube-system", "kube-proxy"),
                                daemonset("logging", "fluent-bit")], profiles=[])
    by_object = {}
    for f in findings:
        by_object.setdefault(f.object, set()).add((f.code, f.severity))
    assert by_object["DaemonSet/kube-system/aws-node"] == {("FG027", "info")}
    assert by_object["DaemonSet/kube-system/kube-proxy"] == {("FG027", "info")}
    # a DaemonSet of the team's own (or outside kube-system) is still an error to act on
    assert ("FG010", "error") in by_object["DaemonSet/logging/fluent-bit"]


def statefulset(name="db", namespace="prod", storage_class="gp3"):
    sts = deployment(name, namespace)
    sts["kind"] = "StatefulSet"
    sts["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"},
                                           "spec": {"storageClassName": storage_class, "accessModes": ["ReadWriteOnce"]}}]
    return sts


def claim(name, volume, namespace="prod", phase="Bound"):
    return {"metadata": {"name": name, "namespace": namespace}, "spec": {"volumeName": volume}, "status": {"phase": phase}}


def volume(name, driver):
    return {"metadata": {"name": name}, "spec": {"csi": {"driver": driver, "volumeHandle": "h"}}}


def test_statefulset_claims_on_ebs_block_fargate_and_efs_claims_do_not():
    # DOMAIN.md 5.2: "PVC <pvc> bound to invalid PV <pv> with CSI Driver: ebs.csi.aws.com"
    ebs = only(check_workloads([statefulset()], profiles=PROFILES, pvcs=[claim("data-db-0", "pv-1")],
                               pvs=[volume("pv-1", "ebs.csi.aws.com")]), "FG008")
    assert ebs.severity == "error" and ebs.category == "blocker" and ebs.object == "StatefulSet/prod/db"
    assert ebs.evidence == ("PVC data-db-0 bound to invalid PV pv-1 with CSI Driver: ebs.csi.aws.com",)
    assert check_workloads([statefulset()], profiles=PROFILES, pvcs=[claim("data-db-0", "pv-2")],
                           pvs=[volume("pv-2", "efs.csi.aws.com")]) == []


def test_statefulset_without_claims_yet_is_dynamic_provisioning_even_when_claims_are_unreadable():
    fresh = only(check_workloads([statefulset()], profiles=PROFILES), "FG008")
    assert "claims provisioned dynamically by gp3" in fresh.evidence[0]
    unread = only(check_workloads([statefulset()], profiles=PROFILES, pvcs=None, pvs=None), "FG008")
    assert unread.evidence[0].endswith("(claims not readable)")


def test_pod_claims_are_not_judged_when_claims_could_not_be_read():
    mounted = deployment(volumes=[{"name": "shared", "persistentVolumeClaim": {"claimName": "shared"}}])
    assert codes(check_workloads([mounted], profiles=PROFILES)) == ["FG008"]  # read, and not there
    assert check_workloads([mounted], profiles=PROFILES, pvcs=None, pvs=None) == []
