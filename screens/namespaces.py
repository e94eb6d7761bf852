"""Namespace switcher: narrow pods, events, targets and findings to one namespace."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

ALL = ""


class NamespaceSwitcher(ModalScreen[str | None]):
    """dismiss(namespace) with "" for all namespaces, None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="namespace-cancel")]

    def __init__(self, namespaces: list[str], current: str) -> None:
        super().__init__()
        self.namespaces = namespaces
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="namespace-box"):
            yield Static("Namespace", id="namespace-title")
            options = [Option("all namespaces", id="\0all")]
            # Option prompts are markup; namespace names are DNS labels, but stay literal anyway.
            options += [Option(Text(ns), id=ns) for ns in self.namespaces]
            yield OptionList(*options, id="namespace-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        index = self.namespaces.index(self.current) + 1 if self.current in self.namespaces else 0
        options.highlighted = index
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        chosen = event.option.id
        self.dismiss(ALL if chosen == "\0all" else chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
