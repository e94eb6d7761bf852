"""The README's screenshots, regenerated: `.venv/bin/python docs/screenshots/make.py [NAME ...]`.

Starts a sandbox in-process (the migrated scenario, fixed seed), opens the dashboard on it through
the real service layer (kubeconfig context, ClusterMonitor, the standard actions) in Textual's
Pilot, and saves each view with ``App.save_screenshot`` as an SVG in this directory. A view is one
line in SHOTS: its file name, the keys that open it, and the screen to wait for (by class name).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SIZE = (160, 45)
SETTLE_SECONDS = 60.0  # the longest wait for one view to be ready; never waited out when it is


@dataclass(frozen=True)
class Shot:
    name: str                  # docs/screenshots/<name>.svg
    keys: tuple[str, ...] = ()  # pressed on the dashboard to open the view
    screen: str = "DashboardScreen"  # the screen class to wait for before saving


SHOTS = (
    Shot("dashboard"),
    Shot("walkthrough", ("w",), "WalkthroughScreen"),
    Shot("rollback-dialog", ("R",), "ConfirmDialog"),
)


async def _until(pilot, predicate, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_SECONDS
    while not predicate():
        if loop.time() > deadline:
            raise SystemExit(f"gave up after {SETTLE_SECONDS:.0f}s waiting for {what}")
        await pilot.pause(0.1)


async def _shoot(info, kubeconfig: Path, shots: tuple[Shot, ...]) -> None:
    from iagent_tui.app import build_app
    from iagent_tui.config import Settings
    from iagent_tui.services.connection import AwsTarget, from_kubeconfig
    from iagent_tui.services.monitor import ClusterMonitor

    settings = Settings(cluster=info.cluster_name, region=info.region, kubeconfig=str(kubeconfig),
                        journal_dir=Path(tempfile.mkdtemp(prefix="iagent-shots-journal-")))
    connection = await from_kubeconfig(settings, AwsTarget(
        region=info.region, endpoint_url=info.aws_endpoint, access_key_id=info.access_key_id,
        secret_access_key=info.secret_access_key))
    app = build_app(settings, connection, source=ClusterMonitor(connection, settings, fast_interval=0.5,
                                                                slow_interval=2.0))
    app.badge = "SANDBOX"
    async with app.run_test(size=SIZE) as pilot:
        def populated() -> bool:
            snap = app.snapshot
            return (app.screen is app.dashboard and snap is not None and snap.cluster is not None
                    and app.dashboard.query_one("#table-pods").row_count > 0
                    and any(t.state == "healthy" for tg in snap.target_groups for t in tg.targets)
                    and "rollback" in app.actions)
        await _until(pilot, populated, "the sandbox on the dashboard (pods, a healthy target, the actions)")
        for shot in shots:
            await pilot.press(*shot.keys)
            await _until(pilot, lambda: type(app.screen).__name__ == shot.screen, shot.screen)
            await pilot.pause(0.5)  # let the view's own workers draw (a plan, a list) before the picture
            path = app.save_screenshot(f"{shot.name}.svg", str(HERE))
            print(f"wrote {Path(path).relative_to(REPO)}")
            while app.screen is not app.dashboard:
                await pilot.press("escape")
                await pilot.pause()


def main(names: list[str]) -> int:
    from iagent_sandbox.runtime import SandboxThread, write_connection_files

    shots = tuple(s for s in SHOTS if not names or s.name in names)
    unknown = set(names) - {s.name for s in SHOTS}
    if unknown:
        print(f"no such screenshot: {', '.join(sorted(unknown))}; choose from {', '.join(s.name for s in SHOTS)}",
              file=sys.stderr)
        return 2
    sandbox = SandboxThread(speed=20, seed=1, scenario="migrated")
    info = sandbox.start()
    try:
        with tempfile.TemporaryDirectory(prefix="iagent-shots-") as tmp:
            kubeconfig = Path(tmp) / "kubeconfig"
            write_connection_files(info, kubeconfig, Path(tmp) / "env")
            asyncio.run(_shoot(info, kubeconfig, shots))
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main(sys.argv[1:]))
