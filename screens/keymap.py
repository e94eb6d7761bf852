"""The dashboard's key registry (iagent_tui/keymap.py, plain data) as Textual bindings.

The App's bindings, the `?` help screen and the command palette are all built from that registry,
so a key added there shows up everywhere, and users remap keys by id (``keymap:`` in iagent.yaml,
applied with App.set_keymap) without the help and the palette going out of date.
"""

from __future__ import annotations

from textual.binding import Binding

from iagent_tui.keymap import (ACTION_KEYS, APP_COMMANDS, DEFAULT_KEYS, DETAIL_COMMAND, PANEL_TITLES,
                               Command, action_commands, key_as_typed)

__all__ = ["ACTION_KEYS", "APP_COMMANDS", "DEFAULT_KEYS", "DETAIL_COMMAND", "PANEL_TITLES", "Command",
           "action_commands", "bindings", "key_label"]


def bindings(commands: tuple[Command, ...]) -> list[Binding]:
    return [
        Binding(c.key, c.action, c.description, show=c.show, id=c.id)
        for c in commands if c.key
    ]


def key_label(key: str) -> str:
    """A key as a person types it: "?" for question_mark, "$" for dollar_sign, "esc" for escape."""
    return "esc" if key == "escape" else key_as_typed(key)
