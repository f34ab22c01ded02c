"""The dataforge app: a thin shell over the core that holds the five tabs' panes (tui/panes/),
the keys, and what passes between the panes.

Each pane draws what the core returns and runs its slow work (indexing, lint, filtering,
tokenizing, generation, counting) in worker threads that only post results. Panes talk to each
other through the app: Review's ``Shown`` feeds Tokens, Sources' ``Generated`` opens the new
dataset in Review, Export's ``Requested`` completes the dataset first. Only the Review tab is
mounted before the first paint; the others are mounted right after it (``Lazy``)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.lazy import Lazy
from textual.widgets import Footer, Header, TabbedContent, TabPane

from dataforge.review.session import ReviewSession
from dataforge.review.store import ACCEPTED, REJECTED
from dataforge.tui.panes.export import ExportPane
from dataforge.tui.panes.review import ReviewPane
from dataforge.tui.panes.sources import SourcesPane
from dataforge.tui.panes.stats import StatsPane
from dataforge.tui.panes.tokens import TokensPane
from dataforge.tui.sample_list import SampleList
from dataforge.tui.screens import AskScreen, HelpScreen

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

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="review"):
            with TabPane("Sources", id="sources"):
                yield Lazy(SourcesPane(self.docs))
            with TabPane("Review", id="review"):
                yield ReviewPane(self.session, self.datasets)
            with TabPane("Tokens", id="tokens"):
                yield Lazy(TokensPane())
            with TabPane("Stats", id="stats"):
                yield Lazy(StatsPane(id="stats-scroll"))
            with TabPane("Export", id="export"):
                yield Lazy(ExportPane())
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#samples").focus()

    def on_unmount(self) -> None:
        self.session.close()

    @property
    def opened(self):
        return self.session.current

    @property
    def review(self) -> ReviewPane:
        return self.query_one(ReviewPane)

    # Between the panes --------------------------------------------------------------------------

    @on(ReviewPane.Shown)
    def _record_shown(self, event: ReviewPane.Shown) -> None:
        if self.query_one(TabbedContent).active == "tokens":
            self.query_one(TokensPane).show(self.opened, event.record)

    @on(SourcesPane.Generated)
    def _generated(self, event: SourcesPane.Generated) -> None:
        self.review.add_datasets([event.path], show=event.path)

    @on(ExportPane.Requested)
    def _export_requested(self) -> None:
        self.action_export()

    @on(TabbedContent.TabActivated)
    def tab_changed(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()  # the footer shows a key only where it acts
        if event.pane.id == "tokens":
            self.query_one(TokensPane).show(self.opened, self.review.sample_list.current)
        elif event.pane.id == "stats" and self.opened is not None:
            self.review.whole()
            self.query_one(StatsPane).show(self.opened, self.query_one(TokensPane).masking)

    # Review keys --------------------------------------------------------------------------------

    def action_accept(self) -> None:
        self.review.decide(ACCEPTED)

    def action_reject(self) -> None:
        self.review.decide(REJECTED)

    def action_undo(self) -> None:
        self.review.undo()

    def action_edit(self) -> None:
        self.review.edit()

    def action_decide_shown(self, decision: str) -> None:
        self.review.decide_shown(decision)

    def action_next_pending(self) -> None:
        self.review.next_pending()

    def action_last(self) -> None:
        self.review.last()

    def action_go_to(self) -> None:
        self.review.go_to()

    def action_filter(self) -> None:
        self.action_tab("review", focus="#text")

    def action_clear_filter(self) -> None:
        self.review.clear_filter()

    def on_key(self, event) -> None:
        """gg: the first record (vi's and less's key), as G is the last."""
        if event.key == "g" and self.query_one(TabbedContent).active == "review" \
                and isinstance(self.focused, SampleList):
            if getattr(self, "_g_pending", False):
                self._g_pending = False
                self.review.sample_list.action_jump(0)
            else:
                self._g_pending = True
            event.stop()
        else:
            self._g_pending = False

    # Other tabs' keys ---------------------------------------------------------------------------

    def action_generate(self, fresh: bool = False) -> None:
        self.action_tab("sources")
        self.query_one(SourcesPane).generate(fresh)

    def action_cancel(self) -> None:
        self.query_one(SourcesPane).cancel()

    def action_export(self) -> None:
        self.action_tab("export")
        if self.opened is not None:
            self.review.whole()
        self.query_one(ExportPane).export(self.opened)

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
            if docs:
                self.query_one(SourcesPane).add_docs(docs)
            if datasets:
                self.review.add_datasets(datasets, show=datasets[0])
                self.action_tab("review")
            elif docs:
                self.action_tab("sources")

        self.push_screen(AskScreen("Open a dataset, a .docx or a folder (path):"), opened)

    # App-wide -----------------------------------------------------------------------------------

    def action_focus_list(self) -> None:
        self.action_tab("review")

    # Where focus goes when a tab is shown: TabbedContent shows the pane that holds the focused
    # widget, so focus must leave the old pane, or the switch is undone.
    TAB_FOCUS = {"sources": "#doc", "review": "#samples", "tokens": "#token-table", "stats": "#stats-scroll",
                 "export": "#export-format"}

    def action_tab(self, name: str, focus: str | None = None) -> None:
        self.screen.set_focus(None)
        self.query_one(TabbedContent).active = name
        target = focus or self.TAB_FOCUS.get(name)
        if target:
            self.call_after_refresh(lambda: self.query_one(target).focus())

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

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"


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
