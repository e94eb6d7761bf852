"""Where the dashboard's time goes, measured in the same run as the figures: CPU of this thread
per call of each stage on the path from a watch event to the screen, and the garbage collector's
pauses. A missed goal is printed with these, so the table says why, not only by how much.

Thread CPU (time.thread_time), not wall time: on a loaded machine wall time includes waiting for
a core; the stages' own cost does not. The GC pauses are wall time (the collector holds the GIL,
so a pause in any thread is a pause of the event loop)."""

from __future__ import annotations

import functools
import gc
import time
from collections import defaultdict

STAGES = {
    "monitor build": ("iagent_tui.services.monitor", "ClusterMonitor", "_build"),
    "derivation (thread)": ("iagent_tui.app", "IagentApp", "_assess"),
    "panels render": ("screens.dashboard", "DashboardScreen", "show"),
    "table measure": ("textual.widgets._data_table", "DataTable", "_update_dimensions"),
    "screen paint": ("textual.screen", "Screen", "_compositor_refresh"),
    "screen layout": ("textual.screen", "Screen", "_refresh_layout"),
}


class StageTimes:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.on = False
        self._undo: list = []
        self._gc_started = 0.0

    def install(self) -> "StageTimes":
        import importlib
        for label, (module, cls_name, method) in STAGES.items():
            cls = getattr(importlib.import_module(module), cls_name)
            original = cls.__dict__[method]

            def timed(*args, _original=original, _label=label, **kwargs):
                started = time.thread_time()
                try:
                    return _original(*args, **kwargs)
                finally:
                    if self.on:
                        self.samples[_label].append((time.thread_time() - started) * 1000)
            setattr(cls, method, functools.wraps(original)(timed))
            self._undo.append((cls, method, original))
        gc.callbacks.append(self._gc)
        return self

    def _gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self.on:
            self.samples[f"gc gen{info['generation']} pause"].append((time.perf_counter() - self._gc_started) * 1000)

    def uninstall(self) -> None:
        for cls, method, original in self._undo:
            setattr(cls, method, original)
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for label, values in sorted(self.samples.items()):
            ordered = sorted(values)
            out[label] = {"calls": len(ordered), "p50_ms": ordered[len(ordered) // 2],
                          "max_ms": ordered[-1], "total_ms": sum(ordered)}
        return out


def worst(summary: dict[str, dict[str, float]], n: int = 3) -> str:
    """The stages with the longest single call: what a loop stall or a late row is made of."""
    top = sorted(summary.items(), key=lambda item: -item[1]["max_ms"])[:n]
    return ", ".join(f"{label} up to {s['max_ms']:.0f} ms" for label, s in top)
