"""The Review tab: filters, the sample list, the detail of the sample under the cursor, and the
review line (progress first). It owns opening datasets (first rows at once, the rest of a large
file's index after the first paint, then lint) and every decision; it tells the app which record
is shown with a ``Shown`` message, so the Tokens tab can follow."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Select, Static

from dataforge.jsonio.stream import UNPARSED
from dataforge.review.session import Filter, ReviewSession
from dataforge.review.store import ACCEPTED, REJECTED
from dataforge.tui.panes import choose_first
from dataforge.tui.sample_list import SampleList
from dataforge.tui.screens import AskScreen, EditScreen

ROLE_STYLES = {"system": "magenta", "user": "cyan", "assistant": "green", "tool_call": "yellow",
               "observation": "blue"}
STATUS_CHOICES = ("pending", "accepted", "rejected", "has findings", "edited")


class ReviewPane(Vertical):
    class Shown(Message):
        """The detail pane now shows ``record`` of the current dataset (None: nothing)."""

        def __init__(self, record: int | None) -> None:
            super().__init__()
            self.record = record

    def __init__(self, session: ReviewSession, datasets: list[Path], **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.datasets = datasets
        self.filter = Filter()

    def compose(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield Select([(s, s) for s in STATUS_CHOICES], prompt="any status", id="status")
            yield Input(placeholder="text", id="text")
            yield Input(placeholder="rule code", id="code")
            yield choose_first([(d.name, str(d)) for d in self.datasets], "no dataset", "dataset")
        with Horizontal():
            yield SampleList(id="samples")
            with VerticalScroll(id="detail"):
                yield Static("", id="messages")
                yield Static("", id="provenance")
        yield Static("", id="counts")

    def on_mount(self) -> None:
        if self.datasets:
            self.open_dataset(self.datasets[0])

    @property
    def opened(self):
        return self.session.current

    @property
    def sample_list(self) -> SampleList:
        return self.query_one(SampleList)

    # Opening ------------------------------------------------------------------------------------

    def open_dataset(self, path: Path) -> None:
        from dataforge.errors import DataforgeError

        try:
            opened = self.session.open(path, first_part=True)
        except DataforgeError as exc:
            # One unreadable file must not close the app: say why, and keep the others.
            self.notify(f"{exc.message}" + (f"\n{exc.hint}" if exc.hint else ""), title="cannot open",
                        severity="error", timeout=10)
            return
        self.refresh_list()
        if opened.followed:
            self.lint_in_background(opened)
        else:  # a large file: its first rows first, the rest of its index after that paint
            self.call_after_refresh(self.index_in_background, opened)

    def add_datasets(self, paths: list[Path], show: Path | None = None) -> None:
        """Offer ``paths`` beside the datasets already known; open ``show``."""
        new = [p for p in paths if p not in self.datasets]
        if new:
            self.datasets.extend(new)
            self.query_one("#dataset", Select).set_options([(d.name, str(d)) for d in self.datasets])
        if show is not None:
            self.query_one("#dataset", Select).value = str(show)
            if self.opened is None or self.opened.dataset.path != show:
                self.open_dataset(show)

    @on(Select.Changed, "#dataset")
    def switch_dataset(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL and (self.opened is None or Path(event.value) != self.opened.dataset.path):
            self.open_dataset(Path(event.value))

    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def index_in_background(self, opened) -> None:
        ReviewSession.index_rest(opened)
        self.app.call_from_thread(self._indexed, opened)

    def _indexed(self, opened) -> None:
        ReviewSession.finish_opening(opened)  # decisions re-pointed here, on the thread that decides
        if opened is self.opened:
            self.refresh_list()
        self.lint_in_background(opened)

    def whole(self) -> None:
        """Before an action over every record (bulk decisions, export, Stats, go-to, last):
        the dataset's index complete (at once if the worker has not finished it yet)."""
        opened = self.opened
        if opened is not None and not opened.followed:
            ReviewSession.finish_opening(opened)
            if self.filter.active():
                self.refresh_list()
            else:  # now, not from a worker: the action that asked goes on with every row shown
                self._show_rows(opened, self.session.rows(opened, self.filter))

    @work(thread=True, exclusive=True, group="lint", exit_on_error=False)
    def lint_in_background(self, opened) -> None:
        ReviewSession.lint(opened)
        self.app.call_from_thread(self.refresh_list)

    # The list -----------------------------------------------------------------------------------

    def refresh_list(self) -> None:
        opened = self.opened
        if opened is None:
            self.sample_list.show([], lambda i: ("", ""))
            return
        self.filter_in_background(opened, replace(self.filter))  # a copy: the worker must not see later edits

    @work(thread=True, exclusive=True, group="filter", exit_on_error=False)
    def filter_in_background(self, opened, flt: Filter) -> None:
        rows = self.session.rows(opened, flt)
        self.app.call_from_thread(self._show_rows, opened, rows)

    def _show_rows(self, opened, rows) -> None:
        self.sample_list.show(rows, partial(ReviewSession.label, opened))
        self.update_counts()

    def update_counts(self) -> None:
        opened = self.opened
        if opened is None:
            return
        counts = opened.store.counts(len(opened.dataset))
        shown = len(self.sample_list.rows)
        fmt = opened.dataset.format.name if opened.dataset.format else "unknown format"
        total = len(opened.dataset)
        reviewed = total - counts["pending"]
        # the review progress first: at 80 columns the end of the line is cut; "+" while the
        # index is not complete (the count so far is not the file's)
        more = "" if opened.followed else "+"
        self.query_one("#counts", Static).update(
            f"reviewed {reviewed}/{total}{more} ({100 * reviewed // max(total, 1)}%) · ✔ {counts[ACCEPTED]} accepted · "
            f"✘ {counts[REJECTED]} rejected · {counts['pending']} pending · {shown} shown · "
            f"{opened.dataset.path.name} ({fmt})"
            + (" · indexing…" if not opened.followed else "" if opened.linted else " · linting…"))

    @on(SampleList.Highlighted)
    def show_sample(self, event: SampleList.Highlighted) -> None:
        self.render_detail(event.record)

    # The detail ---------------------------------------------------------------------------------

    def render_detail(self, index: int | None) -> None:
        messages, provenance = self.query_one("#messages", Static), self.query_one("#provenance", Static)
        opened = self.opened
        if opened is None or index is None:
            messages.update("No sample to show. Open a dataset, or generate one from Sources.")
            provenance.update("")
            self.post_message(self.Shown(None))
            return
        value = ReviewSession.value(opened, index)
        state = opened.store.state(index)
        text = Text()
        text.append(f"record {index} · line {opened.dataset.line(index)} · {state.decision}"
                    + (" · edited" if state.edited is not None else "") + "\n\n", style="bold")
        sample = opened.dataset.read(value)
        # the file's lint findings, or, for an edited record, what lint says of the edit
        findings = [(f.code, f.location.path, f.message) for f in opened.findings.get(index, [])] \
            if state.edited is None else [tuple(p) for p in ReviewSession.problems(opened, value)]
        if sample is None:  # its text as it is, then everything lint says of it
            text.append(opened.dataset.text(index).decode("utf-8", "replace") if value is UNPARSED
                        else json.dumps(value, ensure_ascii=False, indent=2) if value is not None else "(unreadable)")
            text.append("\n\n")
            for code, path, message in findings:
                text.append(f"▲ {code} {message}\n", style="bold red")
            if findings:
                text.append("e opens it in the editor\n", style="dim")
        else:
            for m in sample.messages:
                label = m.role if not m.name else f"{m.role} {m.name}"
                text.append(f"{label}{'' if m.trained else ' (not trained)'}\n", style=f"bold {ROLE_STYLES.get(m.role, '')}")
                body = m.content or (json.dumps(m.arguments, ensure_ascii=False) if m.arguments is not None else "")
                text.append(body + "\n")
                for code, path, message in findings:
                    if path == m.path or path.startswith(m.path + "."):
                        text.append(f"  ▲ {code} {message}\n", style="bold red")
                text.append("\n")
            for code, path, message in findings:
                if not any(path == m.path or path.startswith(m.path + ".") for m in sample.messages):
                    text.append(f"▲ {code} {message}\n", style="bold red")
        messages.update(text)
        origin = value.get("provenance") if isinstance(value, dict) else None
        provenance.update(_provenance_text(origin))
        self.post_message(self.Shown(index))

    # Decisions ----------------------------------------------------------------------------------

    def decide(self, decision: str) -> None:
        opened, index = self.opened, self.sample_list.current
        if opened is None or index is None:
            return
        opened.store.decide(index, opened.dataset.sample_id(index), decision)
        sample_list = self.sample_list
        sample_list.refresh()
        self.update_counts()
        sample_list.action_move(1)
        if sample_list.current == index:
            self.render_detail(index)

    def undo(self) -> None:
        opened = self.opened
        if opened is None:
            return
        index = opened.store.undo()
        if index is not None:
            sample_list = self.sample_list
            if index in sample_list.rows:
                sample_list.cursor = list(sample_list.rows).index(index) if not isinstance(sample_list.rows, range) \
                    else index
            sample_list.refresh()
            self.render_detail(sample_list.current)
            self.update_counts()

    def edit(self) -> None:
        opened, index = self.opened, self.sample_list.current
        if opened is None or index is None:
            return
        value = ReviewSession.value(opened, index)
        # a record that is not a JSON object (broken JSON included) is edited as its own text
        text = None if isinstance(value, dict) else opened.dataset.text(index).decode("utf-8", "replace")

        def saved(value: dict | None) -> None:
            if value is not None:
                opened.store.edit(index, opened.dataset.sample_id(index), value)
                self.sample_list.refresh()
                self.render_detail(index)
                self.update_counts()

        self.app.push_screen(EditScreen(value, partial(ReviewSession.problems_of_text, opened), text), saved)

    def decide_shown(self, decision: str) -> None:
        """Accept (A) or reject (R) every record the filters show, as one action: u takes it back."""
        self.whole()
        opened, rows = self.opened, list(self.sample_list.rows)
        if opened is None or not rows:
            return
        opened.store.decide_many(rows, [opened.dataset.sample_id(i) for i in rows], decision)
        self.sample_list.refresh()
        self.update_counts()
        self.render_detail(self.sample_list.current)
        self.notify(f"{decision} {len(rows)} shown sample(s); u undoes it")

    # Moving -------------------------------------------------------------------------------------

    def next_pending(self) -> None:
        opened, sample_list = self.opened, self.sample_list
        if opened is None:
            return
        rows = list(sample_list.rows)
        start = sample_list.cursor
        for step in range(1, len(rows) + 1):
            position = (start + step) % len(rows)
            if opened.store.state(rows[position]).decision == "pending":
                sample_list.cursor = position
                return
        self.notify("nothing pending among the shown samples")

    def last(self) -> None:
        self.whole()
        self.sample_list.action_jump(-1)

    def go_to(self) -> None:
        def go(answer: str | None) -> None:
            if not answer or not answer.strip().isdigit():
                return
            record = int(answer)
            self.whole()
            rows = self.sample_list.rows
            if record in rows:
                self.sample_list.cursor = rows.index(record) if not isinstance(rows, range) else record
            else:
                self.notify(f"record {record} is not among the shown samples", severity="warning")

        self.app.push_screen(AskScreen("Go to record number:"), go)

    # Filters ------------------------------------------------------------------------------------

    def clear_filter(self) -> None:
        self.filter = Filter()
        self.query_one("#status", Select).clear()
        self.query_one("#text", Input).value = ""
        self.query_one("#code", Input).value = ""
        self.refresh_list()

    @on(Input.Submitted, "#text, #code")
    @on(Input.Changed, "#text, #code")
    def text_filter(self, event) -> None:
        self.filter.text = self.query_one("#text", Input).value
        self.filter.code = self.query_one("#code", Input).value.strip()
        self.refresh_list()
        if isinstance(event, Input.Submitted):
            self.sample_list.focus()

    @on(Select.Changed, "#status")
    def status_filter(self, event: Select.Changed) -> None:
        value = None if event.value is Select.NULL else event.value
        self.filter.status = value if value in (ACCEPTED, REJECTED, "pending") else None
        self.filter.findings = value == "has findings"
        self.filter.edited = value == "edited"
        self.refresh_list()


def _provenance_text(origin) -> Text:
    if not origin:
        return Text("")
    text = Text("provenance\n", style="bold")
    for key in ("source", "heading_path", "blocks", "generator", "method", "model", "time"):
        if key in origin:
            value = " > ".join(origin[key]) if key == "heading_path" else origin[key]
            text.append(f"  {key}: {value}\n")
    chunk = _source_chunk(origin)
    if chunk:
        text.append("source chunk\n", style="bold")
        text.append(chunk + "\n", style="dim")
    return text


def _source_chunk(origin: dict) -> str:
    source, blocks = origin.get("source"), origin.get("blocks")
    if not source or not blocks or not Path(source).is_file():
        return ""
    from dataforge.docx_source.chunker import blocks_text
    from dataforge.docx_source.reader import read_blocks

    try:
        picked = [b for b in read_blocks(source) if blocks[0] <= b.index <= blocks[1]]
    except Exception:  # the document may have changed or gone: the sample still shows
        return ""
    return "\n".join(blocks_text(picked))
