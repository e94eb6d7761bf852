"""Headless Chromium for the tests that check what a browser shows (the HTML report, `serve`).

`make test` installs Debian's chromium where it can (root with apt-get, as in CI). Where it cannot, the
tests skip with the way to install it, except under CI, where a missing browser is a failure: a check
that silently stops running is worse than a red build."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-dev-shm-usage"]


def chromium() -> str:
    """The Chromium binary to drive, or skip (fail under CI) saying how to get one."""
    candidates = [os.environ.get("IAGENT_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")]
    for path in candidates:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    message = ("no headless Chromium: install Debian's `chromium` package (`make browser` does it as "
               "root) or set IAGENT_CHROMIUM to a Chromium binary")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def dump_dom(url: str, *, wait_ms: int = 5000, timeout: float = 90.0) -> str:
    """The page's DOM after scripts ran for up to `wait_ms` (Chromium's --dump-dom)."""
    with tempfile.TemporaryDirectory(prefix="iagent-chromium-") as profile:
        result = subprocess.run(
            [chromium(), *_FLAGS, f"--user-data-dir={profile}",
             f"--virtual-time-budget={wait_ms}", "--dump-dom", url],
            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


def screenshot(url: str, out: Path, *, size: str = "1280,2000", wait_ms: int = 3000,
               timeout: float = 90.0) -> Path:
    """A PNG of the page as Chromium renders it."""
    with tempfile.TemporaryDirectory(prefix="iagent-chromium-") as profile:
        result = subprocess.run(
            [chromium(), *_FLAGS, f"--user-data-dir={profile}", f"--window-size={size}",
             f"--virtual-time-budget={wait_ms}", f"--screenshot={out}", url],
            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0 or not out.exists():
        raise AssertionError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return out
