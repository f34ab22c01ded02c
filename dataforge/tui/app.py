"""The dataforge app: a thin shell over the core. Panes draw what the core returns; slow work
(lint, tokenizer loading, generation, filtering) runs in worker threads and only posts results."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from dataforge.formats import FORMATS
from dataforge.jsonio.stream import UNPARSED
from dataforge.review.session import Filter, ReviewSession
from dataforge.review.store import ACCEPTED, REJECTED
from dataforge.templates import TEMPLATES
from dataforge.tui.sample_list import SampleList
from dataforge.tui.screens import AskScreen, ConfirmScreen, EditScreen, HelpScreen

ROLE_STYLES = {"system": "magenta", "user": "cyan", "assistant": "green", "tool_call": "yellow",
               "observation": "blue"}
DATASET_SUFFIXES = (".json", ".jsonl", ".ndjson")


SKIPPED_DIRS = {"node_modules", "__pycache__", "venv", "site-packages"}
MAX_DEPTH = 3  # `dataforge` alone looks in the current folder: not the whole disk beneath it


def discover(paths: list[str]) -> tuple[list[Path], list[Path]]:
    """(.docx sources, dataset files) in the given files and folders (three levels down at most,
    hidden folders, virtual environments and node_modules left out)."""
    docs, datasets = [], []
    for raw in paths or ["."]:
        path = Path(raw)
        for f in sorted(_walk(path, MAX_DEPTH)) if path.is_dir() else [path]:
            if f.name.endswith((".review.jsonl", ".rejects.jsonl", ".journal", ".report.json")):
                continue
            if f.suffix == ".docx":
                docs.append(f)
            elif f.suffix in DATASET_SUFFIXES:
                datasets.append(f)
    return docs, datasets


def _walk(folder: Path, depth: int):
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.is_file():
            yield entry
        elif depth > 1 and entry.is_dir() and not entry.name.startswith(".") and entry.name not in SKIPPED_DIRS:
            yield from _walk(entry, depth - 1)


class Actions(Provider):
    """Every action of the app in the command palette (ctrl+p)."""

    ACTIONS = [("Accept sample", "accept"), ("Reject sample", "reject"), ("Edit sample", "edit"),
               ("Undo", "undo"), ("Filter samples", "filter"), ("Clear filter", "clear_filter"),
               ("Generate records from the selected document", "generate"), ("Cancel generation", "cancel"),
               ("Export accepted samples", "export"), ("Show sources", "tab('sources')"),
               ("Show review", "tab('review')"), ("Show tokens", "tab('tokens')"), ("Show stats", "tab('stats')"),
               ("Show export", "tab('export')"), ("Toggle light/dark theme", "toggle_theme"), ("Help", "help"),
               ("Quit", "quit")]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action in self.ACTIONS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self.app.run_action, action), help=action)


class DataforgeApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "dataforge"
    COMMANDS = App.COMMANDS | {Actions}
    BINDINGS = [
        Binding("a", "accept", "Accept"), Binding("r", "reject", "Reject"), Binding("e", "edit", "Edit"),
        Binding("u", "undo", "Undo"), Binding("slash", "filter", "Filter"), Binding("g", "generate", "Generate"),
        Binding("A", "decide_shown('accepted')", "Accept shown", show=False),
        Binding("R", "decide_shown('rejected')", "Reject shown", show=False),
        Binding("n", "next_pending", "Next pending", show=False), Binding("G", "last", show=False),
        Binding("colon", "go_to", "Go to record", show=False), Binding("o", "open", "Open", show=False),
        Binding("x", "export", "Export"), Binding("question_mark,f1", "help", "Help"),
        Binding("ctrl+t", "toggle_theme", "Theme"), Binding("q", "quit", "Quit"),
        Binding("1", "tab('sources')", show=False), Binding("2", "tab('review')", show=False),
        Binding("3", "tab('tokens')", show=False), Binding("4", "tab('stats')", show=False),
        Binding("5", "tab('export')", show=False), Binding("escape", "focus_list", show=False),
    ]

    def __init__(self, paths: list[str] | None = None) -> None:
        super().__init__()
        self.docs, self.datasets = discover(paths or [])
        self.session = ReviewSession()
        self.filter = Filter()
        self.masking = None
        self._cancel = None

    # Layout -------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="review"):
            with TabPane("Sources", id="sources"):
                with Horizontal():
                    with Vertical(id="source-side"):
                        yield Label("Documents")
                        yield _select([(d.name, str(d)) for d in self.docs], "no .docx", "doc")
                        yield Select([(t, t) for t in ("chatglm3", "alpaca", "openai")], value="chatglm3",
                                     allow_blank=False, id="target")
                        yield Input(placeholder="LLM base URL (empty: embedded, no key)", id="base-url")
                        yield Input(placeholder="model (the key comes from OPENAI_API_KEY)", id="model")
                        yield Input(placeholder="output (empty: DOC.FORMAT.jsonl beside it)", id="gen-out")
                        with Horizontal(classes="buttons"):
                            yield Button("Generate", variant="primary", id="generate")
                            yield Button("Cancel", id="cancel")
                            yield Button("Start over", id="start-over")
                        yield ProgressBar(id="progress", show_eta=False)
                        yield Static("", id="gen-status")
                    yield DataTable(id="chunks", cursor_type="row")
            with TabPane("Review", id="review"):
                with Horizontal(id="filters"):
                    yield Select([(s, s) for s in ("pending", "accepted", "rejected", "has findings", "edited")],
                                 prompt="any status", id="status")
                    yield Input(placeholder="text", id="text")
                    yield Input(placeholder="rule code", id="code")
                    yield _select([(d.name, str(d)) for d in self.datasets], "no dataset", "dataset")
                with Horizontal():
                    yield SampleList(id="samples")
                    with VerticalScroll(id="detail"):
                        yield Static("", id="messages")
                        yield Static("", id="provenance")
                yield Static("", id="counts")
            with TabPane("Tokens", id="tokens"):
                with Horizontal(id="token-options"):
                    yield Select([(n, n) for n in (*TEMPLATES, "hf")], prompt="template from the format",
                                 id="template")
                    yield Input(placeholder="tokenizer folder (empty: built-in Qwen)", id="tokenizer")
                    yield Input(placeholder="max length", id="max-len", type="integer")
                yield Static("", id="token-summary")
                yield DataTable(id="token-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Stats", id="stats"), VerticalScroll(id="stats-scroll"):
                yield Static("", id="stats-body")
            with TabPane("Export", id="export"):
                yield Select(EXPORT_CHOICES, prompt="a file in the dataset's own format", id="export-format")
                yield Input(placeholder="output file (.jsonl or .json), or folder for a trainer", id="export-path")
                yield Button("Export accepted samples", variant="primary", id="export-button")
                yield Static("", id="export-report")
        yield Footer()

    def on_mount(self) -> None:
        # hidden until a generation reports its size: an empty bar would pulse for nothing
        self.query_one("#progress", ProgressBar).display = False
        self.query_one("#chunks", DataTable).add_columns("#", "heading path", "blocks", "tokens")
        # "trained" says it in a column of its own: colour alone is lost under NO_COLOR and to many eyes
        self.query_one("#token-table", DataTable).add_columns("#", "token", "id", "label", "role", "turn", "trained")
        if self.datasets:
            self.open_dataset(self.datasets[0])
        if self.docs:
            self.show_chunks(self.docs[0])
        self.query_one(SampleList).focus()

    def on_unmount(self) -> None:
        self.session.close()

    # Review -------------------------------------------------------------------------------------

    def open_dataset(self, path: Path) -> None:
        from dataforge.errors import DataforgeError

        try:
            opened = self.session.open(path)
        except DataforgeError as exc:
            # One unreadable file must not close the app: say why, and keep the others.
            self.notify(f"{exc.message}" + (f"\n{exc.hint}" if exc.hint else ""), title="cannot open",
                        severity="error", timeout=10)
            return
        self.refresh_list()
        self.lint_in_background(opened)

    @work(thread=True, exclusive=True, group="lint", exit_on_error=False)
    def lint_in_background(self, opened) -> None:
        ReviewSession.lint(opened)
        self.call_from_thread(self.refresh_list)

    @property
    def opened(self):
        return self.session.current

    def refresh_list(self) -> None:
        opened = self.opened
        sample_list = self.query_one(SampleList)
        if opened is None:
            sample_list.show([], lambda i: ("", ""))
            return
        self.filter_in_background(opened, replace(self.filter))  # a copy: the worker must not see later edits

    @work(thread=True, exclusive=True, group="filter", exit_on_error=False)
    def filter_in_background(self, opened, flt: Filter) -> None:
        rows = self.session.rows(opened, flt)
        self.call_from_thread(self._show_rows, opened, rows)

    def _show_rows(self, opened, rows) -> None:
        self.query_one(SampleList).show(rows, partial(ReviewSession.label, opened))
        self.update_counts()

    def update_counts(self) -> None:
        opened = self.opened
        if opened is None:
            return
        counts = opened.store.counts(len(opened.dataset))
        shown = len(self.query_one(SampleList).rows)
        fmt = opened.dataset.format.name if opened.dataset.format else "unknown format"
        total = len(opened.dataset)
        reviewed = total - counts["pending"]
        # the review progress first: at 80 columns the end of the line is cut
        self.query_one("#counts", Static).update(
            f"reviewed {reviewed}/{total} ({100 * reviewed // max(total, 1)}%) · ✔ {counts[ACCEPTED]} accepted · "
            f"✘ {counts[REJECTED]} rejected · {counts['pending']} pending · {shown} shown · "
            f"{opened.dataset.path.name} ({fmt})" + ("" if opened.linted else " · linting…"))

    @on(SampleList.Highlighted)
    def show_sample(self, event: SampleList.Highlighted) -> None:
        self.render_detail(event.record)

    def render_detail(self, index: int | None) -> None:
        messages, provenance = self.query_one("#messages", Static), self.query_one("#provenance", Static)
        opened = self.opened
        if opened is None or index is None:
            messages.update("No sample to show. Open a dataset, or generate one from Sources.")
            provenance.update("")
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
        if sample is None:
            text.append(opened.dataset.text(index).decode("utf-8", "replace") if value is UNPARSED
                        else json.dumps(value, ensure_ascii=False, indent=2) if value is not None else "(unreadable)")
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
        provenance.update(self._provenance_text(origin))
        if self.query_one(TabbedContent).active == "tokens":
            self.show_tokens()

    def _provenance_text(self, origin) -> Text:
        if not origin:
            return Text("")
        text = Text("provenance\n", style="bold")
        for key in ("source", "heading_path", "blocks", "generator", "method", "model", "time"):
            if key in origin:
                value = " > ".join(origin[key]) if key == "heading_path" else origin[key]
                text.append(f"  {key}: {value}\n")
        chunk = self._source_chunk(origin)
        if chunk:
            text.append("source chunk\n", style="bold")
            text.append(chunk + "\n", style="dim")
        return text

    def _source_chunk(self, origin: dict) -> str:
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

    def _decide(self, decision: str) -> None:
        opened, index = self.opened, self.query_one(SampleList).current
        if opened is None or index is None:
            return
        opened.store.decide(index, opened.dataset.sample_id(index), decision)
        sample_list = self.query_one(SampleList)
        sample_list.refresh()
        self.update_counts()
        sample_list.action_move(1)
        if sample_list.current == index:
            self.render_detail(index)

    def action_accept(self) -> None:
        self._decide(ACCEPTED)

    def action_reject(self) -> None:
        self._decide(REJECTED)

    def action_undo(self) -> None:
        opened = self.opened
        if opened is None:
            return
        index = opened.store.undo()
        if index is not None:
            sample_list = self.query_one(SampleList)
            if index in sample_list.rows:
                sample_list.cursor = list(sample_list.rows).index(index) if not isinstance(sample_list.rows, range) \
                    else index
            sample_list.refresh()
            self.render_detail(sample_list.current)
            self.update_counts()

    def action_edit(self) -> None:
        opened, index = self.opened, self.query_one(SampleList).current
        if opened is None or index is None:
            return
        value = ReviewSession.value(opened, index)
        # a record that is not a JSON object (broken JSON included) is edited as its own text
        text = None if isinstance(value, dict) else opened.dataset.text(index).decode("utf-8", "replace")

        def saved(value: dict | None) -> None:
            if value is not None:
                opened.store.edit(index, opened.dataset.sample_id(index), value)
                self.query_one(SampleList).refresh()
                self.render_detail(index)
                self.update_counts()

        self.push_screen(EditScreen(value, partial(ReviewSession.problems_of_text, opened), text), saved)

    def action_filter(self) -> None:
        self.action_tab("review", focus="#text")

    def action_clear_filter(self) -> None:
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
            self.query_one(SampleList).focus()

    @on(Select.Changed, "#status")
    def status_filter(self, event: Select.Changed) -> None:
        value = None if event.value is Select.NULL else event.value
        self.filter.status = value if value in (ACCEPTED, REJECTED, "pending") else None
        self.filter.findings = value == "has findings"
        self.filter.edited = value == "edited"
        self.refresh_list()

    def action_decide_shown(self, decision: str) -> None:
        """Accept (A) or reject (R) every record the filters show, as one action: u takes it back."""
        opened, rows = self.opened, list(self.query_one(SampleList).rows)
        if opened is None or not rows:
            return
        opened.store.decide_many(rows, [opened.dataset.sample_id(i) for i in rows], decision)
        self.query_one(SampleList).refresh()
        self.update_counts()
        self.render_detail(self.query_one(SampleList).current)
        self.notify(f"{decision} {len(rows)} shown sample(s); u undoes it")

    def action_next_pending(self) -> None:
        opened, sample_list = self.opened, self.query_one(SampleList)
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

    def action_last(self) -> None:
        self.query_one(SampleList).action_jump(-1)

    def on_key(self, event) -> None:
        """gg: the first record (vi's and less's key), as G is the last."""
        if event.key == "g" and self.query_one(TabbedContent).active == "review" \
                and isinstance(self.focused, SampleList):
            if getattr(self, "_g_pending", False):
                self._g_pending = False
                self.query_one(SampleList).action_jump(0)
            else:
                self._g_pending = True
            event.stop()
        else:
            self._g_pending = False

    def action_open(self) -> None:
        """o: open a dataset, a .docx or a folder by its path, beside those found at start."""
        def opened(answer: str | None) -> None:
            if not answer or not answer.strip():
                return
            path = Path(answer.strip()).expanduser()
            if not path.exists():
                self.notify(f"{path}: no such file or folder", severity="warning")
                return
            docs, datasets = discover([str(path)])
            if not docs and not datasets:
                self.notify(f"{path}: no dataset or .docx there", severity="warning")
                return
            new_docs = [d for d in docs if d not in self.docs]
            if new_docs:
                self.docs.extend(new_docs)
                self.query_one("#doc", Select).set_options([(d.name, str(d)) for d in self.docs])
                self.query_one("#doc", Select).value = str(new_docs[0])
            new = [d for d in datasets if d not in self.datasets]
            if new:
                self.datasets.extend(new)
                self.query_one("#dataset", Select).set_options([(d.name, str(d)) for d in self.datasets])
            if datasets:
                self.query_one("#dataset", Select).value = str(datasets[0])
                self.action_tab("review")
            elif new_docs:
                self.action_tab("sources")

        self.push_screen(AskScreen("Open a dataset, a .docx or a folder (path):"), opened)

    def action_go_to(self) -> None:
        def go(answer: str | None) -> None:
            if not answer or not answer.strip().isdigit():
                return
            record = int(answer)
            sample_list = self.query_one(SampleList)
            rows = sample_list.rows
            if record in rows:
                sample_list.cursor = rows.index(record) if not isinstance(rows, range) else record
            else:
                self.notify(f"record {record} is not among the shown samples", severity="warning")

        self.push_screen(AskScreen("Go to record number:"), go)

    @on(Select.Changed, "#dataset")
    def switch_dataset(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL and (self.opened is None or Path(event.value) != self.opened.dataset.path):
            self.open_dataset(Path(event.value))

    def action_focus_list(self) -> None:
        self.action_tab("review")

    # Tokens -------------------------------------------------------------------------------------

    @on(TabbedContent.TabActivated)
    def tab_changed(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tokens":
            self.show_tokens()
        elif event.pane.id == "stats":
            self.show_stats()

    @on(Select.Changed, "#template")
    @on(Input.Submitted, "#tokenizer, #max-len")
    def token_options(self, event) -> None:
        self.masking = None
        self.show_tokens()

    def show_tokens(self) -> None:
        opened, index = self.opened, self.query_one(SampleList).current
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
            self.call_from_thread(self.query_one("#token-summary", Static).update, f"✘ {exc.message}")
            return
        header = f"record {index} · template {self.masking.template_name} · tokenizer {self.masking.tokenizer.name}"
        self.call_from_thread(self._show_token_rows, header + "\n" + "\n".join(summary_lines(summary)), rows)

    def _show_token_rows(self, summary: str, rows) -> None:
        self.query_one("#token-summary", Static).update(Text(summary))
        table = self.query_one("#token-table", DataTable)
        table.clear()
        for row in rows:
            style = "bold green" if row.trained else "dim"
            table.add_row(str(row.index), Text(row.text, style=style), str(row.token_id), Text(str(row.label), style),
                          row.role, "" if row.message < 0 else str(row.message), "✔" if row.trained else "")

    # Stats --------------------------------------------------------------------------------------

    def show_stats(self) -> None:
        opened = self.opened
        if opened is None:
            return
        self.query_one("#stats-body", Static).update("counting…")
        self.stats_in_background(opened)

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def stats_in_background(self, opened) -> None:
        from collections import Counter

        from dataforge.masking.session import MaskingSession
        from dataforge.stats import file_figures

        counts = opened.store.counts(len(opened.dataset))
        # as the records stand: an edited record counts with what lint says of the edit
        edited = set(opened.store.edited())
        codes = Counter(f.code for i, fs in opened.findings.items() if i not in edited for f in fs)
        codes.update(f.code for i in edited for f in ReviewSession.findings(opened, i))
        body = self.query_one("#stats-body", Static)
        # what is known at once is shown at once; the figures (`dataforge stats`'s own) follow
        self.call_from_thread(body.update, stats_table(opened, counts, codes, None))
        fmt = opened.dataset.format.name if opened.dataset.format else None
        edits = {i: opened.dataset.read(opened.store.state(i).edited) for i in edited}
        edits = {i: s._replace(meta={"format": fmt or "?"}) if s is not None else None for i, s in edits.items()}
        masking = self.masking or MaskingSession.create(None, None, fmt)
        figures = file_figures([str(opened.dataset.path)], masking, masking.tokenizer.name, STATS_SAMPLE, edits)
        self.call_from_thread(body.update, stats_table(opened, counts, codes, figures))

    # Sources and generation ---------------------------------------------------------------------

    @on(Select.Changed, "#doc")
    def doc_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self.show_chunks(Path(event.value))

    @work(thread=True, exclusive=True, group="chunks", exit_on_error=False)
    def show_chunks(self, path: Path) -> None:
        from dataforge.docx_source.chunker import chunk_blocks
        from dataforge.docx_source.reader import read_blocks
        from dataforge.errors import DataforgeError

        try:
            chunks = chunk_blocks(read_blocks(path), str(path))
        except DataforgeError as exc:
            self.call_from_thread(self.query_one("#gen-status", Static).update, f"✘ {exc.message}")
            return
        self.call_from_thread(self._show_chunks, chunks)

    def _show_chunks(self, chunks) -> None:
        table = self.query_one("#chunks", DataTable)
        table.clear()
        for c in chunks:
            table.add_row(str(c.index), c.path_text, f"{c.first_block}-{c.last_block}", str(c.tokens))

    def action_generate(self, fresh: bool = False) -> None:
        doc = self.query_one("#doc", Select).value
        if doc is Select.NULL:
            self.notify("No .docx to generate from", severity="warning")
            return
        import threading

        self._cancel = threading.Event()
        self.action_tab("sources")
        self.query_one("#gen-status", Static).update("starting…")
        self.generate_in_background(Path(doc), self.query_one("#target", Select).value,
                                    self.query_one("#base-url", Input).value.strip(),
                                    self.query_one("#model", Input).value.strip(), self._cancel, fresh,
                                    self.query_one("#gen-out", Input).value.strip())

    def action_cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    @work(thread=True, exclusive=True, group="generate", exit_on_error=False)
    def generate_in_background(self, doc: Path, target: str, base_url: str, model: str, cancel,
                               fresh: bool = False, output: str = "") -> None:
        from dataforge.errors import DataforgeError
        from dataforge.generate.job import Cancelled, GenerationJob, JobOptions
        from dataforge.generate.llm import Endpoint

        bar, status = self.query_one("#progress", ProgressBar), self.query_one("#gen-status", Static)
        done = {"chunks": 0, "records": 0, "failed": 0}

        def progress(name: str, data: dict) -> None:
            if name == "start":
                done["chunks"] = data["resumed"]
                self.call_from_thread(bar.update, total=data["chunks"], progress=data["resumed"])
                self.call_from_thread(setattr, bar, "display", True)
            elif name == "chunk":
                done["chunks"] += 1
                done["records"] += data["kept"]
                done["failed"] += data["failed"]
                self.call_from_thread(bar.update, progress=done["chunks"])
                self.call_from_thread(status.update, f"{done['chunks']} chunks · {done['records']} records · "
                                                     f"{done['failed']} failed")

        out = Path(output).expanduser() if output else doc.with_name(f"{doc.stem}.{target}.jsonl")
        try:
            endpoint = Endpoint.from_settings(base_url or None, model or None, None, 60.0, {})
            report = GenerationJob([doc], out, JobOptions(target=target), endpoint, progress=progress,
                                   cancel=cancel, fresh=fresh).run()
        except Cancelled:
            self.call_from_thread(status.update, "cancelled: generate again to resume from the journal")
            return
        except DataforgeError as exc:
            hint = "\npress Start over to generate afresh, replacing it" if "journal" in exc.message \
                or "exists" in exc.message else ""
            self.call_from_thread(status.update, f"✘ {exc.message}{hint}")
            return
        rejects = ""
        if report.rejects:
            lines = report.rejects_path.read_text(encoding="utf-8").splitlines()
            rejects = "\n".join(f"✘ {json.loads(x)['reason']} — reply: {str(json.loads(x).get('reply'))[:80]}"
                                for x in lines[:10])
        mark = "✔" if report.records else "✘"
        self.call_from_thread(status.update, f"{mark} {report.records} records in {out.name}"
                              + (f" ({report.resumed} chunks resumed)" if report.resumed else "")
                              + (f", {report.failed} of {report.chunks} chunks made none: generate again to "
                                 "ask for them again" if report.failed else "")
                              + (f"\nfailures:\n{rejects}" if rejects else ""))
        if not report.records:
            return  # nothing to review: the dataset under review stays
        self.call_from_thread(self._generated, out)

    def _generated(self, out: Path) -> None:
        if out not in self.datasets:
            self.datasets.append(out)
            self.query_one("#dataset", Select).set_options([(d.name, str(d)) for d in self.datasets])
        self.query_one("#dataset", Select).value = str(out)
        self.open_dataset(out)

    # Export -------------------------------------------------------------------------------------

    def action_export(self) -> None:
        from dataforge.collect import Refused
        from dataforge.errors import DataforgeError
        from dataforge.review.export import export_accepted

        self.action_tab("export")
        opened = self.opened
        report_box = self.query_one("#export-report", Static)
        if opened is None or opened.dataset.format is None:
            report_box.update("✘ no dataset to export")
            return
        target = self.query_one("#export-format", Select).value
        target = opened.dataset.format.name if target is Select.NULL else target
        trainer = target.startswith(TRAINER_PREFIX)
        stem = opened.dataset.path.stem
        path = self.query_one("#export-path", Input).value.strip() or str(opened.dataset.path.with_name(
            f"{stem}.{target[len(TRAINER_PREFIX):]}" if trainer else f"{stem}.accepted.{target}.jsonl"))

        def write(confirmed: bool | None = True) -> None:
            if not confirmed:
                report_box.update("not exported: the files were left as they were")
                return
            try:
                if trainer:
                    from dataforge.review.export import export_accepted_to

                    result = export_accepted_to(opened, target[len(TRAINER_PREFIX):], path, force=True)
                    report_box.update(Text(export_summary(result)))
                    self.notify(f"exported {result.written} samples to {path}")
                    return
                report = export_accepted(opened.dataset, opened.store, target, path)
            except Refused as exc:
                report_box.update(Text("✘ " + exc.message + "\n" + "\n".join(
                    f"  record {f.location.record}: {f.code} {f.message}" for f in exc.findings[:10])))
                return
            except DataforgeError as exc:
                report_box.update(f"✘ {exc.message}")
                return
            report_box.update(Text(json.dumps(report, ensure_ascii=False, indent=2)))
            self.notify(f"exported {report['written']} samples to {path}")

        target_path = Path(path)
        if trainer and target_path.is_dir() and any(target_path.iterdir()):
            self.push_screen(ConfirmScreen(f"{path} holds files. Replace the ones this export writes?"), write)
        elif not trainer and target_path.is_file():
            self.push_screen(ConfirmScreen(f"{path} exists. Replace it with the accepted samples?"), write)
        else:
            write()

    @on(Button.Pressed)
    def button(self, event: Button.Pressed) -> None:
        actions = {"generate": self.action_generate, "cancel": self.action_cancel, "export-button": self.action_export,
                   "start-over": lambda: self.action_generate(fresh=True)}
        if event.button.id in actions:
            actions[event.button.id]()

    # App-wide -----------------------------------------------------------------------------------

    # Where focus goes when a tab is shown: TabbedContent shows the pane that holds the focused
    # widget, so focus must leave the old pane, or the switch is undone.
    TAB_FOCUS = {"sources": "#doc", "review": "#samples", "tokens": "#token-table", "stats": "#stats-scroll",
                 "export": "#export-format"}

    def action_tab(self, name: str, focus: str | None = None) -> None:
        self.screen.set_focus(None)
        self.query_one(TabbedContent).active = name
        target = focus or self.TAB_FOCUS.get(name)
        if target:
            self.call_after_refresh(self.query_one(target).focus)

    # Keys that act on one tab's content act only there: `a` on the Sources tab accepts nothing,
    # `g` does not regenerate from the Review tab, `x` writes nothing from elsewhere. The footer
    # shows a key only where it acts.
    TAB_ACTIONS = {"accept": "review", "reject": "review", "edit": "review", "undo": "review",
                   "decide_shown": "review", "next_pending": "review", "last": "review", "go_to": "review",
                   "generate": "sources", "export": "export"}

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        tab = self.TAB_ACTIONS.get(action)
        if tab is None or not self.is_mounted:
            return True
        try:
            return self.query_one(TabbedContent).active == tab
        except Exception:  # noqa: BLE001 - before the tabs exist (start-up), nothing is scoped yet
            return True

    @on(TabbedContent.TabActivated)
    def _keys_follow_the_tab(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"


def _select(options: list[tuple[str, str]], prompt: str, id: str) -> Select:
    """The first option chosen; an empty Select when there is none."""
    if options:
        return Select(options, prompt=prompt, id=id, allow_blank=False, value=options[0][1])
    return Select(options, prompt=prompt, id=id)


TRAINER_PREFIX = "to:"
# trainers first (a folder each, as `dataforge export` writes), then a plain file in any format
EXPORT_CHOICES = [("LLaMA-Factory folder", "to:llamafactory"), ("Hugging Face datasets folder", "to:hf"),
                  ("OpenAI fine-tuning files", "to:openai"), ("ChatGLM3 demo, multi-turn", "to:chatglm3"),
                  ("ChatGLM3 demo, input-output", "to:chatglm3-io")] + [(f"file: {f}", f) for f in FORMATS]


def export_summary(result) -> str:
    lines = [f"wrote {o.records:,} {o.split} sample(s) to {o.file}" for o in result.outputs if o.records]
    if result.skipped:
        lines.append(f"{len(result.skipped):,} left out (the manifest says why)")
    lines += [f"lost in {n:,}: {message}" for message, n in result.lost_counts.most_common(5)]
    lines.append(f"manifest: {result.manifest}")
    if result.config:
        lines += ["", "for the trainer's config:", *(f"  {line}" for line in result.config)]
    return "\n".join(lines)


STATS_SAMPLE = 5000  # records whose token lengths Stats draws, spread evenly over the file


def stats_table(opened, counts: dict, codes, figures) -> Table:
    """Review status and lint findings, then the figures `dataforge stats` shows (None: not yet)."""
    from dataforge.stats.terminal import figures_table, new_grid

    grid = new_grid()
    grid.add_row("status", Text(" · ".join(f"{k} {v}" for k, v in counts.items())))
    fmt = opened.dataset.format.name if opened.dataset.format else "unknown"
    grid.add_row("format", Text(f"{fmt}: {len(opened.dataset)} samples"))
    findings = ", ".join(f"{code} {n}" for code, n in codes.most_common()) or "none"
    grid.add_row("findings", Text(findings if opened.linted else "linting…"))
    if figures is None:
        grid.add_row("figures", Text("counting…"))
        return grid
    return figures_table(figures, histograms=True, grid=grid)


def run(paths: list[str], headless: bool = False) -> int:
    """Run the app; its exit status: 1 when it stopped on an error, which Textual has printed and
    which is also written, with its traceback, to tui-errors.log in dataforge's cache folder."""
    app = DataforgeApp(paths)
    app.run(headless=headless)
    error = getattr(app, "_exception", None)
    if error is not None:
        import sys
        import traceback
        from datetime import datetime, timezone

        from dataforge.masking.tokenizer import cache_dir

        log = cache_dir() / "tui-errors.log"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"--- {datetime.now(timezone.utc).isoformat(timespec='seconds')} dataforge tui {paths}\n")
                f.write("".join(traceback.format_exception(error)))
            print(f"dataforge: the review app stopped on an error; the details are in {log}", file=sys.stderr)
        except OSError:
            pass
        return app.return_code or 1
    return app.return_code or 0
