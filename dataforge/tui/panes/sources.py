"""The Sources tab: the .docx documents, their chunks, and generation (endpoint, model, output,
cancel, start over). A finished generation that made records posts ``Generated`` with the new
dataset's path; the app hands it to the Review tab."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Select, Static

from dataforge.tui.panes import choose_first

TARGETS = ("chatglm3", "alpaca", "openai")


class SourcesPane(Horizontal):
    class Generated(Message):
        """A generation wrote records to ``path``."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, docs: list[Path], **kwargs) -> None:
        super().__init__(**kwargs)
        self.docs = docs
        self._cancel: threading.Event | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="source-side"):
            yield Label("Documents")
            yield choose_first([(d.name, str(d)) for d in self.docs], "no .docx", "doc")
            yield Select([(t, t) for t in TARGETS], value="chatglm3", allow_blank=False, id="target")
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

    def on_mount(self) -> None:
        # hidden until a generation reports its size: an empty bar would pulse for nothing
        self.query_one("#progress", ProgressBar).display = False
        self.query_one("#chunks", DataTable).add_columns("#", "heading path", "blocks", "tokens")
        if self.docs:
            self.show_chunks(self.docs[0])

    def add_docs(self, docs: list[Path]) -> None:
        """Offer ``docs`` beside the documents already known, the first new one chosen."""
        new = [d for d in docs if d not in self.docs]
        if new:
            self.docs.extend(new)
            self.query_one("#doc", Select).set_options([(d.name, str(d)) for d in self.docs])
            self.query_one("#doc", Select).value = str(new[0])

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
            self.app.call_from_thread(self.query_one("#gen-status", Static).update, f"✘ {exc.message}")
            return
        self.app.call_from_thread(self._show_chunks, chunks)

    def _show_chunks(self, chunks) -> None:
        table = self.query_one("#chunks", DataTable)
        table.clear()
        for c in chunks:
            table.add_row(str(c.index), c.path_text, f"{c.first_block}-{c.last_block}", str(c.tokens))

    # Generation ---------------------------------------------------------------------------------

    def generate(self, fresh: bool = False) -> None:
        doc = self.query_one("#doc", Select).value
        if doc is Select.NULL:
            self.notify("No .docx to generate from", severity="warning")
            return
        self._cancel = threading.Event()
        self.query_one("#gen-status", Static).update("starting…")
        self.generate_in_background(Path(doc), self.query_one("#target", Select).value,
                                    self.query_one("#base-url", Input).value.strip(),
                                    self.query_one("#model", Input).value.strip(), self._cancel, fresh,
                                    self.query_one("#gen-out", Input).value.strip())

    def cancel(self) -> None:
        """Stops the job itself (not just its display): requests in flight are dropped, the
        journal keeps every finished chunk for the next run."""
        if self._cancel is not None:
            self._cancel.set()

    @on(Button.Pressed, "#generate")
    def _generate_pressed(self) -> None:
        self.generate()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.cancel()

    @on(Button.Pressed, "#start-over")
    def _start_over_pressed(self) -> None:
        self.generate(fresh=True)

    @work(thread=True, exclusive=True, group="generate", exit_on_error=False)
    def generate_in_background(self, doc: Path, target: str, base_url: str, model: str, cancel,
                               fresh: bool = False, output: str = "") -> None:
        from dataforge.errors import DataforgeError
        from dataforge.generate.job import Cancelled, GenerationJob, JobOptions
        from dataforge.generate.llm import Endpoint

        bar, status = self.query_one("#progress", ProgressBar), self.query_one("#gen-status", Static)
        call = self.app.call_from_thread
        done = {"chunks": 0, "records": 0, "failed": 0}

        def progress(name: str, data: dict) -> None:
            if name == "start":
                done["chunks"] = data["resumed"]
                call(bar.update, total=data["chunks"], progress=data["resumed"])
                call(setattr, bar, "display", True)
            elif name == "chunk":
                done["chunks"] += 1
                done["records"] += data["kept"]
                done["failed"] += data["failed"]
                call(bar.update, progress=done["chunks"])
                call(status.update, f"{done['chunks']} chunks · {done['records']} records · {done['failed']} failed")

        out = Path(output).expanduser() if output else doc.with_name(f"{doc.stem}.{target}.jsonl")
        try:
            endpoint = Endpoint.from_settings(base_url or None, model or None, None, 60.0, {})
            report = GenerationJob([doc], out, JobOptions(target=target), endpoint, progress=progress,
                                   cancel=cancel, fresh=fresh).run()
        except Cancelled:
            call(status.update, "cancelled: generate again to resume from the journal")
            return
        except DataforgeError as exc:
            hint = "\npress Start over to generate afresh, replacing it" if "journal" in exc.message \
                or "exists" in exc.message else ""
            call(status.update, f"✘ {exc.message}{hint}")
            return
        rejects = ""
        if report.rejects:
            lines = report.rejects_path.read_text(encoding="utf-8").splitlines()
            rejects = "\n".join(f"✘ {json.loads(x)['reason']} — reply: {str(json.loads(x).get('reply'))[:80]}"
                                for x in lines[:10])
        mark = "✔" if report.records else "✘"
        call(status.update, f"{mark} {report.records} records in {out.name}"
             + (f" ({report.resumed} chunks resumed)" if report.resumed else "")
             + (f", {report.failed} of {report.chunks} chunks made none: generate again to "
                "ask for them again" if report.failed else "")
             + (f"\nfailures:\n{rejects}" if rejects else ""))
        if report.records:  # nothing to review: the dataset under review stays
            self.post_message(self.Generated(out))
