"""The Stats tab: review status and lint findings at once, then the figures `dataforge stats`
shows (counts by role and turn, lengths, tool-call share, languages) as they are counted, with
the records as they stand (an edited record counts as edited)."""

from __future__ import annotations

from collections import Counter

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from dataforge.review.session import ReviewSession

STATS_SAMPLE = 5000  # records whose token lengths Stats draws, spread evenly over the file


class StatsPane(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static("", id="stats-body")

    def show(self, opened, masking) -> None:
        """Counts for ``opened`` (whose index must be complete), token lengths with ``masking``
        (None: the format's default template and the built-in tokenizer)."""
        if opened is None:
            return
        self.query_one("#stats-body", Static).update("counting…")
        self.stats_in_background(opened, masking)

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def stats_in_background(self, opened, masking) -> None:
        from dataforge.masking.session import MaskingSession
        from dataforge.stats import file_figures

        counts = opened.store.counts(len(opened.dataset))
        # as the records stand: an edited record counts with what lint says of the edit
        edited = set(opened.store.edited())
        codes = Counter(f.code for i, fs in opened.findings.items() if i not in edited for f in fs)
        codes.update(f.code for i in edited for f in ReviewSession.findings(opened, i))
        body = self.query_one("#stats-body", Static)
        # what is known at once is shown at once; the figures (`dataforge stats`'s own) follow
        self.app.call_from_thread(body.update, stats_table(opened, counts, codes, None))
        fmt = opened.dataset.format.name if opened.dataset.format else None
        edits = {i: opened.dataset.read(opened.store.state(i).edited) for i in edited}
        edits = {i: s._replace(meta={"format": fmt or "?"}) if s is not None else None for i, s in edits.items()}
        masking = masking or MaskingSession.create(None, None, fmt)
        figures = file_figures([str(opened.dataset.path)], masking, masking.tokenizer.name, STATS_SAMPLE, edits)
        self.app.call_from_thread(body.update, stats_table(opened, counts, codes, figures))


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
