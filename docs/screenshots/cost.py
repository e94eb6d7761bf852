"""Regenerate docs/screenshots/cost.svg: the dashboard's Cost view (`$`) against a sandbox, after
the monitor has sampled metrics-server long enough for right-sizing.

    .venv/bin/python docs/screenshots/cost.py [--scenario pre-migration|migrated] [--size 120x40] [--out FILE]

The sandbox runs at speed 10 with seed 1, so the figures are the ones the README quotes (start
times and usage vary with the seed, not from run to run of the same seed)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

SPEED, SEED = 10.0, 1
WINDOW_SECONDS = 300  # simulated: 30 s of wall time at speed 10


async def capture(info, kubeconfig: Path, size: tuple[int, int], out: Path) -> None:
    from iagent_tui.app import build_app
    from iagent_tui.config import Settings
    from iagent_tui.services.connection import AwsTarget, from_kubeconfig
    from iagent_tui.services.monitor import ClusterMonitor
    from screens.cost import CostScreen

    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig),
                        rightsizing={"window": WINDOW_SECONDS, "sample_seconds": 15 / SPEED / 2})
    connection = await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))
    app = build_app(settings, connection, source=ClusterMonitor(connection, settings))

    def sampled() -> bool:
        case = app.assessment.business_case
        return (case is not None and case.rightsizing is not None
                and case.rightsizing.usage.span_seconds >= WINDOW_SECONDS)

    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + WINDOW_SECONDS / SPEED + 90
        while not sampled():
            if time.monotonic() > deadline:
                raise SystemExit("no right-sizing after the window: is metrics.k8s.io served?")
            await pilot.pause(0.5)
        await pilot.press("$")
        while not isinstance(app.screen, CostScreen):
            await pilot.pause(0.1)
        await pilot.pause(0.5)
        app.save_screenshot(out.name, str(out.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="pre-migration", choices=("pre-migration", "migrated"))
    parser.add_argument("--size", default="120x78", help="terminal columns x rows")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("cost.svg"))
    args = parser.parse_args()
    columns, rows = (int(n) for n in args.size.split("x"))

    from iagent_sandbox.runtime import SandboxThread, write_connection_files

    sandbox = SandboxThread(speed=SPEED, seed=SEED, scenario=args.scenario)
    info = sandbox.start()
    try:
        files = args.out.resolve().parent / ".sandbox-cost"
        files.mkdir(exist_ok=True)
        write_connection_files(info, files / "kubeconfig", files / "env")
        asyncio.run(capture(info, files / "kubeconfig", (columns, rows), args.out.resolve()))
    finally:
        sandbox.stop()
        for f in (files / "kubeconfig", files / "env"):
            f.unlink(missing_ok=True)
        files.rmdir()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
