"""A list of samples that stays fast on 100,000 records: only the rows on screen are drawn."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


class SampleList(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("down,j", "move(1)", "Next", show=False),
        Binding("up,k", "move(-1)", "Previous", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("home", "jump(0)", show=False),
        Binding("end", "jump(-1)", show=False),
    ]
    cursor: reactive[int] = reactive(0)

    class Highlighted(Message):
        def __init__(self, record: int | None) -> None:
            super().__init__()
            self.record = record

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: Sequence[int] = ()
        self.label: Callable[[int], tuple[str, str]] = lambda record: (str(record), "")

    def show(self, rows: Sequence[int], label: Callable[[int], tuple[str, str]]) -> None:
        """Rows are record numbers; label(record) gives (text, style name)."""
        self.rows, self.label = rows, label
        self.virtual_size = Size(self.size.width, len(rows))
        self.cursor = min(self.cursor, max(len(rows) - 1, 0))
        self.refresh()
        self.post_message(self.Highlighted(self.current))

    @property
    def current(self) -> int | None:
        return self.rows[self.cursor] if self.rows else None

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.size.width
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)  # styled: NO_COLOR's monochrome filter needs a style
        text, style_name = self.label(self.rows[index])
        style = Style.parse(style_name) if style_name else Style()
        if index == self.cursor:
            style += Style(reverse=True, bold=self.has_focus)
        return Strip([Segment(text[:width].ljust(width), style)]).crop(0, width)

    def watch_cursor(self, old: int, new: int) -> None:
        self.scroll_to_region_if_needed(new)
        self.refresh()
        self.post_message(self.Highlighted(self.current))

    def scroll_to_region_if_needed(self, row: int) -> None:
        top, height = self.scroll_offset.y, self.size.height
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif height and row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False)

    def action_move(self, step: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + step))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(self.size.height - 1, 1))

    def action_jump(self, where: int) -> None:
        if self.rows:
            self.cursor = where % len(self.rows)

    def on_click(self, event) -> None:
        row = self.scroll_offset.y + event.y
        if 0 <= row < len(self.rows):
            self.cursor = row
