"""metrics.k8s.io/v1beta1 (what metrics-server serves): NodeMetrics and PodMetrics from a MetricsSource.

`kubectl top nodes|pods` read these. Objects exist only while the source reports usage (a pod that
is not running has no PodMetrics, as with metrics-server).
"""

from __future__ import annotations

from aiohttp import web

from ..clock import SandboxClock, rfc3339
from .errors import ApiError, bad_request, json_response, method_not_allowed
from .resources import rt
from .selectors import parse_label_selector
from .sources import MetricsSource

GROUP_VERSION = "metrics.k8s.io/v1beta1"
WINDOW = "20.05s"  # metrics-server's default scrape window, as it reports it


def _not_found(kind: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{kind}.metrics.k8s.io "{name}" not found',
                    {"name": name, "group": "metrics.k8s.io", "kind": kind})


class MetricsApi:
    def __init__(self, store, clock: SandboxClock, source: MetricsSource) -> None:
        self.store = store
        self.clock = clock
        self.source = source

    def _scraped_at(self) -> str:
        """The source's latest scrape time (metrics-server serves the last scrape, stamped with
        when it was taken); a source without scrapes is read live."""
        scraped_at = getattr(self.source, "scraped_at", None)
        return rfc3339(scraped_at() if scraped_at is not None else self.clock.now())

    def _meta(self, obj: dict) -> dict:
        meta = obj.get("metadata", {})
        out = {"name": meta.get("name"), "creationTimestamp": rfc3339(self.clock.now())}
        if meta.get("namespace"):
            out["namespace"] = meta["namespace"]
        if meta.get("labels"):
            out["labels"] = meta["labels"]
        return out

    def node_metrics(self, node: dict) -> dict | None:
        usage = self.source.node_usage(node)
        if usage is None:
            return None
        return {"kind": "NodeMetrics", "apiVersion": GROUP_VERSION, "metadata": self._meta(node),
                "timestamp": self._scraped_at(), "window": WINDOW, "usage": dict(usage)}

    def pod_metrics(self, pod: dict) -> dict | None:
        usage = self.source.pod_usage(pod)
        if usage is None:
            return None
        containers = [{"name": name, "usage": dict(u)} for name, u in usage.items()]
        return {"kind": "PodMetrics", "apiVersion": GROUP_VERSION, "metadata": self._meta(pod),
                "timestamp": self._scraped_at(), "window": WINDOW, "containers": containers}

    async def handle(self, request: web.Request, segs: list[str]) -> web.Response:
        pin, unpin = getattr(self.source, "pin", None), getattr(self.source, "unpin", None)
        if pin is not None:
            pin()
        try:
            return self._handle(request, segs)
        finally:
            if unpin is not None:
                unpin()

    def _handle(self, request: web.Request, segs: list[str]) -> web.Response:
        if request.method != "GET":
            raise method_not_allowed()
        namespace = None
        if len(segs) >= 3 and segs[0] == "namespaces" and segs[2] == "pods":
            namespace, segs = segs[1], segs[2:]
        if not segs or segs[0] not in ("nodes", "pods") or len(segs) > 2:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        kind = "NodeMetrics" if segs[0] == "nodes" else "PodMetrics"
        source_rt = rt("nodes") if segs[0] == "nodes" else rt("pods")
        build = self.node_metrics if segs[0] == "nodes" else self.pod_metrics
        if len(segs) == 2:
            if segs[0] == "pods" and namespace is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
            obj = self.store.get(source_rt, namespace, segs[1])
            found = build(obj) if obj is not None else None
            if found is None:
                raise _not_found(kind.lower(), f"{namespace}/{segs[1]}" if namespace else segs[1])
            return json_response(found)
        selector = request.query.get("labelSelector") or None
        if request.query.get("fieldSelector"):
            raise bad_request("fieldSelector is not supported by metrics.k8s.io")
        items, rv = self.store.list(source_rt, namespace, label_selector=selector)
        parse_label_selector(selector)  # a bad selector is a 400 even when nothing is listed
        found = [m for m in (build(o) for o in items) if m is not None]
        return json_response({"kind": f"{kind}List", "apiVersion": GROUP_VERSION,
                                  "metadata": {}, "items": found})
