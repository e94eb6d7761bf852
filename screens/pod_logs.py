"""A pod's log followed: its last lines, then new ones appended while the screen is open.

The screen owns one polling worker (group "pod-logs"): fetch through the service layer, append what
is new, wait, fetch again — the next fetch starts only after the last one finished, and the worker
dies with the screen, so nothing polls while it is closed. A failed fetch keeps the lines shown and
says why and since when on the status line; the next fetch may succeed.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Log, Static

from .detail import LogFetcher


def new_log_lines(shown: Sequence[str], fetched: Sequence[str]) -> list[str]:
    """The lines of ``fetched`` (the latest tail) that follow what is already ``shown``: the
    longest end of ``shown`` that the tail starts with is skipped. With no overlap (more lines came
    than the tail holds, or the container restarted) the whole tail is new. A log that repeats
    the same lines can be misread at the seam (kubectl logs -f streams instead; the service layer
    offers no follow yet)."""
    if not shown:
        return list(fetched)
    for overlap in range(min(len(shown), len(fetched)), 0, -1):
        if list(shown[-overlap:]) == list(fetched[:overlap]):
            return list(fetched[overlap:])
    return list(fetched)


class PodLogsScreen(Screen[None]):
    BINDINGS = [Binding("escape", "close", "Back", id="pod-logs-back")]

    def __init__(self, namespace: str, pod: str, fetch_logs: LogFetcher, interval: float = 2.0) -> None:
        super().__init__()
        self.namespace = namespace
        self.pod = pod
        self.fetch_logs = fetch_logs
        self.interval = interval
        self.lines: list[str] = []  # what the log widget shows (the test reads it)
        self.fetches = 0
        self.failing_since: datetime | None = None  # first failed read of the current run of failures

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Logs of pod {self.namespace}/{self.pod} — followed every {self.interval:g}s",
                          style="bold", end=""), id="pod-logs-title")
        yield Log(id="pod-logs-lines", max_lines=5000)
        yield Static("fetching logs…", id="pod-logs-status")
        yield Footer()

    def on_mount(self) -> None:
        self.run_worker(self._follow(), group="pod-logs", exclusive=True, exit_on_error=False,
                        description=f"follow the logs of {self.namespace}/{self.pod}")

    def action_close(self) -> None:
        # Stop polling before the screen goes: a read finishing after the pop must not write into
        # a detached widget.
        self.workers.cancel_group(self, "pod-logs")
        self.dismiss()

    async def _follow(self) -> None:
        log = self.query_one(Log)
        status = self.query_one("#pod-logs-status", Static)
        while True:
            try:
                result = self.fetch_logs(self.namespace, self.pod)
                if inspect.isawaitable(result):
                    result = await result
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - shown on the status line; the next poll may work
                if not self.is_attached:
                    return
                self.failing_since = self.failing_since or datetime.now()
                status.update(Text(f"Could not fetch logs since {self.failing_since:%H:%M:%S} (the lines above "
                                   f"are kept; retrying every {self.interval:g}s): {exc}", end=""))
            else:
                if not self.is_attached:
                    return  # closed while the read was in flight
                self.fetches += 1
                self.failing_since = None
                fresh = new_log_lines(self.lines, (result or "").splitlines())
                if fresh:
                    self.lines.extend(fresh)
                    del self.lines[:-5000]
                    log.write_lines(fresh)  # Log shows text as is: no markup to escape
                status.update(Text(f"{len(self.lines)} lines; last read {datetime.now():%H:%M:%S}", end=""))
            await asyncio.sleep(self.interval)
