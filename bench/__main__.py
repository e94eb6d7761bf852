"""`make bench`: every benchmark, printing numbers (not a test: nothing here asserts)."""

import sys

from . import apply, authz, dashboard, lists, sandbox_start, status_vs_cli, streams

BENCHES = {"sandbox": sandbox_start.run, "status": status_vs_cli.run, "dashboard": dashboard.run,
           "lists": lists.run, "streams": streams.run, "authz": authz.run, "apply": apply.run}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(BENCHES)
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        sys.exit(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    for name in chosen:
        BENCHES[name]()
        print()
