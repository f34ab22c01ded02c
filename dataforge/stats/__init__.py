"""Dataset statistics: figures (figures.py), the terminal view (terminal.py), reports with plots
(report.py)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dataforge.convert import read_samples
from dataforge.formats import get_format
from dataforge.lint.engine import dataset_files
from dataforge.model import Sample
from dataforge.stats.figures import TOKEN_SAMPLE, Counting, Figures, spread, token_figures


class _Spread:
    """Every ``step``-th item of a stream of unknown length, the step doubling whenever more than
    twice ``limit`` are kept: at the end, between ``limit`` and 2 x ``limit`` evenly spaced items."""

    def __init__(self, limit: int):
        self.limit, self.step, self.seen, self.kept = limit, 1, 0, []

    def offer(self, item) -> None:
        if self.seen % self.step == 0:
            self.kept.append(item)
            if len(self.kept) > 2 * self.limit:
                self.kept = self.kept[::2]
                self.step *= 2
        self.seen += 1

    def items(self) -> list:
        return [self.kept[i] for i in spread(len(self.kept), self.limit)]


def file_figures(paths: Iterable[str], masking=None, tokenizer_name: str = "", token_sample: int = TOKEN_SAMPLE,
                 edits: dict[int, Sample | None] | None = None) -> Figures:
    """Figures of the dataset files under ``paths``; token figures when ``masking`` is given.
    ``edits`` (for one file: the review app's, each with its format in ``meta``) stand in for the
    records they replace."""
    counting = Counting()
    picked = _Spread(token_sample)
    for path in dataset_files(paths):
        conversational: dict[str, bool] = {}
        for index, _, sample, _ in read_samples(Path(path)):
            if edits and index in edits:
                sample = edits[index]
            if sample is None:
                counting.unreadable()
                continue
            name = sample.meta["format"]
            if name not in conversational:
                conversational[name] = get_format(name).conversational
            counting.add(sample, name, conversational[name])
            if masking is not None and conversational[name]:
                picked.offer(sample)
    figures = counting.done()
    if masking is not None:
        figures.tokens = token_figures(picked.items(), masking, tokenizer_name)
    return figures


def sample_figures(samples: list[Sample], masking=None, tokenizer_name: str = "",
                   token_sample: int = TOKEN_SAMPLE) -> Figures:
    """Figures of samples already in memory (the review app's dataset, with its edits)."""
    counting = Counting()
    for sample in samples:
        if sample is None:
            counting.unreadable()
            continue
        name = (sample.meta or {}).get("format", "?")
        counting.add(sample, name, name not in ("text",))
    figures = counting.done()
    if masking is not None:
        conversational = [s for s in samples if s is not None and (s.meta or {}).get("format") != "text"]
        figures.tokens = token_figures([conversational[i] for i in spread(len(conversational), token_sample)],
                                       masking, tokenizer_name)
    return figures
