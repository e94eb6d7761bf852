"""Table columns for v1 ReplicationControllers (printers.go printReplicationController) and
apiregistration.k8s.io APIServices (kube-aggregator's printers: printAPIService). Registered in
tables.COLUMNS_BY_PLURAL."""

from __future__ import annotations

from datetime import datetime

from .tables import AGE, CONTAINERS, IMAGES, NAME, Column, format_labels

_RC_DOCS = "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller"


def _int(*keys: str, default: int = 0):
    def get(obj: dict, now: datetime) -> int:
        cur = obj
        for key in keys:
            cur = (cur or {}).get(key) if isinstance(cur, dict) else None
        return default if cur is None else int(cur)
    return get


RC_COLUMNS = (
    NAME,
    Column("Desired", "integer", _int("spec", "replicas", default=1),
           description="Replicas is the number of desired replicas. This is a pointer to distinguish "
                       "between explicit zero and unspecified. Defaults to 1. More info: " + _RC_DOCS),
    Column("Current", "integer", _int("status", "replicas"),
           description="Replicas is the most recently observed number of replicas. More info: "
                       + _RC_DOCS),
    Column("Ready", "integer", _int("status", "readyReplicas"),
           description="The number of ready replicas for this replication controller."),
    AGE, CONTAINERS, IMAGES,
    # A ReplicationController's selector is a plain map: labels.FormatLabels.
    Column("Selector", "string", lambda o, n: format_labels((o.get("spec") or {}).get("selector")),
           priority=1,
           description="Selector is a label query over pods that should match the Replicas count. "
                       "If Selector is empty, it is defaulted to the labels present on the Pod "
                       "template. Label keys and values that must match in order to be controlled "
                       "by this replication controller, if empty defaulted to labels on Pod "
                       "template. More info: https://kubernetes.io/docs/concepts/overview/"
                       "working-with-objects/labels/#label-selectors"),
)


def _apiservice_service(obj: dict, now: datetime) -> str:
    service = (obj.get("spec") or {}).get("service")
    if not service:
        return "Local"
    return f"{service.get('namespace', '')}/{service.get('name', '')}"


def _apiservice_available(obj: dict, now: datetime) -> str:
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "Available":
            status = cond.get("status", "Unknown")
            if status != "True" and cond.get("reason"):
                status += f" ({cond['reason']})"
            return status
    return "Unknown"


APISERVICE_COLUMNS = (
    NAME,
    Column("Service", "string", _apiservice_service,
           description="The reference to the service that hosts this API endpoint."),
    Column("Available", "string", _apiservice_available,
           description="Whether this service is available."),
    AGE,
)

RC_APISERVICE_COLUMNS = {"replicationcontrollers": RC_COLUMNS, "apiservices": APISERVICE_COLUMNS}
