"""Scenarios brought up by the real controllers (node group included), then read back: what runs
where, what is refused and why; plus the metrics and log sources over the result."""

from __future__ import annotations

import asyncio

from iagent_sandbox.controllers import nodegroup
from iagent_sandbox.controllers.logs import SandboxLogs
from iagent_sandbox.controllers.metrics import SandboxMetrics
from iagent_sandbox.kube.resources import rt
from iagent_sandbox.scenarios import seed_kube, settled

from .dyn_workloads_support import NODES, PODS, events_for, pods_of, running_world, wait_for


async def bring_up(world):
    task = asyncio.create_task(nodegroup.run(world))
    await seed_kube(world)
    await wait_for(lambda: settled(world), timeout=40, what=f"{world.scenario} to settle")
    return task


async def test_broken_scenario_refuses_what_cannot_run_on_fargate():
    async with running_world("broken") as world:
        task = await bring_up(world)
        try:
            netdebug = world.store.get(PODS, "prod", "netdebug")
            scheduled = next(c for c in netdebug["status"]["conditions"] if c["type"] == "PodScheduled")
            assert scheduled["reason"] == "POD_UNSUPPORTED_ON_FARGATE"
            assert scheduled["message"] == "Pod not supported on Fargate: invalid SecurityContext fields: Privileged"
            vectordb = world.store.get(PODS, "prod", "iagent-vectordb-0")
            message = next(e["message"] for e in events_for(world, vectordb) if e["reason"] == "FailedScheduling")
            pv = world.store.get(rt("persistentvolumeclaims"), "prod", "data-iagent-vectordb-0")["spec"]["volumeName"]
            assert message == (f"Pod not supported on Fargate: volumes not supported: data not supported because: "
                               f"PVC data-iagent-vectordb-0 bound to invalid PV {pv} with CSI Driver: ebs.csi.aws.com")
            indexer = pods_of(world, "prod", "iagent-indexer")[0]
            assert indexer["metadata"]["annotations"]["CapacityProvisioned"] == "1vCPU 5GB"
            # staging has no profile in this scenario: it stays on the node group.
            assert all(p["spec"]["nodeName"].startswith("ip-") for p in pods_of(world, "staging", ""))
            # DaemonSets never land on the Fargate nodes.
            fargate_nodes = {n["metadata"]["name"] for n in world.store.list(NODES)[0]
                             if n["metadata"]["name"].startswith("fargate-")}
            assert fargate_nodes
            for ns in ("kube-system", "logging"):
                for pod in pods_of(world, ns, ""):
                    if pod["metadata"]["name"].startswith(("kube-proxy", "aws-node", "fluent-bit")):
                        assert pod["spec"]["nodeName"] not in fargate_nodes

            metrics, logs = SandboxMetrics(world), SandboxLogs(world)
            web = pods_of(world, "prod", "iagent-web")[0]
            usage = metrics.pod_usage(web)
            assert set(usage) == {"web"} and usage["web"]["cpu"].endswith("m")
            assert int(usage["web"]["cpu"][:-1]) < 100  # below its 100m request
            assert metrics.pod_usage(netdebug) is None  # not running
            node = world.store.get(NODES, None, web["spec"]["nodeName"])
            assert metrics.node_usage(node)["cpu"].endswith("m")
            coredns = pods_of(world, "kube-system", "coredns")[0]
            assert [text for _, text in logs.pod_log(coredns, "coredns")][:1] == [".:53"]
            first = logs.pod_log(web, "web")
            again = logs.pod_log(web, "web")
            assert again[:len(first)] == first  # repeatable: a later read only adds newer lines
            assert '"logger": "iagent-web"' in first[1][1]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


# Worked by hand from DOMAIN.md 1.1-1.2 (requests + 256 MiB, rounded up the table), per workload
# of the migrated scenario: (cpu, memory) requested -> CapacityProvisioned.
MIGRATED_CAPACITY = {
    "default/iagent-sample": "0.25vCPU 0.5GB",  # 250m, 256Mi -> 512 MiB
    "default/iagent-web": "0.25vCPU 1GB",  # 100m, 512Mi -> 768 MiB
    "prod/iagent-api": "0.25vCPU 1GB",  # 250m, 512Mi
    "prod/iagent-indexer": "1vCPU 5GB",  # 500m, 4Gi -> 4.25 GiB: past 0.5 vCPU's 4 GB
    "prod/iagent-web": "0.25vCPU 0.5GB",  # 100m, 256Mi
    "prod/iagent-worker": "0.5vCPU 2GB",  # 500m, 1Gi -> 1.25 GiB
    "staging/iagent-api": "0.25vCPU 1GB",  # 250m, 512Mi
    "staging/iagent-batch": "0.25vCPU 1GB",  # 250m, 512Mi
}


async def test_migrated_scenario_runs_iagent_on_fargate_and_keeps_blockers_on_ec2():
    async with running_world("migrated") as world:
        task = await bring_up(world)
        try:
            seen = set()
            for ns in ("default", "prod", "staging"):
                for pod in pods_of(world, ns, ""):
                    assert pod["spec"]["nodeName"].startswith("fargate-ip-"), pod["metadata"]["name"]
                    workload = f"{ns}/{pod['metadata']['name'].rsplit('-', 2)[0]}"
                    seen.add(workload)
                    assert pod["metadata"]["annotations"]["CapacityProvisioned"] == MIGRATED_CAPACITY[workload]
            assert seen == set(MIGRATED_CAPACITY)
            sample = pods_of(world, "default", "iagent-sample")
            assert len(sample) == 2 and all(p["metadata"]["annotations"]["CapacityProvisioned"] == "0.25vCPU 0.5GB"
                                            for p in sample)
            coredns = pods_of(world, "kube-system", "coredns")
            assert len(coredns) == 2
            assert all(p["metadata"]["labels"]["eks.amazonaws.com/fargate-profile"] == "fp-kube-system" for p in coredns)
            for pod in pods_of(world, "legacy", ""):
                assert pod["spec"]["nodeName"].startswith("ip-10-0-")
            endpoints = world.store.get(rt("endpoints"), "default", "iagent-sample")
            assert sorted(a["ip"] for a in endpoints["subsets"][0]["addresses"]) == \
                sorted(p["status"]["podIP"] for p in sample)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def test_every_scenario_has_the_kubernetes_service_and_broken_plants_an_instance_target_ingress():
    from iagent_sandbox.scenarios import scenario_objects

    for name in ("pre-migration", "migrated", "broken"):
        objs = {(plural, o["metadata"].get("namespace"), o["metadata"]["name"]) for plural, o in scenario_objects(name)}
        assert ("services", "default", "kubernetes") in objs
        assert ("endpoints", "default", "kubernetes") in objs
    ingresses = [o for plural, o in scenario_objects("broken") if plural == "ingresses"]
    assert ingresses and all("alb.ingress.kubernetes.io/target-type" not in (o["metadata"].get("annotations") or {})
                             for o in ingresses)
