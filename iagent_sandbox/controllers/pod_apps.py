"""The programs in the simulated containers as seen over the pod network: which ports accept
connections and what their HTTP servers answer. The same answers the ALB front serves
(``alb.app_response``), so a port-forward, a ``wget`` in the pod and the load balancer agree."""

from __future__ import annotations

from .alb import app_response

COREDNS_PLAIN = {(8080, "/health"): "OK", (8181, "/ready"): "OK"}


def _declared_ports(container: dict) -> set[int]:
    ports = {int(p["containerPort"]) for p in container.get("ports") or []
             if (p.get("protocol") or "TCP") == "TCP" and p.get("containerPort")}
    named = {p.get("name"): int(p["containerPort"]) for p in container.get("ports") or []
             if p.get("name") and p.get("containerPort")}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        port = ((container.get(probe) or {}).get("httpGet") or {}).get("port")
        if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
            ports.add(int(port))
        elif port in named:
            ports.add(named[port])
    if "nginx" in container.get("image", "") and not ports:
        ports.add(80)  # the nginx image listens on 80 whatever the spec declares
    if "coredns" in container.get("image", ""):
        ports |= {8080, 8181, 9153}
    return ports


def _running(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" \
        and not pod["metadata"].get("deletionTimestamp")


class SandboxApps:
    def listens(self, pod: dict, port: int) -> bool:
        return _running(pod) and any(port in _declared_ports(c)
                                     for c in (pod.get("spec") or {}).get("containers") or [])

    def http(self, pod: dict, port: int, method: str, path: str) -> tuple[int, str, bytes, dict[str, str]]:
        containers = (pod.get("spec") or {}).get("containers") or []
        owner = next((c for c in containers if port in _declared_ports(c)), containers[0] if containers else {})
        if "coredns" in owner.get("image", ""):
            text = COREDNS_PLAIN.get((port, path.split("?", 1)[0]))
            if port == 9153 and path.startswith("/metrics"):
                text = "# HELP coredns_build_info A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.\n# TYPE coredns_build_info gauge\ncoredns_build_info{goversion=\"go1.22.8\",revision=\"\",version=\"1.11.3\"} 1\n"
            if text is None:
                return 404, "text/plain; charset=utf-8", b"404 page not found\n", {}
            return 200, "text/plain; charset=utf-8", text.encode(), {}
        status, ctype, body, headers = app_response({**pod, "spec": {**pod.get("spec", {}), "containers": [owner]}}, path)
        if method == "HEAD":
            body = ""
        return status, ctype, body.encode(), headers
