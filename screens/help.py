"""`?` help: every key, grouped, built from the same registry as the bindings and the palette."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from .keymap import Command, key_label


def help_text(commands: tuple[Command, ...], keys: dict[str, str]) -> Text:
    """keys: the key currently bound to each command id (after user remapping)."""
    text = Text(end="")
    groups: dict[str, list[Command]] = {}
    for command in commands:
        groups.setdefault(command.group, []).append(command)
    for group, members in groups.items():
        if text:
            text.append("\n")
        text.append(f"{group}\n", style="bold")
        for c in members:
            key = key_label(keys.get(c.id, c.key)) or "palette"
            text.append(f"  {key:>10}  {c.description}\n")
    text.append("\n  ctrl+p      command palette: every action, view and theme\n")
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close help", id="help-close")]

    def __init__(self, commands: tuple[Command, ...], keys: dict[str, str]) -> None:
        super().__init__()
        self.commands = commands
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_text(self.commands, self.keys), id="help-text")
