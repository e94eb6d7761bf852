"""Server-side apply (issue #11): on a bare API server in its own process, the cost of one apply
that creates a Deployment, one that changes nothing, one that changes a field, and (for
comparison) a strategic merge patch, which now also records its field manager. Prints
per-request medians over the official sync client."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from .sandbox_proc import serve_bare_api

APPLY = "application/apply-patch+yaml"


def _deployment(i: int, image: str = "nginx:1.27") -> dict:
    name = f"web-{i:04d}"
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                         {"name": "web", "image": image, "ports": [{"containerPort": 80}],
                          "env": [{"name": "MODE", "value": "blue"}]}]}}}}


def _timed_each(fn, count: int) -> list[float]:
    times = []
    for i in range(count):
        started = time.monotonic()
        fn(i)
        times.append(time.monotonic() - started)
    return times


def run(count: int = 200) -> dict:
    from kubernetes import client, config

    directory = Path(tempfile.mkdtemp(prefix="iagent-bench-apply-"))
    proc = serve_bare_api("bench.lists", directory, "0")
    try:
        api = config.new_client_from_config(config_file=str(directory / "kubeconfig"))
        apps = client.AppsV1Api(api)

        def apply(i: int, image: str = "nginx:1.27") -> None:
            apps.patch_namespaced_deployment(f"web-{i:04d}", "default", _deployment(i, image),
                                             field_manager="bench", _content_type=APPLY)

        result = {
            "apply (create)": _timed_each(apply, count),
            "apply (no change)": _timed_each(apply, count),
            "apply (image change)": _timed_each(lambda i: apply(i, "nginx:1.28"), count),
            "strategic merge patch": _timed_each(lambda i: apps.patch_namespaced_deployment(
                f"web-{i:04d}", "default", {"spec": {"replicas": 3}}), count),
        }
        api.close()
    finally:
        proc.kill()
        proc.wait()
    print(f"server-side apply, {count} Deployments each (bare API server in its own process, sync client):")
    for name, times in result.items():
        print(f"  {name:24s} median {statistics.median(times) * 1000:6.1f} ms   "
              f"p95 {sorted(times)[int(len(times) * 0.95) - 1] * 1000:6.1f} ms")
    return {name: statistics.median(times) for name, times in result.items()}


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
