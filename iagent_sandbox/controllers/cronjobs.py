"""The CronJob controller (pkg/controller/cronjob, v2): a Job per activation of the schedule on
the sandbox clock, concurrencyPolicy (Allow, Forbid, Replace), suspend, startingDeadlineSeconds,
the active list and lastScheduleTime/lastSuccessfulTime in status, and history limits.

Jobs are named ``<cronjob>-<scheduled time in minutes since the epoch>``, as the real controller
names them, so an activation is never run twice."""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime

from ..clock import parse_rfc3339, rfc3339
from ..kube.errors import ApiError
from ..kube.resources import rt
from . import kubeutil as ku
from ..kube.cron import CronError, Schedule
from .jobs import JOBS, finished_condition

CRONJOBS = rt("cronjobs")
COMPONENT = "cronjob-controller"
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MAX_MISSED = 100


def job_name(cronjob: str, scheduled: datetime) -> str:
    return f"{cronjob}-{int(scheduled.timestamp()) // 60}"


class CronJobController:
    def __init__(self, world) -> None:
        self.world = world
        self.store = world.store
        self.queue = ku.WorkQueue()

    def on_cronjob(self, event: str, cj: dict) -> None:
        if event != "DELETED":
            self.queue.add(ku.obj_key(cj))

    def on_job(self, event: str, job: dict) -> None:
        ref = ku.controller_ref(job)
        if ref and ref.get("kind") == "CronJob":
            self.queue.add((job["metadata"]["namespace"], ref["name"]))

    def reconcile(self, key: tuple[str, str]) -> None:
        namespace, name = key
        cj = self.store.get(CRONJOBS, namespace, name)
        if cj is None or ku.is_terminating(cj):
            return
        now = self.world.clock.now()
        jobs, _ = self.store.list(JOBS, namespace)
        owned = ku.owned_by(jobs, cj["metadata"]["uid"])
        running = [j for j in owned if finished_condition(j) is None and not ku.is_terminating(j)]
        self._note_finished(cj, owned)
        spec = cj["spec"]
        try:
            schedule = Schedule(spec["schedule"])
        except CronError as exc:
            self.store.record_event(cj, "UnparseableSchedule", f"unparseable schedule: "
                                    f"{spec['schedule']!r} : {exc}", type="Warning",
                                    component=COMPONENT)
            return
        status = cj.get("status") or {}
        last = parse_rfc3339(status.get("lastScheduleTime") or cj["metadata"]["creationTimestamp"])
        scheduled = None
        nxt = schedule.next_after(last)
        for _ in range(MAX_MISSED):
            if nxt > now:
                break
            scheduled, nxt = nxt, schedule.next_after(nxt)
        last_schedule = None
        if scheduled is not None and not spec.get("suspend"):
            deadline = spec.get("startingDeadlineSeconds")
            too_late = deadline is not None and (now - scheduled).total_seconds() > deadline
            if not too_late:
                last_schedule = self._run(cj, scheduled, running)
        self._write_status(cj, owned, last_schedule)
        self._clean_history(cj, owned)
        self.queue.add_after(key, self.world.clock.wall_seconds((nxt - now).total_seconds() + 0.1))

    def _run(self, cj: dict, scheduled: datetime, running: list[dict]) -> datetime | None:
        policy = cj["spec"].get("concurrencyPolicy", "Allow")
        if running and policy == "Forbid":
            self.store.record_event(cj, "JobAlreadyActive", "Not starting job because prior "
                                    "execution is running and concurrency policy is Forbid",
                                    component=COMPONENT)
            return None
        if running and policy == "Replace":
            for job in running:
                self.store.delete(JOBS, job["metadata"]["namespace"], job["metadata"]["name"],
                                  propagation_policy="Background")
                self.store.record_event(cj, "SuccessfulDelete",
                                        f"Deleted job {job['metadata']['name']}", component=COMPONENT)
        template = cj["spec"].get("jobTemplate") or {}
        meta = copy.deepcopy(template.get("metadata") or {})
        meta.pop("creationTimestamp", None)
        meta["name"] = job_name(cj["metadata"]["name"], scheduled)
        meta["namespace"] = cj["metadata"]["namespace"]
        meta.setdefault("annotations", {})[SCHEDULED_ANNOTATION] = rfc3339(scheduled)
        meta["ownerReferences"] = [ku.owner_reference(cj)]
        body = {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
                "spec": copy.deepcopy(template.get("spec") or {})}
        try:
            self.store.create(JOBS, body)
        except ApiError as exc:
            if exc.reason != "AlreadyExists":
                raise
            return scheduled  # this activation already ran
        self.store.record_event(cj, "SuccessfulCreate", f"Created job {meta['name']}",
                                component=COMPONENT)
        return scheduled

    def _note_finished(self, cj: dict, owned: list[dict]) -> None:
        active = {ref.get("uid") for ref in (cj.get("status") or {}).get("active") or ()}
        for job in owned:
            cond = finished_condition(job)
            if cond is not None and job["metadata"]["uid"] in active:
                self.store.record_event(cj, "SawCompletedJob", f"Saw completed job: "
                                        f"{job['metadata']['name']}, status: {cond['type']}",
                                        component=COMPONENT)

    def _write_status(self, cj: dict, owned: list[dict], last_schedule: datetime | None) -> None:
        namespace, name = ku.obj_key(cj)
        jobs, _ = self.store.list(JOBS, namespace)  # including the one just created
        running = [j for j in ku.owned_by(jobs, cj["metadata"]["uid"])
                   if finished_condition(j) is None and not ku.is_terminating(j)]
        done = [j["status"]["completionTime"] for j in owned
                if (j.get("status") or {}).get("completionTime")]

        def apply(obj: dict) -> None:
            st = obj.setdefault("status", {})
            refs = [{"kind": "Job", "namespace": namespace, "name": j["metadata"]["name"],
                     "uid": j["metadata"]["uid"], "apiVersion": "batch/v1",
                     "resourceVersion": j["metadata"]["resourceVersion"]} for j in running]
            if refs:
                st["active"] = refs
            else:
                st.pop("active", None)
            if last_schedule is not None:
                st["lastScheduleTime"] = rfc3339(last_schedule)
            if done:
                st["lastSuccessfulTime"] = max(done)
        self.store.mutate(CRONJOBS, namespace, name, apply, status=True)

    def _clean_history(self, cj: dict, owned: list[dict]) -> None:
        spec = cj["spec"]
        for ctype, limit in (("Complete", spec.get("successfulJobsHistoryLimit", 3)),
                             ("Failed", spec.get("failedJobsHistoryLimit", 1))):
            if limit is None:
                continue
            finished = sorted((j for j in owned if (finished_condition(j) or {}).get("type") == ctype
                               and not ku.is_terminating(j)),
                              key=lambda j: (j.get("status") or {}).get("startTime") or "")
            for job in finished[:max(0, len(finished) - limit)]:
                self.store.delete(JOBS, job["metadata"]["namespace"], job["metadata"]["name"],
                                  propagation_policy="Background")
                self.store.record_event(cj, "SuccessfulDelete",
                                        f"Deleted job {job['metadata']['name']}", component=COMPONENT)

    async def run(self) -> None:
        await asyncio.gather(ku.informer(self.store, CRONJOBS, self.on_cronjob),
                             ku.informer(self.store, JOBS, self.on_job),
                             ku.run_workers(self.queue, self.reconcile, COMPONENT))


async def run(world) -> None:
    await CronJobController(world).run()
