"""The sandbox's ALBs answer real HTTP, all on one loopback port.

A request is routed by its Host header (the ALB's DNS name), so both forms work:
``curl -H 'Host: <dns>' http://127.0.0.1:PORT/`` and, as a forward proxy,
``curl -x http://127.0.0.1:PORT http://<dns>/``. The load balancer, its listener rules and its
registered targets come from moto (what DescribeLoadBalancers/DescribeRules show); target health
and the pods behind each target come from the load balancer controller's registry. Routing is what
ELB does: round-robin over healthy targets, fail-open across the unhealthy ones when every
registered target is unhealthy, the ELB 503 page when there is nothing to route to.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import logging

from aiohttp import web

from .awslinks import moto_lock
from .behaviour import readiness_fails
from .lbc_health import TargetEntry, target_registry

log = logging.getLogger(__name__)

ELB_SERVER = "awselb/2.0"
NGINX_WELCOME = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""
IAGENT_HEALTH_PATHS = ("/", "/health", "/healthz", "/ready", "/readyz", "/livez")


def _elb_page(status: int, text: str) -> web.Response:
    body = (f"<html>\r\n<head><title>{status} {text}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {text}</h1></center>\r\n</body>\r\n</html>\r\n")
    return web.Response(status=status, text=body, content_type="text/html",
                        headers={"Server": ELB_SERVER})


def _image(pod: dict) -> str:
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    return containers[0].get("image", "")


def app_response(pod: dict, path: str) -> tuple[int, str, str, dict[str, str]]:
    """(status, content type, body, headers) that the app in ``pod`` answers at ``path``: nginx's
    welcome page, the iAgent services' JSON, a plain page for anything else. The load balancer
    controller uses the same function for health checks, so a health-check path the app does not
    serve fails with the code the app really returns."""
    image = _image(pod)
    path = path.split("?", 1)[0] or "/"
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    if readiness_fails(containers[0], pod):
        # The sandbox's "unready" switch: the app answers 503, which fails its readiness probe.
        return 503, "text/plain", "Service Unavailable\n", {}
    if "nginx" in image:
        headers = {"Server": "nginx/1.27.5"}
        if path in ("/", "/index.html"):
            return 200, "text/html", NGINX_WELCOME, headers
        return 404, "text/html", ("<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
                                  "<center><h1>404 Not Found</h1></center>\r\n"
                                  "<hr><center>nginx/1.27.5</center>\r\n</body>\r\n</html>\r\n"), headers
    meta = pod.get("metadata") or {}
    if "iagent" in image:
        labels = meta.get("labels") or {}
        app = labels.get("app.kubernetes.io/name") or labels.get("app") or meta.get("name", "")
        if path in IAGENT_HEALTH_PATHS:
            body = {"service": app, "status": "ok", "pod": meta.get("name"),
                    "version": image.rsplit(":", 1)[-1] if ":" in image else "latest"}
            return 200, "application/json", json.dumps(body), {}
        return 404, "application/json", json.dumps({"error": "not found", "path": path}), {}
    if path == "/":
        return 200, "text/html", f"<html><body><h1>{meta.get('name', '')}</h1></body></html>\n", {}
    return 404, "text/plain", "404 page not found\n", {}


class AlbFront:
    def __init__(self, world) -> None:
        self.world = world
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._round_robin: dict[str, itertools.count] = {}

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- routing ----------------------------------------------------------------------------
    def _find_load_balancer(self, host: str):
        elbv2 = self.world.aws.backend("elbv2")
        for lb in list(elbv2.load_balancers.values()):
            if lb.dns_name.lower() == host:
                return lb
        return None

    def _route(self, host: str, path: str):
        """(load balancer, actions, [(tg arn, registered (id, port) keys)]) read from moto under the
        AWS sandbox's lock, so a concurrent API call never changes them mid-read."""
        with moto_lock(self.world):
            lb = self._find_load_balancer(host)
            if lb is None:
                return None, None, []
            listener = next((l for l in lb.listeners.values() if str(l.port) == "80"), None)
            if listener is None:
                listener = next(iter(lb.listeners.values()), None)
            if listener is None:
                return lb, None, []
            actions = list(self._actions_for(listener, path))
            elbv2 = self.world.aws.backend("elbv2")
            groups = []
            for tg_arn in self._forward_arns(actions) or []:
                tg = elbv2.target_groups.get(tg_arn)
                if tg is not None:
                    groups.append((tg_arn, [(t["Id"], int(t["Port"])) for t in tg.targets.values()]))
            return lb, actions, groups

    @staticmethod
    def _forward_arns(actions) -> list[str] | None:
        for action in actions:
            if action.type == "forward":
                data = action.data
                if "TargetGroupArn" in data:
                    return [data["TargetGroupArn"]]
                return [tg["TargetGroupArn"] for tg in data.get("ForwardConfig", {}).get("TargetGroups", [])]
            if action.type == "fixed-response":
                return None
        return None

    @staticmethod
    def _rule_matches(rule, path: str) -> bool:
        for condition in rule.conditions:
            if condition.get("Field") != "path-pattern":
                continue
            values = condition.get("Values") or (condition.get("PathPatternConfig") or {}).get("Values", [])
            if not any(fnmatch.fnmatchcase(path, v) for v in values):
                return False
        return True

    def _actions_for(self, listener, path: str):
        rules = [r for r in listener.rules.values() if not r.is_default]
        rules.sort(key=lambda r: int(r.priority))
        for rule in rules:
            if self._rule_matches(rule, path):
                return rule.actions
        return listener.default_actions

    def _pick(self, tg_arn: str, entries: list[TargetEntry]) -> TargetEntry | None:
        live = [e for e in entries if e.health.state != "draining"]
        healthy = [e for e in live if e.health.state == "healthy"]
        if not healthy and live and all(e.health.state == "unhealthy" for e in live):
            healthy = live   # fail-open: ELB routes across unhealthy targets when all are
        if not healthy:
            return None
        counter = self._round_robin.setdefault(tg_arn, itertools.count())
        return healthy[next(counter) % len(healthy)]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        host = (request.headers.get("Host") or request.url.host or "").split(":", 1)[0].lower()
        path = request.rel_url.path or "/"
        lb, actions, groups = self._route(host, path)
        if lb is None:
            return web.Response(status=404, text=f"no load balancer named {host!r} in this sandbox\n",
                                headers={"Server": ELB_SERVER})
        if actions is None:
            return _elb_page(503, "Service Temporarily Unavailable")
        fixed = next((a for a in actions if a.type == "fixed-response"), None)
        if fixed is not None:
            cfg = fixed.data.get("FixedResponseConfig") or {}
            return web.Response(status=int(cfg.get("StatusCode", 404)), text=cfg.get("MessageBody", ""),
                                content_type=cfg.get("ContentType", "text/plain"),
                                headers={"Server": ELB_SERVER})
        registry = target_registry(self.world)
        for tg_arn, registered in groups:
            known = registry.get(tg_arn, {})
            entry = self._pick(tg_arn, [known[key] for key in registered if key in known])
            if entry is not None:
                return self._from_target(entry, request.method, path)
        return _elb_page(503, "Service Temporarily Unavailable")

    def _from_target(self, entry: TargetEntry, method: str, path: str) -> web.Response:
        from ..kube.resources import rt
        probe = entry.health.probe
        if probe is not None and probe.reason == "Target.Timeout":
            return _elb_page(504, "Gateway Time-out")
        pods = [self.world.store.get(rt("pods"), ns, name) for ns, name in entry.pods]
        pods = [p for p in pods if p and (p.get("status") or {}).get("phase") == "Running"
                and not p["metadata"].get("deletionTimestamp")]
        if not pods:
            return _elb_page(502, "Bad Gateway")
        counter = self._round_robin.setdefault(f"{entry.target_id}:{entry.port}", itertools.count())
        pod = pods[next(counter) % len(pods)]
        status, content_type, body, headers = app_response(pod, path)
        if method == "HEAD":
            body = ""
        return web.Response(status=status, text=body, content_type=content_type, headers=headers)


async def start(world, host: str = "127.0.0.1", port: int = 0) -> AlbFront:
    """Start the ALB front; ``front.url`` is the address for ``curl -x`` or a Host header."""
    front = AlbFront(world)
    await front.start(host, port)
    return front


async def stop(front: AlbFront) -> None:
    await front.stop()
