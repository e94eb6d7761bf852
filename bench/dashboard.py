"""The dashboard against a sandbox in another process: time from launch to a fully populated
screen, event-to-screen latency (a change made with the official kubernetes client until its row is
on screen), and idle CPU. Goals: populated < 2 s, p95 < 250 ms, idle CPU < 2% of one core.

Runs the real App headless (Textual's run_test), with the real ClusterMonitor over HTTP."""

from __future__ import annotations

import asyncio
import os
import time

from .sandbox_proc import SandboxProcess, percentile

LATENCY_SAMPLES = int(os.environ.get("IAGENT_BENCH_LATENCY_SAMPLES", "20"))
IDLE_SECONDS = float(os.environ.get("IAGENT_BENCH_IDLE_SECONDS", "60"))
NAMESPACE = "kube-public"  # no Fargate profile selects it: the pod lands on EC2 quickly


async def _until(predicate, timeout: float, step: float = 0.002) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(step)
    return time.monotonic()


def table_rows(app, panel: str) -> list[str]:
    """The row keys of a dashboard panel's table (none until it is mounted)."""
    from screens.keyed_table import KeyedTable
    try:
        return app.dashboard.query_one(f"#table-{panel}", KeyedTable).row_keys
    except Exception:  # noqa: BLE001 - not mounted yet
        return []


async def _measure(env: dict[str, str]) -> dict:
    os.environ.update(env)
    from kubernetes import client, config

    from iagent_tui.app import build_app
    from iagent_tui.config import load_settings
    from iagent_tui.services.connection import build_connection

    launched = time.monotonic()
    settings = load_settings(None, {})
    connection = await build_connection(settings)
    app = build_app(settings, connection)

    def rows(panel: str) -> list[str]:
        return table_rows(app, panel)

    result: dict = {}
    async with app.run_test(size=(200, 60)) as pilot:
        populated = await _until(lambda: all(rows(p) for p in ("pods", "nodes", "profiles", "coredns", "targets")), 30)
        result["populated_s"] = populated - launched

        api = client.CoreV1Api(config.new_client_from_config(config_file=env["KUBECONFIG"]))
        latencies = []
        names = []
        for i in range(LATENCY_SAMPLES):
            name = f"bench-{i}-{int(time.time() * 1000) % 100000}"
            body = {"metadata": {"name": name}, "spec": {"containers": [{
                "name": "c", "image": "public.ecr.aws/nginx/nginx:1.27-alpine",
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}
            await asyncio.to_thread(api.create_namespaced_pod, NAMESPACE, body)
            sent = time.monotonic()
            seen = await _until(lambda: any(k.endswith(f"/{name}") for k in rows("pods")), 10)
            latencies.append(seen - sent)
            names.append(name)
        for name in names:
            await asyncio.to_thread(api.delete_namespaced_pod, name, NAMESPACE, grace_period_seconds=0)
        await _until(lambda: not any("/bench-" in k for k in rows("pods")), 30, step=0.05)
        result["latency_p50_ms"] = percentile(latencies, 50) * 1000
        result["latency_p95_ms"] = percentile(latencies, 95) * 1000

        await asyncio.sleep(5)  # let the deletions' aftermath settle before measuring idle
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(IDLE_SECONDS)
        cpu1, wall1 = time.process_time(), time.monotonic()
        result["idle_cpu_pct"] = 100 * (cpu1 - cpu0) / (wall1 - wall0)
        result["idle_seconds"] = wall1 - wall0
        await pilot.press("q")
    return result


def run() -> dict:
    with SandboxProcess(scenario="migrated") as sandbox:
        result = asyncio.run(_measure(sandbox.environment()))
    print("dashboard (headless App, real monitor, sandbox in another process, migrated scenario):")
    print(f"  launch to fully populated   {result['populated_s']:.2f} s   (goal < 2 s)")
    print(f"  event to screen             p50 {result['latency_p50_ms']:.0f} ms, p95 {result['latency_p95_ms']:.0f} ms "
          f"over {LATENCY_SAMPLES} pod creations   (goal p95 < 250 ms)")
    print(f"  idle CPU                    {result['idle_cpu_pct']:.2f}% of one core over {result['idle_seconds']:.0f} s   (goal < 2%)")
    return result


if __name__ == "__main__":
    run()
