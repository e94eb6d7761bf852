"""A sandbox in its own process, as a user runs it (`iagent-tui sandbox`), so that what a benchmark
measures of the product or of kubectl/aws is not mixed with the sandbox's own CPU."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "iagent_tui"]


class SandboxProcess:
    def __init__(self, scenario: str = "pre-migration", speed: float = 10.0, seed: int = 0,
                 extra_args: list[str] | None = None, timeout: float = 60.0) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="iagent-bench-"))
        self.kubeconfig = self.dir / "kubeconfig"
        self.env_file = self.dir / "env"
        self.args = CLI + ["sandbox", "--scenario", scenario, "--speed", str(speed), "--seed", str(seed),
                           "--kubeconfig", str(self.kubeconfig), "--env-file", str(self.env_file),
                           *(extra_args or [])]
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self.ready_seconds = 0.0

    def start(self, timeout: float | None = None) -> dict[str, str]:
        timeout = self.timeout if timeout is None else timeout
        started = time.monotonic()
        # stderr to a file, not a pipe: a long run's log lines would fill a pipe nobody reads
        # and freeze the sandbox.
        self.log = self.dir / "sandbox.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(self.args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log)
        while not self.env_file.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"sandbox exited: {self.log.read_text()[-2000:]}")
            if time.monotonic() - started > timeout:
                raise RuntimeError("sandbox not ready in time")
            time.sleep(0.02)
        self.ready_seconds = time.monotonic() - started
        return self.environment()

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN")}
        for line in self.env_file.read_text().splitlines():
            if line.startswith("export "):
                name, _, value = line[len("export "):].partition("=")
                value = shlex.split(value)[0] if value else ""
                env[name] = value.replace('"$PATH"', env.get("PATH", "")).replace("$PATH", env.get("PATH", ""))
        return env

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def __enter__(self) -> "SandboxProcess":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, int(-(-pct * len(ordered) // 100)))
    return ordered[min(rank, len(ordered)) - 1]


def serve_bare_api(module: str, directory: Path, *args: str, ready: str = "url") -> subprocess.Popen:
    """`python -m <module> --serve DIR ARGS`: a bench's bare API server in its own process, returned
    once it has written ``ready`` into DIR (the caller kills it)."""
    proc = subprocess.Popen([sys.executable, "-m", module, "--serve", str(directory), *args], cwd=REPO)
    while not (directory / ready).exists():
        if proc.poll() is not None:
            raise RuntimeError("the bench API server exited")
        time.sleep(0.05)
    return proc


def timed(fn, runs: int) -> tuple[float, list[float]]:
    """The median wall time of ``runs`` calls of ``fn``, and every time."""
    times = []
    for _ in range(runs):
        started = time.monotonic()
        fn()
        times.append(time.monotonic() - started)
    return statistics.median(times), times
