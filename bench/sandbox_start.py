"""How long `iagent-tui sandbox` takes until every endpoint answers and the files are written
(goal: within 10 s), per scenario."""

from __future__ import annotations

import statistics

from .sandbox_proc import SandboxProcess


def run(runs: int = 3) -> dict:
    result = {}
    print("sandbox start to ready (files written, every endpoint answering):")
    for scenario in ("pre-migration", "migrated"):
        times = []
        for _ in range(runs):
            sandbox = SandboxProcess(scenario=scenario)
            try:
                sandbox.start()
                times.append(sandbox.ready_seconds)
            finally:
                sandbox.stop()
        result[scenario] = statistics.median(times)
        print(f"  {scenario:14s} median {result[scenario]:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times)}; goal < 10 s)")
    return result


if __name__ == "__main__":
    run()
