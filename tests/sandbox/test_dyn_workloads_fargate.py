"""Fargate admission + fargate-scheduler + kubelet against the real store and AwsSandbox profiles."""

from __future__ import annotations

from iagent_sandbox.clock import parse_rfc3339
from iagent_sandbox.kube.resources import rt
from iagent_sandbox.scenarios import container, deployment

from .dyn_workloads_support import (NODES, PODS, ec2_node, events_for, pods_of, ready, running_world,
                                    wait_for)


def bare_pod(name: str, namespace: str = "default", **container_extra) -> dict:
    c = container("app", "public.ecr.aws/nginx/nginx:1.27-alpine", container_extra.pop("cpu", "250m"),
                  container_extra.pop("memory", "256Mi"), 80, "/", **container_extra)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [c]}}


def cond(pod: dict, ctype: str) -> dict:
    return next(c for c in pod["status"]["conditions"] if c["type"] == ctype)


async def test_matched_pod_lands_on_its_own_fargate_node_with_events_in_order():
    # A slower clock than the other tests: this one asserts simulated durations, and a busy
    # machine's scheduling latency is multiplied by the speed.
    async with running_world("migrated", speed=100) as world:
        world.store.create(rt("deployments"), deployment(
            "demo", "default", 1, [container("web", "public.ecr.aws/nginx/nginx:1.27-alpine", "1", "8Gi", 80, "/")]))
        pod = await wait_for(lambda: next((p for p in pods_of(world, "default", "demo") if ready(p)), None),
                             what="the demo pod to be Ready")
        meta, spec, status = pod["metadata"], pod["spec"], pod["status"]
        # DOMAIN 1.2 worked example: 1 vCPU / 8 GiB + 256 MiB -> 2vCPU 9GB.
        assert meta["annotations"]["CapacityProvisioned"] == "2vCPU 9GB"
        assert meta["annotations"]["Logging"] == "LoggingDisabled: LOGGING_CONFIGMAP_NOT_FOUND"
        assert meta["labels"]["eks.amazonaws.com/fargate-profile"] == "fp-default"
        assert spec["schedulerName"] == "fargate-scheduler"
        assert (spec["priority"], spec["priorityClassName"]) == (2000001000, "system-node-critical")
        assert spec["nodeName"] == f"fargate-ip-{status['podIP'].replace('.', '-')}.eu-central-1.compute.internal"
        assert status["hostIP"] == status["podIP"]

        node = world.store.get(NODES, None, spec["nodeName"])
        labels = node["metadata"]["labels"]
        assert labels["eks.amazonaws.com/compute-type"] == "fargate"
        assert labels["topology.kubernetes.io/region"] == "eu-central-1"
        assert node["spec"]["taints"] == [{"key": "eks.amazonaws.com/compute-type", "value": "fargate",
                                           "effect": "NoSchedule"}]
        assert node["status"]["capacity"]["pods"] == "1"
        assert node["spec"]["providerID"].endswith("/" + spec["nodeName"])

        reasons = [e["reason"] for e in events_for(world, pod)]
        assert reasons == ["Scheduled", "LoggingDisabled", "Pulling", "Pulled", "Created", "Started"]
        scheduled = events_for(world, pod)[0]
        assert scheduled["source"]["component"] == "fargate-scheduler"
        assert scheduled["message"] == f"Successfully assigned default/{meta['name']} to {spec['nodeName']}"
        pulled = events_for(world, pod)[3]["message"]
        assert pulled.startswith('Successfully pulled image "public.ecr.aws/nginx/nginx:1.27-alpine" in ')
        assert pulled.endswith("Image size: 20480000 bytes.")

        created = parse_rfc3339(meta["creationTimestamp"])
        scheduled_at = parse_rfc3339(cond(pod, "PodScheduled")["lastTransitionTime"])
        started = parse_rfc3339(status["startTime"])
        running = parse_rfc3339(status["containerStatuses"][0]["state"]["running"]["startedAt"])
        ready_at = parse_rfc3339(cond(pod, "Ready")["lastTransitionTime"])
        assert created <= scheduled_at <= started <= running <= ready_at
        # Capacity is provisioned in 30-45 s, and the whole start stays within the brief's 120 s.
        assert 30 <= (scheduled_at - created).total_seconds() <= 50
        assert (ready_at - created).total_seconds() <= 120


async def test_unsupported_and_too_large_pods_stay_pending_with_the_real_reasons():
    async with running_world("migrated") as world:
        world.store.create(PODS, bare_pod("priv", securityContext={"privileged": True}))
        world.store.create(PODS, bare_pod("huge", cpu="16", memory="128Gi"))
        priv = await wait_for(lambda: (p := world.store.get(PODS, "default", "priv"))
                              and (p.get("status") or {}).get("conditions") and p, what="priv judged")
        message = "Pod not supported on Fargate: invalid SecurityContext fields: Privileged"
        assert cond(priv, "PodScheduled")["reason"] == "POD_UNSUPPORTED_ON_FARGATE"
        assert cond(priv, "PodScheduled")["message"] == message
        event = events_for(world, priv)[0]
        assert (event["type"], event["reason"], event["message"]) == ("Warning", "FailedScheduling", message)
        assert event["source"]["component"] == "fargate-scheduler"
        huge = await wait_for(lambda: (p := world.store.get(PODS, "default", "huge"))
                              and (p.get("status") or {}).get("conditions") and p, what="huge judged")
        assert cond(huge, "PodScheduled")["status"] == "False"
        assert cond(huge, "PodScheduled")["reason"] == "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE"
        assert cond(huge, "PodScheduled")["message"] == \
            "Your pod's cpu/memory requirements exceed the max Fargate configuration"
        assert huge["status"]["phase"] == "Pending" and not huge["spec"].get("nodeName")


async def test_unmatched_pod_sees_no_nodes_then_the_fargate_taint():
    async with running_world("migrated") as world:
        world.store.create(rt("namespaces"), {"metadata": {"name": "tools"}})
        world.store.create(PODS, bare_pod("stray", "tools"))

        def failed_messages():
            pod = world.store.get(PODS, "tools", "stray")
            return [e["message"] for e in events_for(world, pod) if e["reason"] == "FailedScheduling"]
        await wait_for(lambda: "no nodes available to schedule pods" in failed_messages(), what="no nodes")
        stray = world.store.get(PODS, "tools", "stray")
        assert stray["spec"]["schedulerName"] == "default-scheduler"
        assert "eks.amazonaws.com/fargate-profile" not in (stray["metadata"].get("labels") or {})
        # A Fargate pod brings a Fargate node; the stray pod is retried and cannot tolerate it.
        world.store.create(PODS, bare_pod("web"))
        expected = ("0/1 nodes are available: 1 node(s) had untolerated taint "
                    "{eks.amazonaws.com/compute-type: fargate}. preemption: 0/1 nodes are available: "
                    "1 Preemption is not helpful for scheduling.")
        await wait_for(lambda: expected in failed_messages(), what="untolerated taint message")
        assert cond(world.store.get(PODS, "tools", "stray"), "PodScheduled")["reason"] == "Unschedulable"


async def test_graceful_deletion_stops_the_pod_then_removes_its_fargate_node():
    async with running_world("migrated") as world:
        world.store.create(PODS, bare_pod("web"))
        pod = await wait_for(lambda: (p := world.store.get(PODS, "default", "web")) and ready(p) and p,
                             what="web Ready")
        node_name = pod["spec"]["nodeName"]
        deleting = world.store.delete(PODS, "default", "web")
        assert deleting["metadata"]["deletionTimestamp"]  # graceful: still there, terminating
        await wait_for(lambda: world.store.get(PODS, "default", "web") is None, what="pod gone")
        await wait_for(lambda: world.store.get(NODES, None, node_name) is None, what="node gone")


async def test_daemonset_runs_on_ec2_nodes_only():
    async with running_world("migrated") as world:
        world.store.create(NODES, ec2_node("10.0.100.10"))
        world.store.create(NODES, ec2_node("10.0.110.20", "eu-central-1b"))
        world.store.create(PODS, bare_pod("web"))  # brings a Fargate node
        await wait_for(lambda: any(n["metadata"]["name"].startswith("fargate-")
                                   for n in world.store.list(NODES)[0]), what="a Fargate node")
        world.store.create(rt("namespaces"), {"metadata": {"name": "logging"}})
        from iagent_sandbox.scenarios import fluent_bit
        world.store.create(rt("daemonsets"), fluent_bit())
        await wait_for(lambda: (world.store.get(rt("daemonsets"), "logging", "fluent-bit").get("status") or {})
                       .get("numberReady") == 2, what="fluent-bit ready on both EC2 nodes")
        pods = pods_of(world, "logging", "fluent-bit")
        assert len(pods) == 2
        assert all(p["spec"]["nodeName"].startswith("ip-10-0-") for p in pods)
        status = world.store.get(rt("daemonsets"), "logging", "fluent-bit")["status"]
        assert status["desiredNumberScheduled"] == status["currentNumberScheduled"] == 2


async def test_a_deletion_missed_during_a_watch_gap_still_frees_the_fargate_node():
    async with running_world("migrated") as world:
        world.store.create(PODS, bare_pod("web"))
        pod = await wait_for(lambda: (p := world.store.get(PODS, "default", "web")) and ready(p) and p,
                             what="web Ready")
        # An API server restart ends every watch; the pod is force-deleted before they resume.
        world.store.close_all_watches()
        world.store.delete(PODS, "default", "web", grace_period_seconds=0)
        await wait_for(lambda: world.store.get(NODES, None, pod["spec"]["nodeName"]) is None,
                       what="orphaned Fargate node removed after the re-list")


async def test_pod_waits_for_its_claim_then_runs_on_fargate_with_a_static_efs_volume():
    async with running_world("migrated") as world:
        pod = bare_pod("shared")
        pod["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "efs-claim"}}]
        world.store.create(PODS, pod)
        missing = ('Pod not supported on Fargate: volumes not supported: data not supported because: '
                   'persistentvolumeclaim "efs-claim" not found')
        await wait_for(lambda: any(e["message"] == missing for e in events_for(
            world, world.store.get(PODS, "default", "shared"))), what="claim not found")
        world.store.create(rt("persistentvolumes"), {"metadata": {"name": "efs-pv"}, "spec": {
            "capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteMany"], "storageClassName": "",
            "persistentVolumeReclaimPolicy": "Retain",
            "csi": {"driver": "efs.csi.aws.com", "volumeHandle": "fs-0123456789abcdef0"}}})
        world.store.create(rt("persistentvolumeclaims"), {"metadata": {"name": "efs-claim", "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": "",
                     "resources": {"requests": {"storage": "5Gi"}}}})
        await wait_for(lambda: (c := world.store.get(rt("persistentvolumeclaims"), "default", "efs-claim"))
                       and (c.get("status") or {}).get("phase") == "Bound", what="claim bound")
        # fargate-scheduler looks again (every 30 simulated seconds) and admits the EFS volume.
        placed = await wait_for(lambda: (p := world.store.get(PODS, "default", "shared")) and ready(p) and p,
                                timeout=30, what="pod running on Fargate")
        assert placed["spec"]["nodeName"].startswith("fargate-ip-")


async def test_broken_execution_role_blocks_launches_until_fixed():
    async with running_world("migrated") as world:
        iam = world.aws.backend("iam")
        policy = "arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"
        with world.aws.lock:
            iam.detach_role_policy(policy, "AmazonEKSFargatePodExecutionRole")
        world.store.create(PODS, bare_pod("blocked"))
        message = ("Misconfigured Fargate Profile: fargate profile fp-default blocked for new launches due to: "
                   "Pod execution role is not found in auth config or does not have all required permissions "
                   "for launching fargate pods.")
        await wait_for(lambda: any(e["message"] == message for e in events_for(
            world, world.store.get(PODS, "default", "blocked"))), what="launch blocked")
        assert not world.store.get(PODS, "default", "blocked")["spec"].get("nodeName")
        with world.aws.lock:
            iam.attach_role_policy(policy, "AmazonEKSFargatePodExecutionRole")
        await wait_for(lambda: ready(world.store.get(PODS, "default", "blocked")), what="launch after the fix")
