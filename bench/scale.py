"""Issue 10's figures: the dashboard, `status --json` and the AWS polling at 5,000 pods (the
``large`` sandbox scenario, under its rolling-update churn) and on the default scenario, each
beside its goal; written to bench/results.json.

The sandbox runs in its own process (bench/sandbox_proc.py); the dashboard is the real App run
headless (Textual's run_test) over the real ClusterMonitor, in this process, so its CPU, RSS and
event-loop stalls are measured here. AWS calls are counted at aiobotocore's client (every request
the product makes), not estimated.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import time
from collections import Counter
from pathlib import Path

from .dashboard import _until, table_rows
from .sandbox_proc import CLI, REPO, SandboxProcess, percentile
from .stages import StageTimes, worst

RESULTS = Path(__file__).resolve().parent / "results.json"
LARGE_PODS = int(os.environ.get("IAGENT_BENCH_LARGE_PODS", "5000"))
IDLE_SECONDS = float(os.environ.get("IAGENT_BENCH_IDLE_SECONDS", "60"))
LATENCY_SAMPLES = int(os.environ.get("IAGENT_BENCH_LATENCY_SAMPLES", "20"))
CHURN_SECONDS = float(os.environ.get("IAGENT_BENCH_CHURN_SECONDS", "60"))
# Panels that have rows once everything arrived (the default scenario has no profiles or targets yet).
PANELS = {False: ("pods", "nodes", "coredns"), True: ("pods", "nodes", "profiles", "coredns", "targets")}

# (key, goal, unit, lower is better)
GOALS = {
    "populate_s_default": (2.0, "s"), "populate_s_large": (5.0, "s"), "event_to_screen_p95_ms": (250.0, "ms"),
    "idle_cpu_percent": (2.0, "%"), "rss_mb_large": (400.0, "MB"), "max_loop_stall_ms": (100.0, "ms"),
    "aws_calls_per_min": (60.0, "calls"), "status_s_large": (3.0, "s"), "status_vs_cli_ratio": (0.33, ""),
}

# The kubectl/aws sequence, as an operator would type it, for status_vs_cli_ratio.
CLI_SEQUENCE = r"""
set -e
C=$IAGENT_CLUSTER
kubectl get nodes -o json > /dev/null
kubectl get pods -A -o json > /dev/null
kubectl get events -A -o json > /dev/null
aws eks describe-cluster --name "$C" > /dev/null
P=$(aws eks list-fargate-profiles --cluster-name "$C" --query 'fargateProfileNames[0]' --output text)
[ "$P" = None ] || aws eks describe-fargate-profile --cluster-name "$C" --fargate-profile-name "$P" > /dev/null
aws eks describe-addon --cluster-name "$C" --addon-name coredns > /dev/null
aws elbv2 describe-target-groups > /dev/null
"""


def _count_aws_calls() -> dict:
    """Count every AWS request the product sends (aiobotocore's one entry point for calls)."""
    from aiobotocore.client import AioBaseClient
    counter: dict = {"calls": 0, "by_operation": Counter()}
    original = AioBaseClient._make_api_call

    async def counted(self, operation_name, api_params):
        counter["calls"] += 1
        counter["by_operation"][operation_name] += 1
        return await original(self, operation_name, api_params)
    AioBaseClient._make_api_call = counted
    return counter


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _dashboard(env: dict[str, str], *, large: bool, calls: dict) -> dict:
    os.environ.update(env)
    from kubernetes import client, config

    from iagent_tui.app import build_app
    from iagent_tui.config import load_settings
    from iagent_tui.services.connection import build_connection

    api = client.CoreV1Api(config.new_client_from_config(config_file=env["KUBECONFIG"]))
    expected = len((await asyncio.to_thread(api.list_pod_for_all_namespaces, limit=0)).items)

    launched = time.monotonic()
    settings = load_settings(None, {})
    connection = await build_connection(settings)
    app = build_app(settings, connection)

    def rows(panel: str) -> list[str]:
        return table_rows(app, panel)

    # Event-loop stalls: how late a 10 ms sleep wakes up, the whole time the dashboard runs.
    stalls = {"max": 0.0, "on": False}

    async def probe() -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            if stalls["on"]:
                stalls["max"] = max(stalls["max"], time.monotonic() - before - 0.01)

    result: dict = {"pods_expected": expected}
    stages = StageTimes().install()
    async with app.run_test(size=(200, 50)) as pilot:
        prober = asyncio.create_task(probe())
        # Fully populated: every panel has rows and the pods table holds (within the churn's
        # surge) every pod the API listed before launch.
        populated = await _until(lambda: app.snapshot is not None and app.snapshot.cluster is not None
                                 and all(rows(p) for p in PANELS[large]) and len(rows("pods")) >= expected - 10,
                                 180, step=0.01)
        result["populate_s"] = populated - launched
        result["pods_rows"] = len(rows("pods"))
        stalls["on"] = True  # from here on: the steady state (churn, in the large scenario)
        stages.on = True

        latencies, names = [], []
        for i in range(LATENCY_SAMPLES):
            name = f"bench-{i}-{int(time.time() * 1000) % 100000}"
            body = {"metadata": {"name": name}, "spec": {"containers": [{
                "name": "c", "image": "public.ecr.aws/nginx/nginx:1.27-alpine",
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}
            await asyncio.to_thread(api.create_namespaced_pod, "kube-public", body)
            sent = time.monotonic()
            seen = await _until(lambda: any(k.endswith(f"/{name}") for k in rows("pods")), 30)
            latencies.append(seen - sent)
            names.append(name)
            await asyncio.sleep(0.2)
        for name in names:
            await asyncio.to_thread(api.delete_namespaced_pod, name, "kube-public", grace_period_seconds=0)
        result["latency_p50_ms"] = percentile(latencies, 50) * 1000
        result["latency_p95_ms"] = percentile(latencies, 95) * 1000

        calls0, t0, cpu0 = calls["calls"], time.monotonic(), time.process_time()
        ops0 = Counter(calls["by_operation"])
        await asyncio.sleep(CHURN_SECONDS if large else IDLE_SECONDS)
        took = time.monotonic() - t0
        result["aws_calls_per_min"] = (calls["calls"] - calls0) * 60 / took
        result["aws_calls_by_operation_per_min"] = {
            op: round(n * 60 / took, 1) for op, n in (calls["by_operation"] - ops0).most_common()}
        result["cpu_percent"] = 100 * (time.process_time() - cpu0) / took
        result["window_s"] = took
        result["rss_mb"] = _rss_mb()
        result["max_loop_stall_ms"] = stalls["max"] * 1000
        prober.cancel()
        stages.on = False
        await pilot.press("q")
    stages.uninstall()
    result["stages"] = stages.summary()
    return result


class CommandFailed(RuntimeError):
    def __init__(self, message: str, took: float) -> None:
        super().__init__(message)
        self.took = took


def _time(cmd: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.monotonic() - started
    if done.returncode not in (0, 1):  # status exits 1 when a source read with gaps
        raise CommandFailed(f"{' '.join(cmd[3:])} failed after {took:.1f} s: {done.stderr.decode()[-500:].strip()}", took)
    return took


def _status_runs(env: dict[str, str], runs: int, out: dict, name: str) -> list[float]:
    """status --json timings; a failed run (its own 60 s limit) is recorded with its time and
    error rather than ending the benchmark."""
    times = []
    for _ in range(runs + 1):  # the first warms the file cache
        try:
            times.append(_time(CLI + ["status", "--json"], env))
        except CommandFailed as exc:
            times.append(exc.took)
            out.setdefault("errors", []).append(f"{name}: {exc}")
    return times[1:]


def _run_large(calls: dict, out: dict) -> None:
    with SandboxProcess(scenario="large", extra_args=["--pods", str(LARGE_PODS)], timeout=600) as sandbox:
        env = sandbox.environment()
        out["sandbox_ready_s_large"] = sandbox.ready_seconds
        out["status_s_large"] = statistics.median(_status_runs(env, 3, out, "status --json (large)"))
        large = asyncio.run(_dashboard(env, large=True, calls=calls))
    out.update(populate_s_large=large["populate_s"], event_to_screen_p95_ms=large["latency_p95_ms"],
               event_to_screen_p50_ms_large=large["latency_p50_ms"], rss_mb_large=large["rss_mb"],
               max_loop_stall_ms=large["max_loop_stall_ms"], aws_calls_per_min=large["aws_calls_per_min"],
               cpu_percent_under_churn=large["cpu_percent"], pods_large=large["pods_expected"],
               stages_large=large["stages"], aws_calls_by_operation_large=large["aws_calls_by_operation_per_min"])


def _run_default(calls: dict, out: dict) -> None:
    with SandboxProcess(scenario="pre-migration") as sandbox:
        env = sandbox.environment()
        ours = _status_runs(env, 3, out, "status --json (default)")
        _time(["bash", "-c", CLI_SEQUENCE], env)
        theirs = [_time(["bash", "-c", CLI_SEQUENCE], env) for _ in range(3)]
        out["status_s_default"] = statistics.median(ours)
        out["cli_sequence_s_default"] = statistics.median(theirs)
        out["status_vs_cli_ratio"] = statistics.median(ours) / statistics.median(theirs)
        default = asyncio.run(_dashboard(env, large=False, calls=calls))
    out.update(populate_s_default=default["populate_s"], idle_cpu_percent=default["cpu_percent"],
               event_to_screen_p95_ms_default=default["latency_p95_ms"])


def _verdict(key: str, value: float, out: dict) -> str:
    goal, unit = GOALS[key]
    if value <= goal:
        return "met"
    missed = f"MISSED by {value - goal:.2f}{unit} ({value / goal:.1f}x the goal)"
    why = _why(key, out)
    return f"{missed}; {why}" if why else missed


def _why(key: str, out: dict) -> str:
    """The measured cause beside a missed figure (see bench/stages.py and the README)."""
    stages = out.get("stages_large") or {}
    if key in ("event_to_screen_p95_ms", "max_loop_stall_ms", "populate_s_large") and stages:
        return f"longest calls under churn: {worst(stages)}"
    if key == "aws_calls_per_min":
        ops = list((out.get("aws_calls_by_operation_large") or {}).items())[:3]
        return "per minute: " + ", ".join(f"{op} {n:g}" for op, n in ops) if ops else ""
    return ""


def run() -> dict:
    calls = _count_aws_calls()
    out: dict = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "load_average_at_start": os.getloadavg()[0], "cpus": os.cpu_count()}
    _run_default(calls, out)
    _run_large(calls, out)
    out["load_average_at_end"] = os.getloadavg()[0]
    RESULTS.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    print(f"issue 10 figures ({LARGE_PODS} pods in the large scenario; load average "
          f"{out['load_average_at_start']:.1f} -> {out['load_average_at_end']:.1f} on {out['cpus']} CPUs):")
    print(f"  {'figure':26s} {'value':>10s}  {'goal':>8s}  verdict")
    for key, (goal, unit) in GOALS.items():
        value = out[key]
        print(f"  {key:26s} {value:10.2f}  {goal:>7g}{unit:<2s} {_verdict(key, value, out)}")
    print(f"  (sandbox large ready in {out['sandbox_ready_s_large']:.1f} s; status default "
          f"{out['status_s_default']:.2f} s vs kubectl+aws {out['cli_sequence_s_default']:.2f} s; "
          f"dashboard CPU under churn {out['cpu_percent_under_churn']:.1f}%)")
    if out.get("stages_large"):
        print("  where the dashboard's time went under churn (thread CPU per call; GC pauses wall time):")
        for label, s in out["stages_large"].items():
            print(f"    {label:22s} {s['calls']:5d} calls  p50 {s['p50_ms']:7.1f} ms  max {s['max_ms']:7.1f} ms"
                  f"  total {s['total_ms'] / 1000:6.2f} s")
    for error in out.get("errors", ()):
        print(f"  error: {error}")
    print(f"  written to {RESULTS.relative_to(REPO)}")
    return out


if __name__ == "__main__":
    run()
