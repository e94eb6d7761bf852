"""Reading metrics.k8s.io PodMetrics into a UsageRecord: once (the monitor's loop calls it every
``rightsizing.sample_seconds``), or for a whole window (``status``/``report --usage-window``).

metrics-server serves only its latest scrape, so usage over a window exists only if someone reads
it over that window. Failures are recorded as the reason right-sizing was not evaluated, in the
popeye way ("not evaluated: ..."), never as zero usage.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from pathlib import Path
from collections.abc import Callable, Iterable, Sequence

from ..insights.usage import UsageRecord, UsageSummary
from ..insights.workloads import workload_of
from ..model import Pod
from .errors import ServiceError
from .kube import KubeClient

GROUP_PATH = "/apis/metrics.k8s.io/v1beta1"
log = logging.getLogger(__name__)
RECORD_SAVE_SECONDS = 60.0  # how often the dashboard rewrites rightsizing.record_file
GRACE_SECONDS = 60.0  # a window-long sampling stops this long after the window even if scrapes stall


def save_usage_record(record: UsageRecord, path: Path) -> None:
    """Write the record where `report --usage-from` reads it: whole or not at all (a temporary
    file renamed over the old one). A failure is logged, never raised: sampling goes on."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(record.to_document()), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot save the usage record to %s: %s", path, exc.strerror or exc)


def load_usage_record(path: Path, window_seconds: float) -> UsageSummary:
    """The summary of a saved record over its last ``window_seconds``. ValueError with what to do."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read the usage record {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"usage record {path} is not JSON: {exc}") from None
    try:
        record = UsageRecord.from_document(doc, window_seconds, source=f"saved by the dashboard in {path}")
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return record.summary()


def why_not(err: ServiceError) -> str:
    """What an operator reads in place of right-sizing figures."""
    if err.kind == "not_found" or err.status == 404:
        return ("metrics.k8s.io is not served (is metrics-server installed? "
                "kubectl get apiservice v1beta1.metrics.k8s.io)")
    if err.kind in ("not_permitted", "auth") or err.status in (401, 403):
        return f"not permitted to list pods.metrics.k8s.io ({err.message})"
    return f"metrics.k8s.io could not be read: {err.message}"


def workloads_by_pod(pods: Iterable[Pod]) -> dict[tuple[str, str], str]:
    return {(p.namespace or "default", p.name): str(workload_of(p)) for p in pods}


class UsageSampler:
    def __init__(self, kube: KubeClient, record: UsageRecord, namespaces: Sequence[str] = ()) -> None:
        self.kube = kube
        self.record = record
        self.namespaces = tuple(namespaces)
        self.reads = 0

    def _paths(self) -> list[str]:
        if not self.namespaces:
            return [f"{GROUP_PATH}/pods"]
        return [f"{GROUP_PATH}/namespaces/{ns}/pods" for ns in self.namespaces]

    async def sample_once(self, workload_of_pod: Callable[[str, str], str | None]) -> int:
        """One read of every PodMetrics in scope; returns the new samples kept."""
        added = 0
        for path in self._paths():
            try:
                doc = await self.kube.request_json("GET", path, action="list pods.metrics.k8s.io")
            except ServiceError as err:
                self.record.fail(why_not(err))
                return added
            self.reads += 1
            added += self.record.add(doc.get("items") or [], workload_of_pod)
        return added

    async def sample_window(self, window_seconds: float, interval: float,
                            pods: Callable[[], "asyncio.Future | Iterable[Pod]"],
                            progress: Callable[[UsageSummary, float], None] | None = None) -> UsageSummary:
        """Read until the samples' own timestamps span the window (the cluster's clock), or the
        window plus GRACE_SECONDS of this machine's time passed, or the API refused. ``pods`` is
        awaited for the pod -> workload map whenever a pod nobody knows shows up."""
        known: dict[tuple[str, str], str] = {}

        async def refresh() -> None:
            result = pods()
            listed = await result if asyncio.isfuture(result) or asyncio.iscoroutine(result) else result
            known.update(workloads_by_pod(listed))

        def lookup(namespace: str, name: str) -> str | None:
            if (namespace, name) not in known:
                missing.add((namespace, name))
            return known.get((namespace, name))

        await refresh()
        deadline = time.monotonic() + window_seconds + GRACE_SECONDS
        while True:
            missing: set[tuple[str, str]] = set()
            await self.sample_once(lookup)
            if missing:  # new pods since the last list (a rollout): learn them, then read again
                await refresh()
            summary = self.record.summary()
            if progress is not None:
                progress(summary, window_seconds)
            if summary.not_evaluated or summary.span_seconds >= window_seconds or time.monotonic() >= deadline:
                return summary
            await asyncio.sleep(interval)


__all__ = ["GROUP_PATH", "RECORD_SAVE_SECONDS", "UsageSampler", "load_usage_record", "save_usage_record", "why_not",
           "workloads_by_pod"]
