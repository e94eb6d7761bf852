"""AWS calls a minute of the dashboard's polling (ClusterMonitor, as the dashboard runs it: default
settings, so the default call budget): on the ``large`` scenario under its rolling-update churn
(worker Deployments, so the target groups stay steady), the same with ten web Deployments
restarted (ten target groups changing), and on the default scenario, steady. Every call is
counted at aiobotocore's client, by operation, after a warm-up that lets the first round's burst
pass, over at least one whole cycle of full rounds (a 60 s window alone may or may not hold one);
printed: the average a minute, the most requests sent in any 60 s of the window, and the pace the
monitor chose.

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


def _record_calls() -> tuple[list[tuple[float, str]], list[float]]:
    """(time, operation) of every AWS call the product makes, as bench/scale.py counts them (when
    the call starts, which may be before the call budget lets it go out), and the time each HTTP
    request went out (for the busiest minute)."""
    from aiobotocore.client import AioBaseClient
    from aiobotocore.endpoint import AioEndpoint
    calls: list[tuple[float, str]] = []
    sent: list[float] = []
    call, send = AioBaseClient._make_api_call, AioEndpoint._send

    async def called(self, operation_name, api_params):
        calls.append((time.monotonic(), operation_name))
        return await call(self, operation_name, api_params)

    async def sending(self, request):
        sent.append(time.monotonic())
        return await send(self, request)
    AioBaseClient._make_api_call, AioEndpoint._send = called, sending
    return calls, sent


def _busiest_minute(stamps: list[float]) -> int:
    return max((sum(1 for t in stamps[i:] if t - start < 60.0) for i, start in enumerate(stamps)), default=0)


def _restart_web(env: dict[str, str]) -> None:
    """`kubectl rollout restart` of one web Deployment in each tenant namespace: their targets
    go initial and draining, so ten target groups are changing for a while."""
    from kubernetes import client, config
    apps = client.AppsV1Api(config.new_client_from_config(config_file=env["KUBECONFIG"]))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for i in range(10):
        apps.patch_namespaced_deployment("web-0", f"tenant-{i:02d}", {"spec": {"template": {"metadata": {
            "annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}})


async def _measure(env: dict[str, str], calls: list[tuple[float, str]], sent: list[float],
                   rollout: bool = False) -> dict:
    os.environ.update(env)
    from iagent_tui.config import load_settings
    from iagent_tui.services.connection import build_connection
    from iagent_tui.services.monitor import ClusterMonitor

    settings = load_settings(None, {})
    monitor = ClusterMonitor(await build_connection(settings), settings)
    async with monitor:
        await monitor.wait_for(lambda s: s.cluster is not None, timeout=300)
        await asyncio.sleep(WARM_UP_SECONDS)
        if rollout:
            await asyncio.to_thread(_restart_web, env)
        pace = getattr(monitor, "pace", None)  # absent before the call budget: a full round every 30 s
        window = max(WINDOW_SECONDS, pace.full_every + 5 if pace else 0)
        started, changing, polls = time.monotonic(), 0, monitor.aws_polls
        while time.monotonic() < started + window:
            await asyncio.sleep(1.0)
            snap = monitor.snapshot
            changing = max(changing, sum(any(t.in_transition for t in tg.targets) for tg in snap.target_groups))
        took = time.monotonic() - started
        pace = getattr(monitor, "pace", None)
        rounds = monitor.aws_polls - polls
    seen = [(t, op) for t, op in calls if started <= t < started + took]
    busiest = _busiest_minute([t for t in sent if started <= t < started + took])
    calls.clear()
    sent.clear()
    return {"calls_per_min": len(seen) * 60 / took, "window_s": took, "busiest_minute": busiest,
            "by_operation": dict(Counter(op for _, op in seen).most_common()),
            "target_groups": len(snap.target_groups), "changing_target_groups": changing,
            "pace": pace, "budget": getattr(settings, "aws_calls_per_minute", None), "rounds": rounds}


def _report(name: str, result: dict) -> None:
    print(f"  {name:34s} {result['calls_per_min']:7.1f} calls/min over {result['window_s']:.0f} s, "
          f"busiest 60 s {result['busiest_minute']} requests sent (budget {result['budget'] or 'none'}; "
          f"at most {result['changing_target_groups']}/{result['target_groups']} target groups changing; "
          f"{result['rounds']} rounds in the window)")
    print(f"    by operation: {', '.join(f'{op} {n}' for op, n in result['by_operation'].items())}")
    if result["pace"] is not None:
        print(f"    pace: {result['pace']}")


def run() -> dict:
    calls, sent = _record_calls()
    print(f"AWS calls a minute of the dashboard's polling (window at least {WINDOW_SECONDS:.0f} s, after a "
          f"{WARM_UP_SECONDS:.0f} s warm-up; load average {os.getloadavg()[0]:.1f}):")
    out = {}
    with SandboxProcess(scenario="large", extra_args=["--pods", str(LARGE_PODS)], timeout=600) as sandbox:
        out["large_under_churn"] = asyncio.run(_measure(sandbox.environment(), calls, sent))
        _report(f"large ({LARGE_PODS} pods), under churn", out["large_under_churn"])
        out["large_web_rollouts"] = asyncio.run(_measure(sandbox.environment(), calls, sent, rollout=True))
        _report("large, 10 web rollouts", out["large_web_rollouts"])
    with SandboxProcess(scenario="pre-migration") as sandbox:
        out["default_steady"] = asyncio.run(_measure(sandbox.environment(), calls, sent))
    _report("default scenario, steady", out["default_steady"])
    return out


if __name__ == "__main__":
    run()
