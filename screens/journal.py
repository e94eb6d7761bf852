"""The journal view: past action runs from the journal directory, newest first (who, when, cluster,
action, result, where it stopped); enter shows one run's plan, events and result. Read through
iagent_tui.journal_runs (actions.journal.read: a torn last line is tolerated)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from iagent_tui.journal_runs import RunSummary, list_runs, run_lines

COLUMNS = (("started", "Started (UTC)"), ("who", "Who"), ("cluster", "Cluster"), ("action", "Action"),
           ("result", "Result"), ("stopped_at", "Stopped at"))


def _cell(run: RunSummary, column: str) -> Text:
    value = getattr(run, column)
    if column == "started":
        value = value[:19].replace("T", " ")
    # Text, not str: DataTable reads str cells as markup, and journal text has [ and ].
    return Text(value or "-", style="bold red" if column == "result" and value not in ("ok", "nothing-to-do") else "")


class JournalScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="journal-back")]

    def __init__(self, journal_dir: Path) -> None:
        super().__init__()
        self.journal_dir = Path(journal_dir)
        self.runs: dict[str, RunSummary] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Journal — {self.journal_dir}", style="bold", end=""), id="journal-title")
        table: DataTable = DataTable(id="journal-table", cursor_type="row")
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Static("reading the journal…", id="journal-status")
        yield Footer()

    def on_mount(self) -> None:
        self.run_worker(self._load(), group="journal", exclusive=True, exit_on_error=False,
                        description=f"read the journal in {self.journal_dir}")

    async def _load(self) -> None:
        runs = await asyncio.to_thread(list_runs, self.journal_dir)  # plain file reads, off the UI loop
        table = self.query_one("#journal-table", DataTable)
        for run in runs:
            self.runs[run.key] = run
            table.add_row(*(_cell(run, key) for key, _ in COLUMNS), key=run.key)
        status = f"{len(runs)} runs, newest first; enter shows a run's steps" if runs \
            else f"No action runs journaled in {self.journal_dir} yet."
        self.query_one("#journal-status", Static).update(Text(status, end=""))
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        run = self.runs.get(str(event.row_key.value))
        if run is not None:
            self.app.push_screen(JournalRunScreen(run))


class JournalRunScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="journal-run-back")]

    def __init__(self, run: RunSummary) -> None:
        super().__init__()
        self.summary = run

    def compose(self) -> ComposeResult:
        yield Static(Text(f"{self.summary.action} — {self.summary.path.name}", style="bold", end=""), id="journal-run-title")
        with VerticalScroll():
            yield Static(Text("\n".join(run_lines(self.summary)), end=""), id="journal-run-text")
        yield Footer()
