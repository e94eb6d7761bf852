"""A DataTable updated by row key: stale rows removed, changed cells updated, new rows added.

Never cleared and refilled: clear() resets the cursor and repaints everything, which at one
snapshot a second makes a table impossible to navigate and costs CPU (Dolphie's lesson).
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.widgets import DataTable

from .format import Tone
from .rows import Cell, Row

# Tones resolve to theme variables at render time, so a theme change recolours every panel.
_TONE_VARIABLES: dict[str, str] = {
    "ok": "success", "warn": "warning", "bad": "error", "busy": "accent", "muted": "foreground-muted",
}


def tone_styles(theme_variables: dict[str, str]) -> dict[str, Style]:
    styles: dict[str, Style] = {}
    for tone, variable in _TONE_VARIABLES.items():
        value = theme_variables.get(variable)
        if value:
            try:
                styles[tone] = Style(color=Color.parse(value).rich_color)
            except Exception:  # noqa: BLE001 - an odd theme value just loses its colour
                continue
    return styles


class KeyedTable(DataTable):
    """DataTable with sync(rows): rows are (key, cells) in the order they should appear."""

    def __init__(self, columns: tuple[tuple[str, str], ...], **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._column_spec = columns
        self._shown: dict[str, tuple[Cell, ...]] = {}    # cells as last synced, per row key
        self._texts: dict[str, tuple[Text, ...]] = {}    # the Text objects the table holds
        self._styles: dict[str, Style] = {}

    def on_mount(self) -> None:
        for key, label in self._column_spec:
            self.add_column(label, key=key)
        self._styles = tone_styles(self.app.theme_variables)

    def restyle(self) -> None:
        """Re-render all cells with the current theme's colours (after a theme change)."""
        self._styles = tone_styles(self.app.theme_variables)
        columns = [key for key, _ in self._column_spec]
        for key, cells in self._shown.items():
            texts = tuple(self._text(c) for c in cells)
            for column, text in zip(columns, texts):
                self.update_cell(key, column, text)
            self._texts[key] = texts

    def _text(self, cell: Cell) -> Text:
        if isinstance(cell, str):
            return Text(cell, end="")
        text, tone = cell
        return Text(text, style=self._styles.get(tone, ""), end="")

    @property
    def row_keys(self) -> list[str]:
        return [row.key.value for row in self.ordered_rows]

    def cursor_key(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def sync(self, rows: list[Row]) -> None:
        wanted = dict(rows)
        cursor_key = self.cursor_key()
        columns = [key for key, _ in self._column_spec]
        for stale in [k for k in self._shown if k not in wanted]:
            self.remove_row(stale)
            del self._shown[stale], self._texts[stale]
        for key, cells in rows:
            before = self._shown.get(key)
            if before == cells:
                continue
            texts = tuple(self._text(c) for c in cells)
            if before is None:
                self.add_row(*texts, key=key)
            else:
                for column, old, new, text in zip(columns, before, cells, texts):
                    if old != new:
                        self.update_cell(key, column, text, update_width=True)
                texts = tuple(t if o != n else kept
                              for o, n, t, kept in zip(before, cells, texts, self._texts[key]))
            self._shown[key] = cells
            self._texts[key] = texts
        order = [key for key, _ in rows]
        if self.row_keys != order:
            self._reorder(order)
        if cursor_key is not None and cursor_key in wanted:
            index = self.get_row_index(cursor_key)
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False)

    def _reorder(self, order: list[str]) -> None:
        # DataTable.sort hands the key function a row's values; the first cell's Text object is
        # unique to its row, so its identity tells which row it is.
        position = {id(self._texts[key][0]): index for index, key in enumerate(order)}
        self.sort(key=lambda values: position.get(id(values[0]), len(position)))
