"""The Tokens tab: the shown record's masked tokenization (token, id, label, role, turn, and a
"trained" mark that does not rely on colour), with the template, tokenizer and max length to use.
The masking session it builds is kept for Stats, so both count with the same tokenizer."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Select, Static

from dataforge.review.session import ReviewSession
from dataforge.templates import TEMPLATES


class TokensPane(Vertical):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.masking = None  # the MaskingSession of the chosen options, built at first use
        self.shown: tuple | None = None  # (opened, record) to show

    def compose(self) -> ComposeResult:
        with Horizontal(id="token-options"):
            yield Select([(n, n) for n in (*TEMPLATES, "hf")], prompt="template from the format", id="template")
            yield Input(placeholder="tokenizer folder (empty: built-in Qwen)", id="tokenizer")
            yield Input(placeholder="max length", id="max-len", type="integer")
        yield Static("", id="token-summary")
        yield DataTable(id="token-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        # "trained" says it in a column of its own: colour alone is lost under NO_COLOR and to many eyes
        self.query_one("#token-table", DataTable).add_columns("#", "token", "id", "label", "role", "turn", "trained")

    @on(Select.Changed, "#template")
    @on(Input.Submitted, "#tokenizer, #max-len")
    def token_options(self, event) -> None:
        self.masking = None
        if self.shown is not None:
            self.show(*self.shown)

    def show(self, opened, index: int | None) -> None:
        self.shown = (opened, index)
        if opened is None or index is None:
            return
        self.query_one("#token-summary", Static).update("tokenizing…")
        template = self.query_one("#template", Select).value
        max_len = self.query_one("#max-len", Input).value
        self.tokens_in_background(opened, index, None if template is Select.NULL else template,
                                  self.query_one("#tokenizer", Input).value.strip() or None,
                                  int(max_len) if max_len.strip().isdigit() else None)

    @work(thread=True, exclusive=True, group="tokens", exit_on_error=False)
    def tokens_in_background(self, opened, index, template, tokenizer, max_len) -> None:
        from dataforge.errors import DataforgeError
        from dataforge.masking.encode import EncodeOptions
        from dataforge.masking.session import MaskingSession
        from dataforge.preview_output import summary_lines

        try:
            if self.masking is None:
                fmt = opened.dataset.format.name if opened.dataset.format else None
                self.masking = MaskingSession.create(tokenizer, template, fmt, options=EncodeOptions(max_len=max_len))
            value = ReviewSession.value(opened, index)
            sample = opened.dataset.format.read(value, []) if opened.dataset.format else None
            if sample is None:
                raise DataforgeError("this record cannot be read as a sample")
            encoded, rows, summary = self.masking.preview(sample)
        except DataforgeError as exc:
            self.app.call_from_thread(self.query_one("#token-summary", Static).update, f"✘ {exc.message}")
            return
        header = f"record {index} · template {self.masking.template_name} · tokenizer {self.masking.tokenizer.name}"
        self.app.call_from_thread(self._show_token_rows, header + "\n" + "\n".join(summary_lines(summary)), rows)

    def _show_token_rows(self, summary: str, rows) -> None:
        self.query_one("#token-summary", Static).update(Text(summary))
        table = self.query_one("#token-table", DataTable)
        table.clear()
        for row in rows:
            style = "bold green" if row.trained else "dim"
            table.add_row(str(row.index), Text(row.text, style=style), str(row.token_id), Text(str(row.label), style),
                          row.role, "" if row.message < 0 else str(row.message), "✔" if row.trained else "")
