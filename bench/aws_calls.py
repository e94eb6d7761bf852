"""AWS calls a minute of the dashboard's polling (ClusterMonitor, as the dashboard runs it: default
settings, so the default call budget): on the ``large`` scenario under its rolling-update churn
(target groups always in transition) and on the default scenario, steady. Every request is counted
at aiobotocore's client (bench/scale.py's counter), by operation, after a warm-up that lets the
first round's burst pass; the pace the monitor chose is printed beside the count.

  python -m bench aws_calls            (IAGENT_BENCH_LARGE_PODS, IAGENT_BENCH_AWS_WINDOW seconds)
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter

from .sandbox_proc import SandboxProcess
from .scale import LARGE_PODS

WINDOW_SECONDS = float(os.environ.get("IAGENT_BENCH_AWS_WINDOW", "60"))
WARM_UP_SECONDS = 20.0


def _count_by_operation() -> Counter:
    from aiobotocore.client import AioBaseClient
    counts: Counter = Counter()
    original = AioBaseClient._make_api_call

    async def counted(self, operation_name, api_params):
        counts[operation_name] += 1
        return await original(self, operation_name, api_params)
    AioBaseClient._make_api_call = counted
    return counts


async def _measure(env: dict[str, str], counts: Counter) -> dict:
    os.environ.update(env)
    from iagent_tui.config import load_settings
    from iagent_tui.services.connection import build_connection
    from iagent_tui.services.monitor import ClusterMonitor

    settings = load_settings(None, {})
    monitor = ClusterMonitor(await build_connection(settings), settings)
    async with monitor:
        await monitor.wait_for(lambda s: s.cluster is not None, timeout=300)
        await asyncio.sleep(WARM_UP_SECONDS)
        before, started = sum(counts.values()), time.monotonic()
        by_op = Counter(counts)
        await asyncio.sleep(WINDOW_SECONDS)
        took = time.monotonic() - started
        snap = monitor.snapshot
        changing = sum(any(t.in_transition for t in tg.targets) for tg in snap.target_groups) if snap else 0
        pace = getattr(monitor, "pace", None)
    return {"calls_per_min": (sum(counts.values()) - before) * 60 / took, "window_s": took,
            "by_operation": dict((counts - by_op).most_common()), "target_groups": len(snap.target_groups) if snap else 0,
            "changing_target_groups": changing, "pace": pace,
            "budget": getattr(settings, "aws_calls_per_minute", None)}


def _report(name: str, result: dict) -> None:
    print(f"  {name:34s} {result['calls_per_min']:7.1f} calls/min over {result['window_s']:.0f} s "
          f"(budget {result['budget'] or 'none'}; {result['changing_target_groups']}/{result['target_groups']} "
          f"target groups changing at the end)")
    print(f"    by operation: {', '.join(f'{op} {n}' for op, n in result['by_operation'].items())}")
    if result["pace"] is not None:
        print(f"    pace: {result['pace']}")


def run() -> dict:
    counts = _count_by_operation()
    print(f"AWS calls a minute of the dashboard's polling (window {WINDOW_SECONDS:.0f} s after a "
          f"{WARM_UP_SECONDS:.0f} s warm-up; load average {os.getloadavg()[0]:.1f}):")
    out = {}
    with SandboxProcess(scenario="large", extra_args=["--pods", str(LARGE_PODS)], timeout=600) as sandbox:
        out["large_under_churn"] = asyncio.run(_measure(sandbox.environment(), counts))
    _report(f"large ({LARGE_PODS} pods), under churn", out["large_under_churn"])
    with SandboxProcess(scenario="pre-migration") as sandbox:
        out["default_steady"] = asyncio.run(_measure(sandbox.environment(), counts))
    _report("default scenario, steady", out["default_steady"])
    return out


if __name__ == "__main__":
    run()
