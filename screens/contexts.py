"""The context switcher (k9s `:ctx`): the kubeconfig's contexts with their cluster, region and
server; enter switches the dashboard to the highlighted one (the App rebuilds the monitor and the
services for it, no restart), escape keeps the current one."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from iagent_tui.kube_contexts import KubeContext

# Region before the cluster entry: an ARN is long, and a narrow terminal cuts from the right.
COLUMNS = (("name", "Context"), ("region", "Region"), ("cluster", "Cluster"), ("server", "Server"))


def _cell(context: KubeContext, column: str, active: str) -> Text:
    value = getattr(context, column) or "-"
    if column == "name":
        value = ("* " if context.name == active else "  ") + value
    # Text, not str: DataTable reads str cells as markup, and names may hold [ or ].
    return Text(value, style="bold" if context.name == active else "")


class ContextSwitcher(ModalScreen[str | None]):
    """dismiss(context name) on enter, None on escape or when the current one is chosen."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="context-cancel")]

    def __init__(self, contexts: list[KubeContext], active: str, source: str = "") -> None:
        super().__init__()
        self.contexts = contexts
        self.active = active
        self.source = source  # the kubeconfig path, shown in the title

    def compose(self) -> ComposeResult:
        with Vertical(id="context-box"):
            title = "Kubernetes context" + (f" — {self.source}" if self.source else "")
            yield Static(Text(title, style="bold", end=""), id="context-title")
            table: DataTable = DataTable(id="context-table", cursor_type="row")
            for key, label in COLUMNS:
                table.add_column(label, key=key)
            for context in self.contexts:
                table.add_row(*(_cell(context, key, self.active) for key, _ in COLUMNS), key=context.name)
            yield table
            hint = "enter switches the dashboard (panels, actions, logs, shell), esc keeps the current one" \
                if self.contexts else "The kubeconfig has no contexts."
            yield Static(Text(hint, end=""), id="context-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        names = [c.name for c in self.contexts]
        if self.active in names:
            table.move_cursor(row=names.index(self.active))
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        name = event.row_key.value
        self.dismiss(None if name == self.active else name)

    def action_cancel(self) -> None:
        self.dismiss(None)
