"""`make bench`: every benchmark, printing numbers (not a test: nothing here asserts)."""

import sys

from . import apply, authz, aws_calls, dashboard, lists, monitor_mem, sandbox_start, scale, status_vs_cli, streams

BENCHES = {"scale": scale.run, "sandbox": sandbox_start.run, "status": status_vs_cli.run,
           "dashboard": dashboard.run, "lists": lists.run, "streams": streams.run, "authz": authz.run,
           "apply": apply.run, "monitor_mem": monitor_mem.run, "aws_calls": aws_calls.run}
# `make bench` runs issue 10's table (every goal, bench/results.json) and the list benchmark; the
# others overlap with it or measure one feature, and stay available by name
# (python -m bench sandbox status dashboard streams authz apply monitor_mem aws_calls).
DEFAULT = ["scale", "lists"]

if __name__ == "__main__":
    chosen = sys.argv[1:] or DEFAULT
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        sys.exit(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    for name in chosen:
        BENCHES[name]()
        print()
