"""Kubelet probes and gates: init containers, readiness switched at run time, readiness gates
owned by another controller, liveness failures."""

from __future__ import annotations

from iagent_sandbox.clock import parse_rfc3339
from iagent_sandbox.scenarios import container

from .dyn_workloads_support import NODES, PODS, ec2_node, events_for, ready, running_world, wait_for

GATE = "target-health.elbv2.k8s.aws/k8s-default-web-0123456789"


def cond(pod, ctype):
    return next((c for c in pod["status"].get("conditions", []) if c["type"] == ctype), None)


def web_pod(name, **extra):
    c = container("web", "nginx:1.27", "100m", "64Mi", 80, "/", **extra.pop("container", {}))
    return {"metadata": {"name": name, "namespace": "default", **extra.pop("metadata", {})},
            "spec": {"containers": [c], **extra}}


async def test_init_container_then_readiness_after_initial_delay_and_runtime_switch():
    async with running_world("pre-migration") as world:
        world.store.create(NODES, ec2_node("10.0.100.10"))
        world.store.create(PODS, web_pod("web", initContainers=[
            {"name": "migrate", "image": "busybox:1.36", "command": ["sh", "-c", "echo migrated"]}]))
        pod = await wait_for(lambda: (p := world.store.get(PODS, "default", "web")) and ready(p) and p,
                             what="web Ready")
        init = pod["status"]["initContainerStatuses"][0]["state"]["terminated"]
        assert (init["reason"], init["exitCode"]) == ("Completed", 0)
        started = parse_rfc3339(pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"])
        assert parse_rfc3339(init["finishedAt"]) <= parse_rfc3339(cond(pod, "Initialized")["lastTransitionTime"]) <= started
        # readinessProbe initialDelaySeconds is 3: Ready no earlier than that after the start.
        assert (parse_rfc3339(cond(pod, "Ready")["lastTransitionTime"]) - started).total_seconds() >= 3

        world.store.patch(PODS, "default", "web", {"metadata": {"annotations": {"sandbox.iagent.dev/unready": "true"}}},
                          "application/merge-patch+json")
        pod = await wait_for(lambda: (p := world.store.get(PODS, "default", "web")) and not ready(p) and p,
                             what="web unready")
        assert cond(pod, "Ready")["reason"] == "ContainersNotReady"
        assert cond(pod, "Ready")["message"] == "containers with unready status: [web]"
        unhealthy = [e for e in events_for(world, pod) if e["reason"] == "Unhealthy"]
        assert unhealthy[0]["message"] == "Readiness probe failed: HTTP probe failed with statuscode: 503"
        assert unhealthy[0]["count"] >= 3  # failureThreshold periods before the flip
        world.store.patch(PODS, "default", "web", {"metadata": {"annotations": {"sandbox.iagent.dev/unready": None}}},
                          "application/merge-patch+json")
        await wait_for(lambda: ready(world.store.get(PODS, "default", "web")), what="web Ready again")


async def test_readiness_gate_holds_ready_until_its_condition_is_true():
    async with running_world("pre-migration") as world:
        world.store.create(NODES, ec2_node("10.0.100.10"))
        world.store.create(PODS, web_pod("gated", readinessGates=[{"conditionType": GATE}]))
        pod = await wait_for(lambda: (p := world.store.get(PODS, "default", "gated"))
                             and (c := cond(p, "ContainersReady")) and c["status"] == "True" and p,
                             what="containers ready")
        assert cond(pod, "Ready")["status"] == "False"
        assert cond(pod, "Ready")["reason"] == "ReadinessGatesNotReady"
        assert cond(pod, "Ready")["message"] == f'corresponding condition of pod readiness gate "{GATE}" does not exist.'

        def healthy(p):  # what the load balancer controller writes once the target is healthy
            p["status"]["conditions"].append({"type": GATE, "status": "True", "lastProbeTime": None,
                                              "lastTransitionTime": p["status"]["startTime"]})
        world.store.mutate(PODS, "default", "gated", healthy, status=True)
        await wait_for(lambda: ready(world.store.get(PODS, "default", "gated")), what="gate opens Ready")


async def test_failing_liveness_probe_restarts_the_container():
    async with running_world("pre-migration") as world:
        world.store.create(NODES, ec2_node("10.0.100.10"))
        world.store.create(PODS, web_pod("sick", container={"env": [{"name": "SANDBOX_LIVENESS_FAIL", "value": "1"}]}))
        pod = await wait_for(lambda: (p := world.store.get(PODS, "default", "sick"))
                             and any(cs.get("restartCount", 0) >= 1 for cs in p["status"].get("containerStatuses", []))
                             and p, what="a restart")
        messages = [(e["reason"], e["message"]) for e in events_for(world, pod)]
        assert ("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500") in messages
        assert ("Killing", "Container web failed liveness probe, will be restarted") in messages
        assert pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == 137
