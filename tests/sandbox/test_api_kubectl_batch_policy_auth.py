"""kubectl and the official client against a running sandbox for Jobs, CronJobs,
PodDisruptionBudgets with eviction (`kubectl drain`), and `kubectl auth can-i` / `whoami`."""

from __future__ import annotations

import subprocess

import pytest

from ..conftest import wait_for

from tests.conftest import requires_kubectl

pytestmark = requires_kubectl


def kubectl(env, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    proc = subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr}")
    return proc


def rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()]


def test_kubectl_create_job_completes(sandbox_env):
    assert kubectl(sandbox_env, "create", "job", "hello", "--image=busybox", "--", "echo", "hi").stdout \
        == "job.batch/hello created\n"
    wait_for(lambda: rows(kubectl(sandbox_env, "get", "jobs", "hello").stdout)[1][1] == "Complete",
             timeout=60, message="job hello Complete")
    out = kubectl(sandbox_env, "get", "jobs", "hello", "-o", "wide").stdout
    head, row = rows(out)
    assert head == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert row[:3] == ["hello", "Complete", "1/1"] and row[5:7] == ["hello", "busybox"]
    assert row[7].startswith("batch.kubernetes.io/controller-uid=")
    pods = rows(kubectl(sandbox_env, "get", "pods", "-l", "job-name=hello").stdout)
    assert pods[1][1:3] == ["0/1", "Completed"]
    assert kubectl(sandbox_env, "wait", "--for=condition=complete", "job/hello", "--timeout=10s").stdout \
        == "job.batch/hello condition met\n"
    assert kubectl(sandbox_env, "logs", "job/hello").stdout == "hi\n"
    described = kubectl(sandbox_env, "describe", "job", "hello").stdout
    assert "Pods Statuses:    0 Active (0 Ready) / 1 Succeeded / 0 Failed" in described
    assert "Completed" in described.split("Events:")[1]


def test_kubectl_create_cronjob_runs_on_schedule(sandbox_env):
    kubectl(sandbox_env, "create", "cronjob", "tick", "--image=busybox", "--schedule=*/1 * * * *",
            "--", "date")
    head = rows(kubectl(sandbox_env, "get", "cronjobs").stdout)[0]
    assert head == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"]

    def ran():
        jobs = rows(kubectl(sandbox_env, "get", "jobs").stdout)[1:]
        return [j for j in jobs if j[0].startswith("tick-") and j[1] == "Complete"]
    wait_for(ran, timeout=60, message="a completed run of the cronjob")
    row = rows(kubectl(sandbox_env, "get", "cronjob", "tick").stdout)[1]
    assert row[1:7] == ["*/1", "*", "*", "*", "*", "<none>"] and row[7] == "False"
    assert row[9] != "<none>"  # LAST SCHEDULE


def test_pdb_holds_an_eviction_then_allows_it(sandbox_env, k8s):
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    core, policy = client.CoreV1Api(k8s), client.PolicyV1Api(k8s)
    kubectl(sandbox_env, "create", "deployment", "guarded", "--image=nginx", "--replicas=2", "-n", "staging")
    kubectl(sandbox_env, "create", "pdb", "guarded", "-n", "staging", "--selector=app=guarded",
            "--min-available=2")
    wait_for(lambda: len([p for p in core.list_namespaced_pod("staging", label_selector="app=guarded").items
                          if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or ())]) == 2,
             timeout=60, message="two ready guarded pods")
    pdb = wait_for(lambda: (b := policy.read_namespaced_pod_disruption_budget("guarded", "staging"))
                   and b.status.current_healthy == 2 and b, timeout=30, message="budget status")
    assert (pdb.status.desired_healthy, pdb.status.disruptions_allowed, pdb.status.expected_pods) == (2, 0, 2)
    header = rows(kubectl(sandbox_env, "get", "pdb", "-n", "staging").stdout)[0]
    assert header == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]

    victim = core.list_namespaced_pod("staging", label_selector="app=guarded").items[0]
    node = victim.spec.node_name
    eviction = client.V1Eviction(metadata=client.V1ObjectMeta(name=victim.metadata.name, namespace="staging"))
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_pod_eviction(victim.metadata.name, "staging", eviction)
    assert refused.value.status == 429
    assert refused.value.body == (
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        '"message":"Cannot evict pod as it would violate the pod\'s disruption budget.",'
        '"reason":"TooManyRequests","details":{"causes":[{"reason":"DisruptionBudget",'
        '"message":"The disruption budget guarded needs 2 healthy pods and has 2 currently"}]},'
        '"code":429}\n')

    held = kubectl(sandbox_env, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--force",
                   "--timeout=7s", "--pod-selector=app=guarded", check=False)
    assert held.returncode == 1
    assert (f'error when evicting pods/"{victim.metadata.name}" -n "staging" (will retry after 5s): '
            "Cannot evict pod as it would violate the pod's disruption budget.") in held.stderr

    kubectl(sandbox_env, "patch", "pdb", "guarded", "-n", "staging", "--type=merge",
            "-p", '{"spec":{"minAvailable":1}}')
    wait_for(lambda: policy.read_namespaced_pod_disruption_budget("guarded", "staging").status.disruptions_allowed == 1,
             timeout=30, message="one disruption allowed")
    done = kubectl(sandbox_env, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--force",
                   "--timeout=60s", "--pod-selector=app=guarded", timeout=90)
    assert f"pod/{victim.metadata.name} evicted" in done.stdout and f"node/{node} drained" in done.stdout
    kubectl(sandbox_env, "uncordon", node)


def test_kubectl_auth_can_i_and_whoami(sandbox_env, k8s):
    from kubernetes import client
    assert kubectl(sandbox_env, "auth", "can-i", "create", "deployments", "-n", "prod").stdout == "yes\n"
    assert kubectl(sandbox_env, "auth", "whoami").stdout.splitlines() == [
        "ATTRIBUTE   VALUE", "Username    kubernetes-admin", "Groups      [system:masters system:authenticated]"]
    listed = rows(kubectl(sandbox_env, "auth", "can-i", "--list").stdout)
    assert listed[1] == ["*.*", "[]", "[]", "[*]"]
    review = client.AuthorizationV1Api(k8s).create_self_subject_access_review(
        client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(verb="delete", resource="nodes"))))
    assert review.status.allowed is True

    rbac = client.RbacAuthorizationV1Api(k8s)
    rbac.create_namespaced_role("staging", client.V1Role(
        metadata=client.V1ObjectMeta(name="reader"),
        rules=[client.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["get", "list"])]))
    kubectl(sandbox_env, "create", "rolebinding", "reader", "-n", "staging", "--role=reader", "--user=jane")
    head, row = rows(kubectl(sandbox_env, "get", "rolebindings", "-n", "staging", "-o", "wide").stdout)
    assert head == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert row[0:2] == ["reader", "Role/reader"] and row[3] == "jane"
    assert [r.metadata.name for r in rbac.list_namespaced_role("staging").items] == ["reader"]
