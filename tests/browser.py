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


def _devtools_port(profile: Path, process: subprocess.Popen, timeout: float) -> int:
    """The port Chromium chose for --remote-debugging-port=0 (it writes it into the profile)."""
    import time
    deadline = time.monotonic() + timeout
    active = profile / "DevToolsActivePort"
    while time.monotonic() < deadline:
        if active.exists() and active.read_text().strip():
            return int(active.read_text().split()[0])
        if process.poll() is not None:
            raise AssertionError(f"chromium exited {process.returncode} before DevTools was up")
        time.sleep(0.1)
    raise AssertionError(f"chromium's DevTools port did not appear within {timeout}s")


async def websocket_text_until(url: str, wanted: str, *, timeout: float = 90.0,
                               size: tuple[int, int] = (1400, 900)) -> str:
    """Open ``url`` in headless Chromium and collect what the page receives over its websockets
    (for textual-serve: the app's terminal output, which xterm.js draws on a canvas, so the DOM
    never holds it) until, with terminal escape sequences removed, it contains ``wanted``. Driven
    over the DevTools protocol (CDP) with aiohttp; bounded by ``timeout``. Returns the text
    received, escape sequences removed."""
    import asyncio
    import base64
    import json
    import re

    def plain() -> str:
        return re.sub(r"\x1b(\[[0-9;?$]*[a-zA-Z]|\][^\x07]*\x07)", "", "".join(received))

    import aiohttp

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    with tempfile.TemporaryDirectory(prefix="iagent-chromium-") as profile:
        process = subprocess.Popen(
            [chromium(), *_FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}",
             "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = await asyncio.to_thread(_devtools_port, Path(profile), process, 30.0)
            received: list[str] = []
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                    pages = [t for t in await response.json() if t.get("type") == "page"]
                async with http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as cdp:
                    for number, (method, params) in enumerate((("Network.enable", {}),
                                                               ("Page.navigate", {"url": url})), start=1):
                        await cdp.send_json({"id": number, "method": method, "params": params})
                    while wanted not in plain():
                        left = deadline - loop.time()
                        if left <= 0:
                            raise AssertionError(f"the page's terminal never showed {wanted!r} within {timeout}s; "
                                                 f"received {len(plain())} characters")
                        message = await cdp.receive(timeout=left)
                        if message.type != aiohttp.WSMsgType.TEXT:
                            raise AssertionError(f"DevTools connection ended: {message.type}")
                        event = json.loads(message.data)
                        if event.get("method") == "Network.webSocketFrameReceived":
                            frame = event["params"]["response"]
                            data = frame.get("payloadData", "")
                            if frame.get("opcode") == 2:  # binary: textual-serve's packets
                                data = base64.b64decode(data).decode("utf-8", errors="replace")
                            received.append(data)
            return plain()
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
