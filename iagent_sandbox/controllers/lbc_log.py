"""The load balancer controller's own log lines (``kubectl logs deploy/aws-load-balancer-controller``),
in the controller's zap JSON format, written to the leader replica's log through logs.add_log_line.
Only the leader reconciles, so only it logs reconcile work."""

from __future__ import annotations

import json

from ..clock import rfc3339
from ..kube.resources import rt
from .logs import add_log_line

CONTROLLER_NS = "kube-system"
CONTROLLER_NAME = "aws-load-balancer-controller"


def leader_pod(store) -> dict | None:
    pods, _ = store.list(rt("pods"), CONTROLLER_NS, label_selector=f"app.kubernetes.io/name={CONTROLLER_NAME}")
    running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"
               and not p["metadata"].get("deletionTimestamp")]
    return running[0] if running else None


def controller_log(world, level: str, msg: str, logger: str | None = None, **fields) -> None:
    leader = leader_pod(world.store)
    if leader is None:
        return
    now = world.clock.now()
    line = {"level": level, "ts": rfc3339(now)}
    if logger:
        line["logger"] = logger
    line["msg"] = msg
    line.update(fields)
    add_log_line(world, leader, CONTROLLER_NAME, json.dumps(line), at=now)
