"""Jobs and CronJobs with the real controllers: pods run to completion (on Fargate where a
profile matches, whose node then goes away), backoffLimit, activeDeadlineSeconds,
ttlSecondsAfterFinished, and CronJob activations on the sandbox clock."""

from __future__ import annotations

from iagent_sandbox.clock import parse_rfc3339
from iagent_sandbox.kube.resources import rt

from .dyn_workloads_support import NODES, PODS, ec2_node, events_for, running_world, wait_for

JOBS, CRONJOBS = rt("jobs"), rt("cronjobs")


def job(name: str, namespace: str = "default", command=("echo", "hi"), **spec) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": namespace},
            "spec": {**spec, "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": name, "image": "busybox", "command": list(command)}]}}}}


def condition(obj: dict, ctype: str) -> dict | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or () if c["type"] == ctype), None)


def job_pods(world, j: dict) -> list[dict]:
    pods, _ = world.store.list(PODS, j["metadata"]["namespace"],
                               label_selector=f"batch.kubernetes.io/job-name={j['metadata']['name']}")
    return pods


async def test_job_pods_complete_on_fargate_and_their_nodes_go_away():
    async with running_world("migrated", speed=500) as world:
        created = world.store.create(JOBS, job("hello", completions=2, parallelism=1))
        spec = created["spec"]
        uid = created["metadata"]["uid"]
        assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        assert spec["template"]["metadata"]["labels"]["job-name"] == "hello"
        assert (spec["backoffLimit"], spec["completionMode"], spec["suspend"]) == (6, "NonIndexed", False)
        done = await wait_for(lambda: (j := world.store.get(JOBS, "default", "hello"))
                              and condition(j, "Complete") and j, timeout=30, what="the job to complete")
        status = done["status"]
        assert status["succeeded"] == 2 and "active" not in status
        assert condition(done, "Complete")["reason"] == "CompletionsReached"
        assert [c["type"] for c in status["conditions"]] == ["SuccessCriteriaMet", "Complete"]
        assert parse_rfc3339(status["startTime"]) <= parse_rfc3339(status["completionTime"])
        pods = job_pods(world, done)
        for pod in pods:  # still listed (podgc's quarantine), Succeeded, their microVMs gone
            assert pod["status"]["phase"] == "Succeeded"
            assert pod["spec"]["nodeName"].startswith("fargate-ip-")
        await wait_for(lambda: all(world.store.get(NODES, None, p["spec"]["nodeName"]) is None
                                   for p in pods), what="the Fargate nodes to go away")
        reasons = [e["reason"] for e in events_for(world, done)]
        assert reasons.count("SuccessfulCreate") == 2 and reasons[-1] == "Completed"


async def test_failing_job_stops_at_its_backoff_limit_and_ttl_deletes_it():
    async with running_world("pre-migration", speed=500) as world:
        world.store.create(NODES, ec2_node("192.168.10.10"))
        world.store.create(JOBS, job("fails", command=("sh", "-c", "exit 3"), backoffLimit=1,
                                     ttlSecondsAfterFinished=30))
        failed = await wait_for(lambda: (j := world.store.get(JOBS, "default", "fails"))
                                and condition(j, "Failed") and j, timeout=30, what="the job to fail")
        assert condition(failed, "Failed")["reason"] == "BackoffLimitExceeded"
        assert condition(failed, "Failed")["message"] == "Job has reached the specified backoff limit"
        assert failed["status"]["failed"] == 2
        await wait_for(lambda: world.store.get(JOBS, "default", "fails") is None, timeout=30,
                       what="ttlSecondsAfterFinished to delete the job")


async def test_active_deadline_fails_a_job_that_runs_too_long():
    async with running_world("pre-migration", speed=500) as world:
        world.store.create(NODES, ec2_node("192.168.10.11"))
        long = job("slow", activeDeadlineSeconds=20)
        long["spec"]["template"]["spec"]["containers"][0]["env"] = [
            {"name": "SANDBOX_RUN_SECONDS", "value": "3600"}]
        world.store.create(JOBS, long)
        failed = await wait_for(lambda: (j := world.store.get(JOBS, "default", "slow"))
                                and condition(j, "Failed") and j, timeout=30, what="the deadline")
        assert condition(failed, "Failed")["reason"] == "DeadlineExceeded"


async def test_cronjob_creates_jobs_on_schedule_and_keeps_its_history():
    async with running_world("pre-migration", speed=600) as world:
        world.store.create(NODES, ec2_node("192.168.10.12"))
        template = job("tick")
        world.store.create(CRONJOBS, {
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "tick", "namespace": "default"},
            "spec": {"schedule": "*/1 * * * *", "successfulJobsHistoryLimit": 2,
                     "jobTemplate": {"spec": template["spec"]}}})

        def owned():
            jobs, _ = world.store.list(JOBS, "default")
            return [j for j in jobs if j["metadata"]["name"].startswith("tick-")]
        await wait_for(lambda: sum(1 for j in owned() if condition(j, "Complete")) >= 2, timeout=40,
                       what="two completed runs")
        cj = world.store.get(CRONJOBS, "default", "tick")
        assert cj["status"]["lastScheduleTime"].endswith(":00Z")
        for j in owned():
            minutes = int(j["metadata"]["name"].rsplit("-", 1)[1])
            assert j["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
                parse_rfc3339_minutes(minutes)
        await wait_for(lambda: len(owned()) <= 3 and sum(1 for j in owned() if condition(j, "Complete")) <= 2,
                       timeout=40, what="history to be trimmed")


def parse_rfc3339_minutes(minutes: int) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(minutes * 60, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
