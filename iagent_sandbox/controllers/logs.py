"""Container logs for ``kubectl logs``: lines that look like each application's own, stamped with
simulated time from the container's start to now, and the same on every read (drawn per line).

- nginx images: the entrypoint's start-up lines, then access-log lines from kube-probe and the
  ALB health checker;
- CoreDNS: its start-up banner;
- iAgent images (…/iagent/*): JSON lines (ts, level, logger, msg, ...);
- anything else: a start line and periodic heartbeats;
- a batch run (a Job's pod, restartPolicy Never/OnFailure): what its command prints, for the
  commands a one-off usually runs (``echo ...``, ``date``, also under ``sh -c``), else nothing.

Other controllers can add lines of their own (e.g. the load balancer controller's errors) with
``add_log_line``; they are merged in time order.
"""

from __future__ import annotations

import json
import shlex
from datetime import datetime, timedelta

from ..clock import parse_rfc3339
from .images import parse_image

MAX_LINES = 1000
EXTRA_KEY = "pod_logs"


def add_log_line(world, pod: dict, container: str, text: str, at: datetime | None = None) -> None:
    key = (pod["metadata"]["namespace"], pod["metadata"]["name"], container)
    world.extras.setdefault(EXTRA_KEY, {}).setdefault(key, []).append((at or world.clock.now(), text))


def _kind(image: str) -> str:
    repo = parse_image(image).name
    for marker in ("nginx", "coredns", "/iagent/", "aws-load-balancer-controller", "fluent-bit"):
        if marker in repo:
            return marker.strip("/")
    return "generic"


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _nginx_time(dt: datetime) -> str:
    return dt.strftime("%d/%b/%Y:%H:%M:%S +0000")


def startup_lines(kind: str, container: dict, app: str, at: datetime) -> list[str]:
    if kind == "nginx":
        return [
            "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
            "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
            "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
            "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
            "/docker-entrypoint.sh: Configuration complete; ready for start up",
        ]
    if kind == "coredns":
        return [".:53", "[INFO] plugin/reload: Running configuration SHA512 = "
                "8a7d59126e7f114ab49c6d2613be93d8ef7d408af8ee61a710210843dc409f03133727e38f64469d9bb180f396c84ebf48a42bde3b3769730865ca9df5eb281c",
                "CoreDNS-1.11.3", "linux/amd64, go1.22.7, a6338e9"]
    if kind == "iagent":
        version = container.get("image", "").rpartition(":")[2] or "latest"
        return [json.dumps({"ts": _ts(at), "level": "info", "logger": app, "msg": "starting", "version": version}),
                json.dumps({"ts": _ts(at + timedelta(milliseconds=5)), "level": "info", "logger": app,
                            "msg": "listening", "addr": "0.0.0.0:8080"})]
    if kind == "aws-load-balancer-controller":
        return ['{"level":"info","msg":"version","GitVersion":"v2.11.0"}',
                '{"level":"info","logger":"controller-runtime.metrics","msg":"Starting metrics server"}']
    if kind == "fluent-bit":
        return ["Fluent Bit v1.9.10", "[ info] [engine] started (pid=1)"]
    return [f"{container['name']}: started"]


def periodic_line(kind: str, rng, app: str, pod_ip: str, dt: datetime) -> str:
    if kind == "nginx":
        agent, source = rng.choice([("kube-probe/1.31+", "10.0.{}.{}"), ("ELB-HealthChecker/2.0", "10.0.{}.{}")])
        src = source.format(rng.randint(0, 63), rng.randint(4, 250))
        return f'{src} - - [{_nginx_time(dt)}] "GET / HTTP/1.1" 200 615 "-" "{agent}" "-"'
    if kind == "coredns":
        return ""  # CoreDNS is quiet after start-up unless query logging is on
    if kind == "iagent":
        path = rng.choice(["/healthz", "/api/v1/agents", "/api/v1/tasks", "/readyz"])
        return json.dumps({"ts": _ts(dt), "level": "info", "logger": app, "msg": "request completed",
                           "method": "GET", "path": path, "status": 200,
                           "duration_ms": round(rng.uniform(2, 180), 1), "pod_ip": pod_ip})
    return f"{dt.isoformat()} heartbeat ok"


def batch_output(container: dict, at: datetime) -> list[str]:
    """What a one-off command prints: ``echo`` its words, ``date`` the time it ran (busybox's
    format), each command of an ``sh -c`` script in turn."""
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    if len(words) >= 3 and words[0] in ("sh", "/bin/sh", "bash", "/bin/bash") and words[1] == "-c":
        try:
            commands = [shlex.split(part) for part in words[2].split(";")]
        except ValueError:
            return []
    else:
        commands = [words]
    out = []
    for cmd in commands:
        if cmd and cmd[0] in ("echo", "/bin/echo"):
            out.append(" ".join(cmd[1:]))
        elif cmd and cmd[0] in ("date", "/bin/date"):
            out.append(at.strftime("%a %b ") + f"{at.day:2d}" + at.strftime(" %H:%M:%S UTC %Y"))
    return out


class SandboxLogs:
    def __init__(self, world) -> None:
        self.world = world

    def pod_log(self, pod: dict, container: str) -> list[tuple[datetime, str]]:
        status = pod.get("status") or {}
        statuses = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
        cs = next((c for c in statuses if c.get("name") == container), None)
        spec = next((c for c in (pod["spec"].get("containers") or []) + (pod["spec"].get("initContainers") or [])
                     if c.get("name") == container), None)
        lines: list[tuple[datetime, str]] = []
        if spec is not None and cs:
            # Every instance the kubelet still knows of: the previous one (lastState) and the
            # current one; the API server picks the one a request asks for (previous=true).
            state, last = cs.get("state") or {}, (cs.get("lastState") or {}).get("terminated")
            instances = [last] if last else []
            current = state.get("running") or state.get("terminated")
            if current and current is not last and current != last:
                instances.append(current)
            for run in instances:
                if not run.get("startedAt"):
                    continue
                end = parse_rfc3339(run["finishedAt"]) if run.get("finishedAt") else self.world.clock.now()
                lines += self._generated(pod, spec, parse_rfc3339(run["startedAt"]), end)
                if run.get("exitCode"):
                    lines.append((end, f"fatal: {container} exiting with code {run['exitCode']}"))
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"], container)
        lines += self.world.extras.get(EXTRA_KEY, {}).get(key, [])
        lines.sort(key=lambda item: item[0])
        return lines[-MAX_LINES:]

    def _generated(self, pod: dict, spec: dict, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
        if (pod["spec"].get("restartPolicy") or "Always") != "Always":
            return [(start, text) for text in batch_output(spec, start)]
        kind = _kind(spec.get("image", ""))
        app = pod["metadata"].get("labels", {}).get("app.kubernetes.io/name") or spec["name"]
        uid = pod["metadata"]["uid"]
        lines = [(start + timedelta(milliseconds=5 * i), text)
                 for i, text in enumerate(startup_lines(kind, spec, app, start))]
        if kind == "coredns":
            return lines
        probe = spec.get("readinessProbe") or spec.get("livenessProbe") or {}
        period = float(probe.get("periodSeconds", 10)) if probe else 15.0
        pod_ip = (pod.get("status") or {}).get("podIP", "")
        # Only the most recent MAX_LINES periods are generated, so a long-running pod stays cheap.
        total = int((end - start).total_seconds() // period)
        first = max(1, total - MAX_LINES)
        for n in range(first, total + 1):
            rng = self.world.clock.rng(f"log:{uid}:{spec['name']}:{n}")
            dt = start + timedelta(seconds=n * period + rng.uniform(0, 0.5))
            if dt > end:
                break
            text = periodic_line(kind, rng, app, pod_ip, dt)
            if text:
                lines.append((dt, text))
        return lines
