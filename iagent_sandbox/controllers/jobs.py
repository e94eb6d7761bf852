"""The Job controller (pkg/controller/job) and the TTL-after-finished controller: pods from the
template up to ``parallelism`` until ``completions`` succeed; ``backoffLimit`` failures (restarts
under OnFailure) or ``activeDeadlineSeconds`` fail the Job; ``ttlSecondsAfterFinished`` deletes a
finished Job with its pods.

Finished pods are remembered by uid as soon as they are seen (the real controller's
job-tracking finalizer does this job): the pod garbage collector may remove a finished Fargate
pod once its node has gone, and the count must not drop with it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from ..clock import parse_rfc3339, rfc3339
from ..kube.resources import rt
from . import kubeutil as ku
from .replicasets import pod_from_template

JOBS = rt("jobs")
COMPONENT = "job-controller"
BACKOFF_BASE_S, BACKOFF_MAX_S = 10.0, 360.0  # pod re-creation back-off after failures
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")


def finished_condition(job: dict) -> dict | None:
    for ctype in ("Complete", "Failed"):
        cond = ku.get_condition(job, ctype)
        if cond and cond.get("status") == "True":
            return cond
    return None


class JobController:
    def __init__(self, world) -> None:
        self.world = world
        self.store = world.store
        self.queue = ku.WorkQueue()
        self.pods = ku.PodCache()
        # job uid -> pod uid -> (phase, when the controller saw it finish)
        self.finished: dict[str, dict[str, tuple[str, datetime]]] = {}

    def on_job(self, event: str, job: dict) -> None:
        if event == "DELETED":
            self.finished.pop(job["metadata"]["uid"], None)
        else:
            self.queue.add(ku.obj_key(job))

    def on_pod(self, event: str, pod: dict) -> None:
        self.pods.update(event, pod)
        ref = ku.controller_ref(pod)
        if not ref or ref.get("kind") != "Job":
            return
        if ku.is_finished(pod):
            seen = self.finished.setdefault(ref["uid"], {})
            seen.setdefault(pod["metadata"]["uid"], (pod["status"]["phase"], self.world.clock.now()))
        self.queue.add((pod["metadata"]["namespace"], ref["name"]))

    # -- reconcile --------------------------------------------------------------------------
    def reconcile(self, key: tuple[str, str]) -> None:
        namespace, name = key
        job = self.store.get(JOBS, namespace, name)
        if job is None or ku.is_terminating(job):
            return
        now = self.world.clock.now()
        done = finished_condition(job)
        if done is not None:
            self._ttl(job, done, now)
            return
        spec, status = job["spec"], job.get("status") or {}
        uid = job["metadata"]["uid"]
        seen = self.finished.get(uid, {})
        active = [p for p in self.pods.owned(uid) if ku.is_active(p)]
        succeeded = max(status.get("succeeded") or 0, sum(1 for p, _ in seen.values() if p == "Succeeded"))
        failed = max(status.get("failed") or 0, sum(1 for p, _ in seen.values() if p == "Failed"))
        start = parse_rfc3339(status["startTime"]) if status.get("startTime") else now
        restarts = sum(cs.get("restartCount", 0) for p in active
                       for cs in (p.get("status") or {}).get("containerStatuses") or ())
        failure = None
        if failed + restarts > int(spec.get("backoffLimit", 6)):
            failure = BACKOFF_EXCEEDED
        deadline = spec.get("activeDeadlineSeconds")
        if deadline is not None and (now - start).total_seconds() >= deadline:
            failure = DEADLINE_EXCEEDED
        completions = spec.get("completions")
        complete = (succeeded >= completions) if completions is not None else \
            (succeeded > 0 and not active)
        if failure or complete:
            for pod in active:
                self.store.delete(ku.PODS, namespace, pod["metadata"]["name"])
            active = []
        elif not spec.get("suspend"):
            active += self._create_pods(job, active, succeeded, failed, seen, now)
            if deadline is not None:
                self.queue.add_after(key, self.world.clock.wall_seconds(
                    deadline - (now - start).total_seconds() + 0.5))
        self._write_status(job, start, active, succeeded, failed, failure, complete, now)

    def _create_pods(self, job: dict, active: list[dict], succeeded: int, failed: int,
                     seen: dict, now: datetime) -> list[dict]:
        spec = job["spec"]
        parallelism = int(spec.get("parallelism", 1))
        completions = spec.get("completions")
        wanted = parallelism if completions is None else min(parallelism, completions - succeeded)
        missing = wanted - len(active)
        if missing <= 0:
            return []
        if failed:  # re-create failed pods only after the back-off: 10 s, 20 s, ... 6 min
            last = max((at for phase, at in seen.values() if phase == "Failed"), default=None)
            delay = min(BACKOFF_BASE_S * 2 ** (failed - 1), BACKOFF_MAX_S)
            if last is not None and (now - last).total_seconds() < delay:
                self.queue.add_after(ku.obj_key(job), self.world.clock.wall_seconds(
                    delay - (now - last).total_seconds() + 0.1))
                return []
        created = []
        for _ in range(missing):
            pod = self.store.create(ku.PODS, pod_from_template(job, spec["template"]))
            self.pods.update("ADDED", pod)
            created.append(pod)
            self.store.record_event(job, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}",
                                    component=COMPONENT)
        return created

    def _write_status(self, job: dict, start: datetime, active: list[dict], succeeded: int,
                      failed: int, failure: tuple[str, str] | None, complete: bool,
                      now: datetime) -> None:
        stamp = rfc3339(now)
        ready = sum(1 for p in active if ku.pod_ready(p))

        def apply(obj: dict) -> None:
            st = obj.setdefault("status", {})
            st["startTime"] = st.get("startTime") or rfc3339(start)
            for field, value in (("active", len(active)), ("succeeded", succeeded),
                                 ("failed", failed)):
                if value:
                    st[field] = value
                else:
                    st.pop(field, None)
            st["ready"] = ready
            st["terminating"] = 0
            st["uncountedTerminatedPods"] = {}
            if failure:
                reason, message = failure
                ku.set_condition(st, "FailureTarget", "True", stamp, reason, message, probe_time=True)
                ku.set_condition(st, "Failed", "True", stamp, reason, message, probe_time=True)
            elif complete:
                reason, message = COMPLETIONS_REACHED
                ku.set_condition(st, "SuccessCriteriaMet", "True", stamp, reason, message,
                                 probe_time=True)
                ku.set_condition(st, "Complete", "True", stamp, reason, message, probe_time=True)
                st["completionTime"] = stamp
            for cond in st.get("conditions") or ():
                cond["lastProbeTime"] = cond.get("lastTransitionTime")
        self.store.mutate(JOBS, job["metadata"]["namespace"], job["metadata"]["name"], apply,
                          status=True)
        if failure:
            self.store.record_event(job, failure[0], failure[1], type="Warning", component=COMPONENT)
        elif complete:
            self.store.record_event(job, "Completed", "Job completed", component=COMPONENT)

    def _ttl(self, job: dict, done: dict, now: datetime) -> None:
        """ttl-after-finished-controller: delete the Job (and, in the foreground, its pods)."""
        ttl = job["spec"].get("ttlSecondsAfterFinished")
        if ttl is None:
            return
        finished_at = parse_rfc3339(job["status"].get("completionTime") or done["lastTransitionTime"])
        left = ttl - (now - finished_at).total_seconds()
        if left > 0:
            self.queue.add_after(ku.obj_key(job), self.world.clock.wall_seconds(left + 0.1))
            return
        self.store.delete(JOBS, job["metadata"]["namespace"], job["metadata"]["name"],
                          propagation_policy="Foreground")

    async def run(self) -> None:
        await asyncio.gather(ku.informer(self.store, JOBS, self.on_job),
                             ku.informer(self.store, ku.PODS, self.on_pod),
                             ku.run_workers(self.queue, self.reconcile, COMPONENT))


async def run(world) -> None:
    await JobController(world).run()
