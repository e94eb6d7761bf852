"""The pods/eviction subresource (pkg/registry/core/pod/storage/eviction.go): a pod is deleted
only if the PodDisruptionBudget that covers it allows one more disruption; otherwise 429
TooManyRequests with the API server's exact message, which `kubectl drain` prints and retries.

The budget's status is the disruption controller's (controllers/disruption.py): as on a real
server, an eviction spends one of ``disruptionsAllowed`` and records the pod in
``disruptedPods`` until the controller sees it gone.
"""

from __future__ import annotations

from typing import Any

from ..clock import rfc3339
from .errors import ApiError, bad_request, not_found
from .resources import rt
from .selectors import label_selector_from_match

PODS, PDBS = rt("pods"), rt("poddisruptionbudgets")
VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."


def too_many_requests(message: str, causes: list[dict] | None = None) -> ApiError:
    details: dict[str, Any] = {}
    if causes:
        details["causes"] = causes
    return ApiError(429, "TooManyRequests", message, details)


def _skips_budget(pod: dict) -> bool:
    """canIgnorePDB: terminal and pending pods, and pods already being deleted."""
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed", "Pending") or bool(pod["metadata"].get("deletionTimestamp"))


def budgets_for(store, pod: dict) -> list[dict]:
    labels = pod["metadata"].get("labels") or {}
    pdbs, _ = store.list(PDBS, pod["metadata"]["namespace"])
    out = []
    for pdb in pdbs:
        selector = (pdb.get("spec") or {}).get("selector")
        if selector and label_selector_from_match(selector).matches(labels):
            out.append(pdb)
    return out


def evict(store, clock, namespace: str, name: str, body: dict) -> dict:
    """Evict the pod or raise; returns the Success Status the API server answers with (201)."""
    if body.get("kind") not in (None, "Eviction"):
        raise bad_request(f"the body must be an Eviction, got {body.get('kind')}")
    if (body.get("metadata") or {}).get("name") not in (None, name):
        raise bad_request(f"name in URL does not match name in Eviction object")
    pod = store.get(PODS, namespace, name)
    if pod is None:
        raise not_found(PODS, name)
    options = body.get("deleteOptions") or {}
    if not _skips_budget(pod):
        pdbs = budgets_for(store, pod)
        if len(pdbs) > 1:
            raise ApiError(500, "InternalError", "This pod has more than one PodDisruptionBudget, "
                           "which the eviction subresource does not support.")
        if pdbs:
            _spend(store, clock, pdbs[0], name)
    store.delete(PODS, namespace, name, grace_period_seconds=options.get("gracePeriodSeconds"),
                 preconditions=options.get("preconditions"))
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def _spend(store, clock, pdb: dict, pod_name: str) -> None:
    """checkAndDecrement: refuse unless the budget's current status allows a disruption."""
    meta, status = pdb["metadata"], pdb.get("status") or {}
    if status.get("observedGeneration", 0) < meta.get("generation", 1):
        raise too_many_requests(f"Cannot evict pod as it would violate the pod's disruption budget. "
                                f"The disruption budget {meta['name']} does not have a status "
                                f"reflecting the latest spec.")
    allowed = status.get("disruptionsAllowed", 0)
    if allowed <= 0:
        raise too_many_requests(VIOLATION, [{
            "reason": "DisruptionBudget",
            "message": f"The disruption budget {meta['name']} needs {status.get('desiredHealthy', 0)} "
                       f"healthy pods and has {status.get('currentHealthy', 0)} currently"}])

    def apply(obj: dict) -> None:
        st = obj.setdefault("status", {})
        st["disruptionsAllowed"] = allowed - 1
        st.setdefault("disruptedPods", {})[pod_name] = rfc3339(clock.now())
        if allowed - 1 == 0:
            for cond in st.get("conditions") or ():
                if cond.get("type") == "DisruptionAllowed" and cond.get("status") != "False":
                    cond.update(status="False", reason="InsufficientPods",
                                lastTransitionTime=rfc3339(clock.now()))
    store.mutate(PDBS, meta["namespace"], meta["name"], apply, status=True)
