"""Deployments, kube-scheduler, kubelet failure paths and StatefulSets on EC2 nodes."""

from __future__ import annotations

import json

from iagent_sandbox.kube.resources import rt
from iagent_sandbox.scenarios import container, deployment, service, vectordb

from .dyn_workloads_support import (NODES, PODS, ec2_node, events_for, pods_of, ready, running_world,
                                    wait_for)

DEPLOY, RS = rt("deployments"), rt("replicasets")


def ready_pods(world, namespace, prefix):
    return [p for p in pods_of(world, namespace, prefix) if ready(p) and not p["metadata"].get("deletionTimestamp")]


async def test_rollout_restart_replaces_pods_and_scaling_follows():
    async with running_world("pre-migration") as world:
        world.store.create(NODES, ec2_node("10.0.100.10"))
        world.store.create(NODES, ec2_node("10.0.110.20", "eu-central-1b"))
        world.store.create(DEPLOY, deployment("api", "default", 2,
                                              [container("api", "nginx:1.27", "250m", "256Mi", 80, "/")]))
        await wait_for(lambda: len(ready_pods(world, "default", "api")) == 2, what="2 ready pods")
        first = {p["metadata"]["name"] for p in pods_of(world, "default", "api")}
        world.store.create(rt("services"), service("api", "default", {"app.kubernetes.io/name": "api"}))

        def endpoint_ips():
            ep = world.store.get(rt("endpoints"), "default", "api") or {}
            return sorted(a["ip"] for s in ep.get("subsets") or () for a in s.get("addresses") or ())
        pod_ips = sorted(p["status"]["podIP"] for p in pods_of(world, "default", "api"))
        await wait_for(lambda: endpoint_ips() == pod_ips, what="endpoints listing both pods")
        ports = world.store.get(rt("endpoints"), "default", "api")["subsets"][0]["ports"]
        assert ports == [{"port": 80, "protocol": "TCP", "name": "http"}]
        pod = pods_of(world, "default", "api")[0]
        assert pod["status"]["podIP"].startswith("10.0.") and pod["status"]["hostIP"] != pod["status"]["podIP"]
        # What `kubectl rollout restart` sends.
        world.store.patch(DEPLOY, "default", "api", json.dumps({"spec": {"template": {"metadata": {
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-26T12:00:00Z"}}}}}),
            "application/strategic-merge-patch+json")

        def rolled():
            d = world.store.get(DEPLOY, "default", "api")
            st = d.get("status") or {}
            names = {p["metadata"]["name"] for p in pods_of(world, "default", "api")}
            return (st.get("updatedReplicas") == 2 and st.get("availableReplicas") == 2
                    and st.get("replicas") == 2 and not names & first and d)
        d = await wait_for(rolled, what="rollout restart to finish")
        assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
        progressing = next(c for c in d["status"]["conditions"] if c["type"] == "Progressing")
        assert progressing["reason"] == "NewReplicaSetAvailable"
        rss = world.store.list(RS, "default")[0]
        assert sorted(r["spec"]["replicas"] for r in rss) == [0, 2]
        messages = [e["message"] for e in world.store.list(rt("events"), "default")[0]
                    if e["reason"] == "ScalingReplicaSet"]
        assert any(m.startswith("Scaled up replica set api-") and m.endswith("from 0 to 1") for m in messages)

        world.store.patch(DEPLOY, "default", "api", {"spec": {"replicas": 3}}, "application/merge-patch+json")
        await wait_for(lambda: len(ready_pods(world, "default", "api")) == 3, what="scaled to 3")
        world.store.patch(DEPLOY, "default", "api", {"spec": {"replicas": 1}}, "application/merge-patch+json")
        await wait_for(lambda: len(pods_of(world, "default", "api")) == 1, what="scaled to 1")


async def test_insufficient_cpu_uses_the_scheduler_message():
    async with running_world("pre-migration") as world:
        world.store.create(NODES, ec2_node("10.0.100.10", cpu="500m"))
        world.store.create(PODS, {"metadata": {"name": "big", "namespace": "default"}, "spec": {
            "containers": [container("app", "nginx:1.27", "1", "256Mi", 80, None)]}})
        expected = ("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
                    "1 No preemption victims found for incoming pod.")
        await wait_for(lambda: any(e["message"] == expected for e in events_for(
            world, world.store.get(PODS, "default", "big"))), what="Insufficient cpu")
        # A bigger node joins: the pending pod is retried and lands there.
        world.store.create(NODES, ec2_node("10.0.100.11", cpu="1930m"))
        await wait_for(lambda: world.store.get(PODS, "default", "big")["spec"].get("nodeName")
                       == "ip-10-0-100-11.eu-central-1.compute.internal", what="retry on node add")


async def test_crash_loop_and_image_pull_back_off():
    async with running_world("pre-migration") as world:
        world.store.create(NODES, ec2_node("10.0.100.10"))
        world.store.create(PODS, {"metadata": {"name": "crashy", "namespace": "default"}, "spec": {
            "containers": [container("app", "nginx:1.27", "100m", "64Mi", 80, None,
                                     env=[{"name": "SANDBOX_CRASH", "value": "1"}])]}})
        world.store.create(PODS, {"metadata": {"name": "badimage", "namespace": "default"}, "spec": {
            "containers": [container("app", "nginx:doesnotexist", "100m", "64Mi", 80, None)]}})

        def state(name):
            pod = world.store.get(PODS, "default", name)
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            return pod, (statuses[0] if statuses else {})
        _, cs = await wait_for(lambda: (r := state("crashy"))[1].get("restartCount", 0) >= 2
                               and "waiting" in r[1]["state"] and r, what="crash loop")
        assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        assert cs["lastState"]["terminated"]["exitCode"] == 1
        pod, _ = state("crashy")
        assert any(e["reason"] == "BackOff" and e["message"].startswith("Back-off restarting failed container app")
                   for e in events_for(world, pod))
        _, cs = await wait_for(lambda: (r := state("badimage"))[1].get("state", {}).get("waiting", {})
                               .get("reason") == "ImagePullBackOff" and r, what="ImagePullBackOff")
        pod, _ = state("badimage")
        assert pod["status"]["phase"] == "Pending"
        messages = [(e["reason"], e["message"]) for e in events_for(world, pod)]
        assert ("Failed", "Error: ErrImagePull") in messages
        assert ("BackOff", 'Back-off pulling image "nginx:doesnotexist"') in messages
        assert any(m.startswith('Failed to pull image "nginx:doesnotexist": rpc error: code = NotFound')
                   for _, m in messages)


async def test_statefulset_gets_ordinal_pods_and_ebs_claims():
    async with running_world("pre-migration") as world:
        world.store.create(NODES, ec2_node("10.0.100.10"))
        sts = vectordb("default")
        sts["spec"]["replicas"] = 2
        world.store.create(rt("statefulsets"), sts)
        await wait_for(lambda: len(ready_pods(world, "default", "iagent-vectordb-")) == 2, what="2 ordinals ready")
        names = sorted(p["metadata"]["name"] for p in pods_of(world, "default", "iagent-vectordb-"))
        assert names == ["iagent-vectordb-0", "iagent-vectordb-1"]
        pvc = world.store.get(rt("persistentvolumeclaims"), "default", "data-iagent-vectordb-0")
        assert pvc["status"]["phase"] == "Bound"
        pv = world.store.get(rt("persistentvolumes"), None, pvc["spec"]["volumeName"])
        assert pv["spec"]["csi"]["driver"] == "ebs.csi.aws.com"
        # pod-1 was created only once pod-0 was Ready (OrderedReady).
        p0, p1 = (world.store.get(PODS, "default", n) for n in names)
        ready0 = next(c for c in p0["status"]["conditions"] if c["type"] == "Ready")["lastTransitionTime"]
        assert p1["metadata"]["creationTimestamp"] >= ready0


async def test_node_critical_pod_preempts_a_lower_priority_one():
    async with running_world("pre-migration") as world:
        node = ec2_node("10.0.100.10", cpu="500m")
        world.store.create(NODES, node)
        world.store.create(PODS, {"metadata": {"name": "filler", "namespace": "default"}, "spec": {
            "containers": [container("app", "nginx:1.27", "400m", "64Mi", 80, None)]}})
        await wait_for(lambda: world.store.get(PODS, "default", "filler")["spec"].get("nodeName"), what="filler bound")
        world.store.create(PODS, {"metadata": {"name": "critical", "namespace": "default"}, "spec": {
            "priorityClassName": "system-node-critical",
            "containers": [container("app", "nginx:1.27", "200m", "64Mi", 80, None)]}})
        await wait_for(lambda: (p := world.store.get(PODS, "default", "critical")) and p["spec"].get("nodeName"),
                       what="critical pod bound after preemption")
        assert world.store.get(PODS, "default", "filler") is None
        preempted = [e for e in world.store.list(rt("events"), "default")[0] if e["reason"] == "Preempted"]
        critical = world.store.get(PODS, "default", "critical")
        assert [e["message"] for e in preempted] == [
            f"Preempted by pod {critical['metadata']['uid']} on node {node['metadata']['name']}"]


async def test_daemonset_template_change_rolls_every_node_and_statefulset_scales_down_from_the_top():
    async with running_world("pre-migration") as world:
        world.store.create(NODES, ec2_node("10.0.100.10"))
        world.store.create(NODES, ec2_node("10.0.110.20", "eu-central-1b"))
        world.store.create(rt("namespaces"), {"metadata": {"name": "logging"}})
        from iagent_sandbox.scenarios import fluent_bit
        world.store.create(rt("daemonsets"), fluent_bit())
        ds_rt = rt("daemonsets")
        await wait_for(lambda: (world.store.get(ds_rt, "logging", "fluent-bit").get("status") or {})
                       .get("numberReady") == 2, what="daemon ready")
        world.store.patch(ds_rt, "logging", "fluent-bit", {"spec": {"template": {"spec": {"containers": [
            {"name": "fluent-bit", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4"}]}}}},
            "application/strategic-merge-patch+json")

        def rolled():
            st = world.store.get(ds_rt, "logging", "fluent-bit")["status"]
            pods = [p for p in pods_of(world, "logging", "fluent-bit") if not p["metadata"].get("deletionTimestamp")]
            return (st.get("updatedNumberScheduled") == 2 and st.get("numberReady") == 2 and len(pods) == 2
                    and all(p["spec"]["containers"][0]["image"].endswith(":2.32.4") for p in pods))
        await wait_for(rolled, what="daemon rolled to the new image")

        sts = vectordb("default")
        sts["spec"]["replicas"] = 3
        world.store.create(rt("statefulsets"), sts)
        await wait_for(lambda: len(ready_pods(world, "default", "iagent-vectordb-")) == 3, what="3 ordinals")
        world.store.patch(rt("statefulsets"), "default", "iagent-vectordb", {"spec": {"replicas": 1}},
                          "application/merge-patch+json")
        await wait_for(lambda: [p["metadata"]["name"] for p in pods_of(world, "default", "iagent-vectordb-")]
                       == ["iagent-vectordb-0"], what="scaled down to ordinal 0")
        # Claims outlive their pods, as StatefulSet claims do by default.
        assert world.store.get(rt("persistentvolumeclaims"), "default", "data-iagent-vectordb-2") is not None
