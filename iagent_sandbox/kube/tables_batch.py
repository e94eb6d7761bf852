"""Table columns for batch (Jobs, CronJobs), policy (PodDisruptionBudgets) and RBAC objects, as
printers.go prints them (printJob, printCronJob, printPodDisruptionBudget, printRole,
printRoleBinding). Kept apart from tables.py, which registers these in COLUMNS_BY_PLURAL."""

from __future__ import annotations

from datetime import datetime

from ..clock import parse_rfc3339
from .tables import AGE, IMAGES, NAME, NONE, Column, CONTAINERS, format_label_selector, \
    human_duration, since


def _has_condition(obj: dict, ctype: str) -> bool:
    return any(c.get("type") == ctype and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or ())


def job_status(job: dict, now: datetime) -> str:
    if _has_condition(job, "Complete"):
        return "Complete"
    if _has_condition(job, "Failed"):
        return "Failed"
    if job["metadata"].get("deletionTimestamp"):
        return "Terminating"
    for ctype in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if _has_condition(job, ctype):
            return ctype
    return "Running"


def _completions(job: dict, now: datetime) -> str:
    spec, succeeded = job.get("spec") or {}, (job.get("status") or {}).get("succeeded") or 0
    if spec.get("completions") is not None:
        return f"{succeeded}/{spec['completions']}"
    parallelism = spec.get("parallelism") or 0
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _duration(job: dict, now: datetime) -> str:
    status = job.get("status") or {}
    if not status.get("startTime"):
        return ""
    start = parse_rfc3339(status["startTime"])
    end = parse_rfc3339(status["completionTime"]) if status.get("completionTime") else now
    return human_duration((end - start).total_seconds())


JOB_COLUMNS = (
    NAME,
    Column("Status", "string", job_status, description="Status of the job."),
    Column("Completions", "string", _completions,
           description="The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs."),
    Column("Duration", "string", _duration, description="Time required to complete the job."),
    AGE, CONTAINERS, IMAGES,
    Column("Selector", "string", lambda o, n: format_label_selector((o.get("spec") or {}).get("selector")),
           priority=1, description="A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"),
)


def _job_template_containers(cj: dict) -> list[dict]:
    spec = ((cj.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}
    return ((spec.get("template") or {}).get("spec") or {}).get("containers") or []


CRONJOB_COLUMNS = (
    NAME,
    Column("Schedule", "string", lambda o, n: (o.get("spec") or {}).get("schedule", ""),
           description="The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
    Column("Timezone", "string", lambda o, n: (o.get("spec") or {}).get("timeZone") or NONE,
           description="The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones"),
    Column("Suspend", "boolean", lambda o, n: "True" if (o.get("spec") or {}).get("suspend") else "False",
           description="This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false."),
    Column("Active", "integer", lambda o, n: len((o.get("status") or {}).get("active") or ()),
           description="A list of pointers to currently running jobs."),
    Column("Last Schedule", "string",
           lambda o, n: since(last, n) if (last := (o.get("status") or {}).get("lastScheduleTime")) else NONE,
           description="Information when was the last time the job was successfully scheduled."),
    AGE,
    Column("Containers", "string", lambda o, n: ",".join(c.get("name", "") for c in _job_template_containers(o)),
           priority=1, description="Names of each container in the template."),
    Column("Images", "string", lambda o, n: ",".join(c.get("image", "") for c in _job_template_containers(o)),
           priority=1, description="Images referenced by each container in the template."),
    Column("Selector", "string",
           lambda o, n: format_label_selector((((o.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}).get("selector")),
           priority=1, description="A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"),
)


def _int_or_na(field: str):
    def cell(pdb: dict, now: datetime) -> str:
        value = (pdb.get("spec") or {}).get(field)
        return "N/A" if value is None else str(value)
    return cell


PDB_COLUMNS = (
    NAME,
    Column("Min Available", "string", _int_or_na("minAvailable"),
           description="The minimum number of pods that must be available."),
    Column("Max Unavailable", "string", _int_or_na("maxUnavailable"),
           description="The maximum number of pods that may be unavailable."),
    Column("Allowed Disruptions", "integer",
           lambda o, n: (o.get("status") or {}).get("disruptionsAllowed") or 0,
           description="Calculated number of pods that may be disrupted at this time."),
    AGE,
)

ROLE_COLUMNS = (
    NAME,
    Column("Created At", "date", lambda o, n: o["metadata"].get("creationTimestamp", ""),
           description="CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"),
)


def _subjects(kind: str, namespaced_names: bool = False):
    def cell(binding: dict, now: datetime) -> str:
        out = []
        for s in binding.get("subjects") or ():
            if s.get("kind") != kind:
                continue
            out.append(f"{s.get('namespace', '')}/{s.get('name', '')}" if namespaced_names
                       else s.get("name", ""))
        return ", ".join(out)
    return cell


BINDING_COLUMNS = (
    NAME,
    Column("Role", "string",
           lambda o, n: f"{(o.get('roleRef') or {}).get('kind', '')}/{(o.get('roleRef') or {}).get('name', '')}",
           description="RoleRef can only reference the current namespace or a ClusterRole."),
    AGE,
    Column("Users", "string", _subjects("User"), priority=1, description="Users in the roleBinding"),
    Column("Groups", "string", _subjects("Group"), priority=1, description="Groups in the roleBinding"),
    Column("ServiceAccounts", "string", _subjects("ServiceAccount", True), priority=1,
           description="ServiceAccounts in the roleBinding"),
)

BATCH_POLICY_RBAC_COLUMNS = {
    "jobs": JOB_COLUMNS, "cronjobs": CRONJOB_COLUMNS, "poddisruptionbudgets": PDB_COLUMNS,
    "roles": ROLE_COLUMNS, "clusterroles": ROLE_COLUMNS,
    "rolebindings": BINDING_COLUMNS, "clusterrolebindings": BINDING_COLUMNS,
}
