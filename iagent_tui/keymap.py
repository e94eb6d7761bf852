"""Every key of the dashboard, declared once with an id, as plain data (no Textual).

screens/keymap.py builds the App's bindings from this registry, and the help screen and the command
palette list it, so a key added here shows up everywhere. Users remap keys by id with ``keymap:``
in iagent.yaml; ``check_keymap`` validates that mapping here, without Textual, so that any command
(`iagent-tui status --config bad.yaml` too) refuses an unknown id or a bad key before it starts.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    id: str           # stable, used for remapping: {"open-help": "f1"}
    key: str
    action: str       # Textual action string run on the App
    description: str  # what help and the palette show
    group: str        # heading in the help screen
    show: bool = True  # shown in the footer


# Panels in the order they are laid out; "focus-<id>" commands jump to them.
PANEL_TITLES: dict[str, str] = {
    "profiles": "Fargate profiles",
    "nodes": "Nodes",
    "coredns": "CoreDNS",
    "findings": "Findings",
    "pods": "Pods",
    "targets": "ALB target health",
    "events": "Events",
}

# Default keys for the actions the App may be given (actions/ registers them by name). An action's
# command id is its name, the same word as its headless command (`iagent-tui deploy`).
ACTION_KEYS: dict[str, str] = {"deploy": "D", "smoke": "S", "add-namespace": "A", "rollback": "R"}

APP_COMMANDS: tuple[Command, ...] = (
    Command("open-help", "question_mark", "help", "Show every key", "App"),
    Command("filter-rows", "slash", "filter", "Filter rows in every panel", "View"),
    Command("switch-namespace", "n", "switch_namespace", "Switch namespace", "View"),
    Command("zoom-panel", "z", "zoom", "Zoom focused panel", "View"),
    Command("warnings-only", "e", "toggle_warnings", "Events: only Warnings / all", "View"),
    # The brief's migration step by step: where the cluster stands and the next action.
    Command("open-walkthrough", "w", "open_walkthrough", "Migration walkthrough", "View"),
    # The business case: cost now against after the migration, per namespace.
    Command("open-cost", "dollar_sign", "open_cost", "Cost before and after", "View", show=False),
    # On call: past runs from the journal; a shell in, or the followed logs of, the selected pod.
    Command("open-journal", "j", "open_journal", "Journal: past action runs", "View", show=False),
    Command("pod-shell", "s", "pod_shell", "Shell in the selected pod (kubectl exec)", "Panels", show=False),
    Command("pod-logs", "l", "pod_logs", "Follow the selected pod's logs", "Panels", show=False),
    # k9s's `:ctx` and shift-f: another kubeconfig context without a restart; kubectl port-forward.
    Command("switch-context", "K", "switch_context", "Switch Kubernetes context", "View", show=False),
    Command("port-forward", "F", "port_forward", "Port-forward the selected pod or target's service",
            "Panels", show=False),
    Command("port-forwards", "f", "list_forwards", "Port-forwards running (d stops one)", "Panels", show=False),
    Command("clear-filter", "escape", "clear_filter", "Clear filter and namespace", "View", show=False),
    Command("close-progress", "x", "close_progress", "Hide the finished action's progress", "Actions",
            show=False),
    # Shown in the footer only while an action runs (the App's check_action).
    Command("cancel-action", "c", "cancel_action", "Cancel the running action", "Actions"),
    Command("quit", "q", "quit", "Quit", "App"),
    *(
        Command(f"focus-{panel}", str(index), f"focus_panel('{panel}')", f"Go to {title}", "Panels",
                show=False)
        for index, (panel, title) in enumerate(PANEL_TITLES.items(), start=1)
    ),
)

# Enter is also the DataTable's own select key (which opens the row); binding it on the App as well
# lets users remap "open-detail" to another key.
DETAIL_COMMAND = Command("open-detail", "enter", "open_detail", "Open the selected row's details",
                         "Panels", show=False)


def action_commands(actions: Mapping[str, str]) -> tuple[Command, ...]:
    """Commands for the actions the App was given: {name: title}."""
    return tuple(
        Command(name, ACTION_KEYS.get(name, ""), f"start_action('{name}')", title, "Actions")
        for name, title in actions.items()
    )


# Every id a keymap may name, with its default key, in the order help lists them.
DEFAULT_KEYS: dict[str, str] = {
    **{c.id: c.key for c in APP_COMMANDS + (DETAIL_COMMAND,)},
    **ACTION_KEYS,
}

# Key names Textual knows besides single characters (textual.keys.Keys; tests/ui check they agree).
_NAMED_KEYS = frozenset({
    "escape", "enter", "tab", "space", "backspace", "delete", "insert", "home", "end", "pageup",
    "pagedown", "up", "down", "left", "right", *(f"f{n}" for n in range(1, 25)),
})
_MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
# Textual's names for some punctuation differ from the Unicode name it derives the others from.
_RENAMED = {"solidus": "slash", "reverse_solidus": "backslash", "commercial_at": "at",
            "hyphen_minus": "minus", "plus_sign": "plus", "low_line": "underscore"}


def character_key(character: str) -> str:
    """The name Textual gives the key that types ``character`` ("?" -> "question_mark"), the way
    textual.keys derives it: letters and digits are themselves, the rest their Unicode name."""
    if character.isalnum():
        return character
    try:
        name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return {"\t": "tab"}.get(character, character)
    return _RENAMED.get(name, name)


_CHARACTERS = {character_key(chr(c)): chr(c) for c in range(33, 127) if not chr(c).isalnum()}
_CHARACTER_NAMES = frozenset(_CHARACTERS)


def key_as_typed(key: str) -> str:
    """"ctrl+question_mark" -> "ctrl+?": a key the way a person writes it, for messages."""
    *modifiers, base = key.split("+")
    return "+".join([*modifiers, _CHARACTERS.get(base, base)]) if base else key


def normalise_key(key: str) -> str | None:
    """One key as Textual names it ("ctrl+d", "f1", "?" -> "question_mark"), or None when it
    names no key."""
    key = key.strip()
    if len(key) == 1:
        return character_key(key)
    *modifiers, base = key.split("+") if not key.endswith("++") else [*key[:-2].split("+"), "+"]
    if not base or any(m.lower() not in _MODIFIERS for m in modifiers):
        return None
    if len(base) == 1:
        base = character_key(base)
    elif base.lower() in _NAMED_KEYS or base.lower() in _CHARACTER_NAMES:
        base = base.lower()
    else:
        return None
    return "+".join([*(m.lower() for m in modifiers), base])


_KEY_HINT = "a key such as f1, ctrl+d, D, ? or escape (several keys: comma-separated)"


def check_keymap(keymap: Mapping[str, object]) -> dict[str, str]:
    """The keymap with keys as Textual names them, or ValueError with one sentence per problem
    (joined on one line): an unknown id (naming it and the valid ids), a key that is empty or no
    key at all, or two ids on one key (once the keymap is laid over the default keys)."""
    problems: list[str] = []
    normalised: dict[str, str] = {}
    for command_id, value in keymap.items():
        command_id = str(command_id)
        if command_id not in DEFAULT_KEYS:
            close = difflib.get_close_matches(command_id, DEFAULT_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unknown command id {command_id!r}{hint}; valid ids: {', '.join(DEFAULT_KEYS)}")
            continue
        text = "" if value is None or isinstance(value, bool) else str(value)
        parts = [part.strip() for part in re.split(r",(?!$)", text)] if text.strip() else []
        keys = [normalise_key(part) if part else None for part in parts]
        if not keys or None in keys:
            shown = "has no key" if not text.strip() else f"has {text!r}, which is not a key"
            problems.append(f"{command_id} {shown}: give {_KEY_HINT}")
            continue
        normalised[command_id] = ",".join(dict.fromkeys(k for k in keys if k))
    if not problems:
        problems.extend(_clashes(normalised))
    if problems:
        raise ValueError(". ".join(problems))  # one line; the caller ends the last sentence
    return normalised


def _clashes(keymap: Mapping[str, str]) -> list[str]:
    """Two commands on one key: the later would silently take the key from the other."""
    owners: dict[str, list[str]] = {}
    for command_id, default in DEFAULT_KEYS.items():
        keys = keymap.get(command_id, default)
        for key in filter(None, (normalise_key(k) for k in keys.split(",") if k.strip())):
            owners.setdefault(key, []).append(command_id)
    return [f"{' and '.join(ids)} are both on key {key_as_typed(key)!r}: give each its own key"
            for key, ids in owners.items() if len(ids) > 1]
