"""Shared helpers for the object store tests: a store on a clock whose time the test controls."""

from __future__ import annotations

from datetime import datetime, timezone

from iagent_sandbox.clock import SandboxClock
from iagent_sandbox.kube.store import ObjectStore

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


class SteppedClock(SandboxClock):
    """A SandboxClock whose simulated time moves only when the test says so, so timestamps the
    store writes (creation, deletion deadlines, event aggregation windows) are exact."""

    def __init__(self, seed: int = 7) -> None:
        super().__init__(speed=1.0, seed=seed, start=START)
        self.seconds = 0.0

    def elapsed(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


def new_store(seed: int = 7, history: int = 2000) -> tuple[ObjectStore, SteppedClock]:
    clock = SteppedClock(seed)
    return ObjectStore(clock, history=history), clock


def pod_body(name: str, labels: dict | None = None, node: str | None = None, **spec) -> dict:
    body = {"metadata": {"name": name, "labels": labels or {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}], **spec}}
    if node:
        body["spec"]["nodeName"] = node
    return body


def deployment_body(name: str = "web", replicas: int = 2, image: str = "nginx:1.27") -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "web", "image": image,
                                                  "ports": [{"containerPort": 80}]}]}},
        },
    }


def owner_ref(owner: dict) -> dict:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"],
            "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}
