"""The ClusterMonitor alone at 5,000 pods (the ``large`` sandbox scenario, under its churn): the
process's RSS once everything is listed, split into the import baseline (Python, aiobotocore,
kubernetes_asyncio; Textual on top for the dashboard) and the data, and the time one Snapshot
takes to build (p50/p95 over the churn window). Part of issue 10's ``rss_mb_large``.

    python -m bench monitor_mem                      # starts its own sandbox
    python -m bench.monitor_mem --env-file ENV       # against a running `iagent-tui sandbox`
        [--seconds 60] [--profile] [--trace]

--profile prints cProfile's cumulative times of the builds; --trace prints where the data's
memory was allocated (tracemalloc; it slows everything down, so its build times mean nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from .sandbox_proc import REPO, SandboxProcess, percentile

LARGE_PODS = int(os.environ.get("IAGENT_BENCH_LARGE_PODS", "5000"))
CHURN_SECONDS = float(os.environ.get("IAGENT_BENCH_CHURN_SECONDS", "60"))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _env_from_file(path: Path) -> dict[str, str]:
    sandbox = SandboxProcess.__new__(SandboxProcess)
    sandbox.env_file = path
    return sandbox.environment()


def _dashboard_import_rss() -> float:
    """RSS of a fresh process that imported what the dashboard imports (Textual, the screens,
    the monitor and its clients), for the baseline the dashboard adds to the monitor's data."""
    code = ("import aiobotocore.session, kubernetes_asyncio.client, iagent_tui.app, iagent_tui.services.monitor; "
            "from bench.monitor_mem import _rss_mb; print(_rss_mb())")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


async def _until(predicate, timeout: float) -> None:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.05)


async def measure(env: dict[str, str], seconds: float = CHURN_SECONDS, *, profile: bool = False,
                  trace: bool = False) -> dict:
    os.environ.update(env)
    out: dict = {"rss_mb_python": _rss_mb()}
    from iagent_tui.config import load_settings
    from iagent_tui.services.connection import build_connection
    from iagent_tui.services.kube import EVENTS, PODS
    from iagent_tui.services.monitor import ClusterMonitor
    # What the monitor's clients import on first use, so that "data" is data.
    import aiobotocore.session  # noqa: F401
    import kubernetes_asyncio.client  # noqa: F401
    out["rss_mb_imports"] = _rss_mb()
    out["rss_mb_dashboard_imports"] = _dashboard_import_rss()
    if trace:
        tracemalloc.start(8)

    settings = load_settings(None, {})
    connection = await build_connection(settings)
    monitor = ClusterMonitor(connection, settings)
    builds: list[float] = []
    profiler = cProfile.Profile() if profile else None
    build = monitor._build

    def timed_build():
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        try:
            return build()
        finally:
            if profiler is not None:
                profiler.disable()
            builds.append(time.perf_counter() - started)

    monitor._build = timed_build  # type: ignore[method-assign]
    launched = time.monotonic()

    def events_synced() -> bool:
        return all(r.synced for r in monitor.reflectors if r.resource is EVENTS)

    async with monitor:
        await _until(lambda: monitor.snapshot is not None, 300)
        out["first_snapshot_s"] = time.monotonic() - launched
        out["first_snapshot_pods"] = len(monitor.snapshot.pods)
        await _until(events_synced, 300)
        out["events_listed_s"] = time.monotonic() - launched
        builds.clear()
        await asyncio.sleep(seconds)
        snap = monitor.snapshot
        out.update(pods=len(snap.pods), events=len(snap.events), builds=len(builds),
                   build_p50_ms=percentile(builds, 50) * 1000, build_p95_ms=percentile(builds, 95) * 1000,
                   build_max_ms=max(builds, default=float("nan")) * 1000,
                   kept={r.name: len(r.items) for r in monitor.reflectors if r.resource in (PODS, EVENTS)})
        gc.collect()
        out["rss_mb"] = _rss_mb()
        if trace:
            out["trace"] = tracemalloc.take_snapshot()
    if profiler is not None:
        out["profile"] = pstats.Stats(profiler)
    return out


def _report(out: dict) -> None:
    data = out["rss_mb"] - out["rss_mb_imports"]
    print(f"monitor alone, large scenario ({out['pods']} pods in the last snapshot, {out['events']} events in it):")
    print(f"  first snapshot {out['first_snapshot_s']:.1f} s ({out['first_snapshot_pods']} pods); "
          f"events listed {out['events_listed_s']:.1f} s")
    print(f"  RSS {out['rss_mb']:.0f} MB = Python {out['rss_mb_python']:.0f} MB + imports "
          f"{out['rss_mb_imports'] - out['rss_mb_python']:.0f} MB + data {data:.0f} MB "
          f"(the dashboard's imports, Textual included: {out['rss_mb_dashboard_imports']:.0f} MB)")
    print(f"  snapshot build over {out['builds']} builds: p50 {out['build_p50_ms']:.1f} ms, "
          f"p95 {out['build_p95_ms']:.1f} ms, max {out['build_max_ms']:.1f} ms")
    print(f"  objects kept: {out['kept']}")
    if "profile" in out:
        out["profile"].sort_stats("cumulative").print_stats(30)
    if "trace" in out:
        print("  where the memory traced since the imports went (top 25 lines):")
        for stat in out["trace"].statistics("lineno")[:25]:
            frame = stat.traceback[0]
            print(f"    {stat.size / 2**20:7.1f} MB {stat.count:9d} blocks  {frame.filename}:{frame.lineno}")


def run() -> dict:
    with SandboxProcess(scenario="large", extra_args=["--pods", str(LARGE_PODS)], timeout=600) as sandbox:
        out = asyncio.run(measure(sandbox.environment()))
    _report(out)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-file", type=Path, help="a running sandbox's --env-file (else one is started)")
    parser.add_argument("--seconds", type=float, default=CHURN_SECONDS)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args()
    if args.env_file is None:
        run()
    else:
        _report(asyncio.run(measure(_env_from_file(args.env_file), args.seconds, profile=args.profile,
                                    trace=args.trace)))
