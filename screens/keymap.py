"""Every key of the dashboard, declared once with an id and a description.

The App's bindings, the `?` help screen and the command palette are all built from this registry,
so a key added here shows up everywhere, and users remap keys by id (App.set_keymap) without the
help and the palette going out of date.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


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

# Default keys for the actions the App may be given (actions/ registers them by name).
ACTION_KEYS: dict[str, str] = {"deploy": "D", "smoke": "S", "add-namespace": "A", "rollback": "R"}

APP_COMMANDS: tuple[Command, ...] = (
    Command("open-help", "question_mark", "help", "Show every key", "App"),
    Command("filter-rows", "slash", "filter", "Filter rows in every panel", "View"),
    Command("switch-namespace", "n", "switch_namespace", "Switch namespace", "View"),
    Command("zoom-panel", "z", "zoom", "Zoom focused panel", "View"),
    # The brief's migration step by step: where the cluster stands and the next action.
    Command("open-walkthrough", "w", "open_walkthrough", "Migration walkthrough", "View"),
    Command("clear-filter", "escape", "clear_filter", "Clear filter and namespace", "View", show=False),
    Command("close-progress", "x", "close_progress", "Hide the finished action's progress", "Actions",
            show=False),
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


def action_commands(actions: dict[str, str]) -> tuple[Command, ...]:
    """Commands for the actions the App was given: {name: title}."""
    return tuple(
        Command(f"action-{name}", ACTION_KEYS.get(name, ""), f"start_action('{name}')", title, "Actions")
        for name, title in actions.items()
    )


def bindings(commands: tuple[Command, ...]) -> list[Binding]:
    return [
        Binding(c.key, c.action, c.description, show=c.show, id=c.id)
        for c in commands if c.key
    ]


def key_label(key: str) -> str:
    return {"question_mark": "?", "slash": "/", "escape": "esc", "enter": "enter"}.get(key, key)
