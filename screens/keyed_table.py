"""A DataTable updated by row key: stale rows removed, changed cells updated, new rows added.

Never cleared and refilled: clear() resets the cursor and repaints everything, which at one
snapshot a second makes a table impossible to navigate and costs CPU (Dolphie's lesson).
"""

from __future__ import annotations

from collections import Counter

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.geometry import Size
from textual.reactive import Reactive
from textual._two_way_dict import TwoWayDict
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey

from .format import Tone
from .rows import Cell, Row, cell_text

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


# Room a flexible column (messages, descriptions) keeps before it is dropped, and the most any
# other column takes before its text is cut with an ellipsis.
FLEX_MIN = 12
DEFAULT_CAP = 48
CELL_PADDING = 2   # DataTable pads each cell by one on either side
SCROLLBAR = 2      # room kept for the vertical scrollbar, so no horizontal one appears


def truncate(text: Text, width: int) -> Text:
    if text.cell_len <= width:
        return text
    cut = text.copy()
    cut.truncate(width, overflow="ellipsis")
    return cut


def choose_columns(priority: tuple[str, ...], natural: dict[str, int], flexible: frozenset[str],
                   width: int) -> tuple[tuple[str, int], ...]:
    """Which columns fit in ``width`` and how wide each is: columns in priority order while they
    fit at their natural width (stopping at the first that does not) (flexible ones at FLEX_MIN at least), then what is left widens the
    flexible ones up to their natural width. Returned in priority order; the caller lays them
    out in the table's own order."""
    chosen: dict[str, int] = {}
    used = 0
    for key in priority:
        need = min(natural[key], FLEX_MIN) if key in flexible else natural[key]
        if used + need + CELL_PADDING > width:
            break  # strictly by priority: a less important column never shows in place of this one
        chosen[key] = need
        used += need + CELL_PADDING
    for key in priority:
        if key in flexible and key in chosen:
            extra = min(natural[key] - chosen[key], width - used)
            if extra > 0:
                chosen[key] += extra
                used += extra
    if not chosen and priority:  # narrower than one column: show the first, cut
        chosen[priority[0]] = max(1, width - CELL_PADDING)
    return tuple(chosen.items())


class KeyedTable(DataTable):
    """DataTable with sync(rows): rows are (key, cells) in the order they should appear.

    The columns shown are chosen for the table's width by priority (``priority``: most important
    first), so a narrow panel keeps its state and reason and drops descriptions rather than
    hiding them behind a horizontal scroll. Texts longer than their column end in an ellipsis; the
    detail view (enter) shows them in full."""

    # The table's height comes from the panel (1fr), never from its rows: a new row count needs
    # no layout of the screen, only new scrollbar extents. Textual lays out the whole screen on
    # every virtual-size change (Widget.virtual_size is a layout reactive), which under churn at
    # 5,000 pods was a 50-200 ms pass per snapshot (measured). A scrollbar coming or going does
    # change the gutter, and then a layout follows (watch_virtual_size).
    virtual_size = Reactive(Size(0, 0), layout=False)

    def __init__(self, columns: tuple[tuple[str, str], ...], *, priority: tuple[str, ...] = (),
                 flexible: frozenset[str] = frozenset(), caps: dict[str, int] | None = None, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._column_spec = columns
        self._labels = dict(columns)
        self._priority = tuple(priority) or tuple(key for key, _ in columns)
        self._priority += tuple(key for key, _ in columns if key not in self._priority)
        self._flexible = flexible
        self._caps = caps or {}
        self._layout: tuple[tuple[str, int], ...] = ()  # (column key, width) shown, in table order
        self._order: list[str] = []                      # row keys in the order last synced
        self._shown: dict[str, tuple[Cell, ...]] = {}    # cells as last synced (every column), per row key
        self._texts: dict[str, tuple[Text, ...]] = {}    # the Text objects the table holds (shown columns)
        self._styles: dict[str, Style] = {}
        # Per column, how many rows have a text of each width: a column's natural width is the
        # largest with a count, kept up to date per changed row (measuring every cell of 5,000
        # rows on every snapshot was most of a sync).
        self._widths: dict[str, Counter[int]] = {key: Counter() for key, _ in columns}
        self._table_order: list[str] = []  # row keys in the DataTable's own order
        # Per column, the widest natural width seen at this table width: a column does not
        # narrow again while the table keeps its size, so a churning table's columns stay put
        # (seen: Name 37 -> 33 -> 37 and Status 32 -> 12 -> 32 as long-named pods came and went).
        self._floor: dict[str, int] = {}
        self._floor_width = 0
        # A feed (events): while the cursor sits on the top row, or the table is not focused, the
        # newest row stays on top in view. Following the cursor's row instead scrolls the newest
        # rows out of view as they arrive above it (seen: the top row 40 minutes old).
        self.follow_top = False
        self._cells_changed = False  # cells written by _put_cell, not yet refreshed

    def watch_virtual_size(self, size: Size) -> None:
        shown = (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
        self._scroll_update(size)  # scrollbar extents and the scroll offset's bounds
        if (self.show_vertical_scrollbar, self.show_horizontal_scrollbar) != shown:
            self.refresh(layout=True)

    def on_mount(self) -> None:
        self._styles = tone_styles(self.app.theme_variables)
        self._rebuild(self._choose_layout())

    def on_resize(self) -> None:
        self.relayout()

    @property
    def shown_columns(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self._layout)

    def _longest(self, key: str) -> int:
        return max((w for w, n in self._widths[key].items() if n > 0), default=0)

    def _choose_layout(self) -> tuple[tuple[str, int], ...]:
        width = self.size.width
        if width != self._floor_width:
            self._floor, self._floor_width = {}, width
        natural: dict[str, int] = {}
        for key, label in self._column_spec:
            natural[key] = max(len(label), min(self._longest(key), self._caps.get(key, DEFAULT_CAP)),
                               self._floor.get(key, 0))
            self._floor[key] = natural[key]
        if width <= 0:  # not laid out yet: everything at its natural width
            chosen = tuple((key, natural[key]) for key in self._priority)
        else:
            chosen = choose_columns(self._priority, natural, self._flexible, width - SCROLLBAR)
        # A column shown whole is cut at its cap, not at today's longest text: new content that
        # still fits then changes nothing, and the table is rebuilt only when what fits changes.
        widths = {key: self._caps.get(key, DEFAULT_CAP) if width >= natural[key] else width
                  for key, width in chosen}
        return tuple((key, widths[key]) for key, _ in self._column_spec if key in widths)

    def relayout(self) -> None:
        layout = self._choose_layout()
        if layout != self._layout:
            self._apply_layout(layout)

    def _apply_layout(self, layout: tuple[tuple[str, int], ...]) -> None:
        """The same columns at other widths are re-cut in place; another set of columns (the
        table was resized) is a rebuild."""
        if [key for key, _ in layout] == [key for key, _ in self._layout]:
            self._resize_columns(layout)
        else:
            self._rebuild(layout)

    def _resize_columns(self, layout: tuple[tuple[str, int], ...]) -> None:
        """New widths for the columns shown: only cells cut at the old or the new width change.
        Rebuilding instead re-adds and re-measures every row (0.6 s at 5,000 pods, measured),
        and a churning table's widths change every few seconds."""
        before = dict(self._layout)
        self._layout = layout
        spec_index = {key: i for i, (key, _) in enumerate(self._column_spec)}
        for position, (column, width) in enumerate(layout):
            if width == before[column]:
                continue
            narrower = min(width, before[column])
            for key, cells in self._shown.items():
                full = self._text(cells[spec_index[column]])
                if full.cell_len > narrower:  # cut at one of the two widths: its text changes
                    text = truncate(full, width)
                    self._put_cell(key, column, text)
                    texts = list(self._texts[key])
                    texts[position] = text
                    self._texts[key] = tuple(texts)
            held = self.columns.get(column)  # type: ignore[call-overload]
            if held is not None:
                held.content_width = max(cell_len(self._labels[column]), min(self._longest(column), width))
        self._cells_put()
        self._clear_caches()  # rendered lines hold the old widths (Textual 8.2.8, pinned)
        self._require_update_dimensions = True
        self.refresh()

    def _rebuild(self, layout: tuple[tuple[str, int], ...]) -> None:
        """New set of columns (or widths): rebuilt once, the cursor kept on its row."""
        cursor_key = self.cursor_key()
        self.clear(columns=True)
        self._layout = layout
        for key, _ in layout:
            self.add_column(self._labels[key], key=key)
        for key in self._order:
            texts = self._texts_for(self._shown[key])
            self.add_row(*texts, key=key)
            self._texts[key] = texts
        self._table_order = list(self._order)
        if cursor_key is not None and cursor_key in self._shown:
            self.move_cursor(row=self.get_row_index(cursor_key), animate=False)

    def _texts_for(self, cells: tuple[Cell, ...]) -> tuple[Text, ...]:
        index = {key: i for i, (key, _) in enumerate(self._column_spec)}
        return tuple(truncate(self._text(cells[index[key]]), width) for key, width in self._layout)

    def restyle(self) -> None:
        """Re-render all cells with the current theme's colours (after a theme change)."""
        self._styles = tone_styles(self.app.theme_variables)
        for key, cells in self._shown.items():
            texts = self._texts_for(cells)
            for (column, _), text in zip(self._layout, texts):
                self._put_cell(key, column, text)
            self._texts[key] = texts
        self._cells_put()

    def _text(self, cell: Cell) -> Text:
        if isinstance(cell, str):
            return Text(cell, end="")
        text, tone = cell
        return Text(text, style=self._styles.get(tone, ""), end="")

    def full_text(self, row_key: str, column: str) -> str:
        """A cell's whole text, shown or not (a narrow table cuts or drops it on screen)."""
        index = [key for key, _ in self._column_spec].index(column)
        return cell_text(self._shown[row_key][index])

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
        keep_top = self.follow_top and (self.cursor_row <= 0 or not self.has_focus)
        stale = [k for k in self._shown if k not in wanted]
        for key in stale:
            self._count_widths(self._shown.pop(key), -1)
            del self._texts[key]
        if stale:
            self._drop_rows(stale)
        index = {key: i for i, (key, _) in enumerate(self._column_spec)}
        widened = False
        for key, cells in wanted.items():
            before = self._shown.get(key)
            if before is cells or before == cells:  # the same row object: panels reuse unchanged rows
                continue
            if before is not None:
                self._count_widths(before, -1)
            self._count_widths(cells, +1)
            texts = self._texts_for(cells)
            if before is None:
                self.add_row(*texts, key=key)
                self._table_order.append(key)
            else:
                kept = self._texts[key]
                changed = [before[index[column]] != cells[index[column]] for column, _ in self._layout]
                for (column, _), differs, text in zip(self._layout, changed, texts):
                    if differs:
                        # Never update_width=True: when a cell queued for measuring ends up
                        # narrower than its column, the DataTable re-measures every cell of the
                        # column (5,000 at a large cluster: the loop stalled for seconds, seen
                        # under churn). A wider text widens its column here; a column shrinks at
                        # the next rebuild.
                        self._put_cell(key, column, text)
                        held = self.columns.get(column)  # type: ignore[call-overload]
                        if held is not None and text.cell_len > held.content_width:
                            held.content_width = text.cell_len
                            widened = True
                texts = tuple(t if differs else k for differs, t, k in zip(changed, texts, kept))
            self._shown[key] = cells
            self._texts[key] = texts
        self._order = list(wanted)
        self._cells_put()
        if widened:  # the virtual size follows the new widths at the next idle (Textual 8.2.8, pinned)
            self._require_update_dimensions = True
        layout = self._choose_layout()
        if layout != self._layout:  # new content changed what fits
            self._apply_layout(layout)
        if self._table_order != self._order:
            self._reorder(self._order)
        if keep_top or (self.follow_top and cursor_key not in wanted):
            if self.row_count and (self.cursor_row != 0 or self.scroll_y):
                self.move_cursor(row=0, animate=False)
                self.scroll_home(animate=False)
        elif cursor_key is not None and cursor_key in wanted:
            index_now = self.get_row_index(cursor_key)
            if index_now != self.cursor_row:
                self.move_cursor(row=index_now, animate=False)

    def _put_cell(self, key: str, column: str, text: Text) -> None:
        """update_cell without its per-cell refresh: a minute rolling over changes the age of
        thousands of nodes at once, and 5,000 update_cell calls stalled the loop for 200 ms
        (measured). One refresh follows in _cells_put (DataTable internals, Textual 8.2.8 pinned)."""
        self._data[key][column] = text  # type: ignore[index]  # RowKey/ColumnKey hash as their str
        self._cells_changed = True

    def _cells_put(self) -> None:
        if self._cells_changed:
            self._cells_changed = False
            self._update_count += 1  # the render caches are keyed by it
            self.refresh()

    def _count_widths(self, cells: tuple[Cell, ...], delta: int) -> None:
        for (key, _), cell in zip(self._column_spec, cells):
            self._widths[key][cell_len(cell_text(cell))] += delta

    def _drop_rows(self, keys: list[str]) -> None:
        """DataTable.remove_row for many rows at once. remove_row re-indexes every row that
        remains, and asks for a layout of the screen, per row removed: under churn at 5,000
        pods that was 36 ms a row (measured). Here the index is rebuilt once (DataTable
        internals, Textual 8.2.8 pinned)."""
        gone = set(keys)
        for key in keys:
            row_key = self.rows[key].key  # type: ignore[index]
            for column_key in self._data[row_key]:
                self._updated_cells.discard(CellKey(row_key, column_key))
            del self.rows[row_key]
            del self._data[row_key]
            self._new_rows.discard(row_key)
        self._table_order = [k for k in self._table_order if k not in gone]
        self._place_rows()
        self.cursor_coordinate = self.cursor_coordinate  # clamped to the rows left
        self.hover_coordinate = self.hover_coordinate
        self._require_update_dimensions = True
        self.check_idle()

    def _reorder(self, order: list[str]) -> None:
        """Rows in ``order`` (what DataTable.sort does, without comparing rows: the order is known)."""
        self._table_order = list(order)
        self._place_rows()

    def _place_rows(self) -> None:
        self._row_locations = TwoWayDict({self.rows[key].key: index  # type: ignore[index]
                                          for index, key in enumerate(self._table_order)})
        self._update_count += 1
        self.refresh()
