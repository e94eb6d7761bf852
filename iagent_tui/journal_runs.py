"""Past action runs as the on-call journal view lists them, read from the journal directory
(without Textual): one summary per JSON-lines file, and one run's steps as lines of text.

Every file is read through actions.journal.read, so a run cut short by a killed process (its torn
last line) still shows, as "interrupted" when it has no result line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from actions.journal import read


@dataclass(frozen=True)
class RunSummary:
    path: Path
    started: str = ""      # ISO time of the first record
    who: str = ""
    cluster: str = ""
    context: str = ""      # the kubeconfig context it acted on
    action: str = ""
    result: str = ""       # ok | failed | cancelled | refused | ... | interrupted (no result line)
    stopped_at: str = ""   # the step it stopped at, when it did not finish
    message: str = ""
    records: tuple[dict, ...] = field(default=(), repr=False)

    @property
    def key(self) -> str:
        return self.path.name


def summarise(path: Path) -> RunSummary:
    """One run; a file that cannot be read at all is a run whose result says why."""
    try:
        records = tuple(read(path))
    except (OSError, ValueError) as exc:
        return RunSummary(path, action=path.stem, result="unreadable", message=str(exc))
    start = next((r for r in records if r.get("type") == "start"), {})
    result = next((r for r in reversed(records) if r.get("type") == "result"), None)
    first = records[0] if records else {}
    target = start.get("target") or {}
    return RunSummary(
        path,
        started=str(first.get("time", "")),
        who=str(start.get("who", "")),
        cluster=str(first.get("cluster", "")),
        context=str(target.get("context", "")) if isinstance(target, dict) else "",
        action=str(first.get("action", path.stem)),
        result=str(result.get("result", "")) if result else "interrupted",
        stopped_at=str(result.get("stopped_at", "")) if result else _last_step(records),
        message=str(result.get("message", "")) if result else "no result line: the process stopped mid-run",
        records=records,
    )


def _last_step(records: tuple[dict, ...]) -> str:
    return next((str(r["step_id"]) for r in reversed(records) if r.get("type") == "event" and r.get("step_id")), "")


def list_runs(directory: Path) -> list[RunSummary]:
    """Every run in the journal directory, newest first (file names start with the UTC start time)."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        return []
    return [summarise(path) for path in sorted(directory.glob("*.jsonl"), key=lambda p: p.name, reverse=True)]


def run_lines(run: RunSummary) -> list[str]:
    """One run as plain lines: who/where, the plan's steps, every event and lock record, the result."""
    lines = [f"{run.action} on {run.cluster or '?'} by {run.who or '?'} at {run.started or '?'}"
             + (f" (context {run.context})" if run.context else ""), ""]
    for record in run.records:
        kind = record.get("type")
        time = str(record.get("time", ""))[11:19]
        if kind == "start":
            plan = record.get("plan") or {}
            steps = plan.get("steps") or [] if isinstance(plan, dict) else []
            lines.append(f"Plan ({len(steps)} steps{', read-only' if record.get('read_only') else ''}):")
            for step in steps:
                mark = "done" if step.get("done") else "todo"
                lines.append(f"  [{mark}] {step.get('verb', '')}: {step.get('title', '')}")
            lines.append("")
        elif kind == "lock":
            lines.append(f"{time}  lock {record.get('outcome', '')} {record.get('holder', '')} "
                         f"{record.get('message', '')}".rstrip())
        elif kind == "event":
            step = f" [{record['step_id']}]" if record.get("step_id") else ""
            lines.append(f"{time}  {record.get('kind', '')}{step} {record.get('message', '')}".rstrip())
        elif kind == "result":
            lines.append("")
            lines.append(f"Result: {record.get('result', '')}"
                         + (f", stopped at {record['stopped_at']}" if record.get("stopped_at") else "")
                         + (f": {record['message']}" if record.get("message") else ""))
    if run.result in ("interrupted", "unreadable"):
        lines.append("")
        lines.append(f"Result: {run.result}" + (f", stopped at {run.stopped_at}" if run.stopped_at else "")
                     + f": {run.message}")
    return lines
