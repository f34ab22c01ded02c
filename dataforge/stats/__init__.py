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
                 edits: dict[int, Sample | None] | None = None, jobs: int = 0) -> Figures:
    """Figures of the dataset files under ``paths``; token figures when ``masking`` is given.
    ``edits`` (for one file: the review app's, each with its format in ``meta``) stand in for the
    records they replace. Without masking or edits, JSON Lines are counted by ``jobs`` worker
    processes, a line-aligned range each (0: every core from 32 MB of them, as lint)."""
    from dataforge.jsonio.layout import is_json_lines
    from dataforge.lint.engine import auto_jobs, relaxed_gc

    files = dataset_files(paths)
    counting = Counting()
    picked = _Spread(token_sample)
    lines = [f for f in files if is_json_lines(f)]
    jobs = 1 if masking is not None or edits else (jobs or auto_jobs(lines))
    pool = _pool(jobs) if jobs > 1 and lines else None
    try:
        with relaxed_gc():
            for path in files:
                if pool is not None and is_json_lines(path):
                    for part in pool.imap(_count_range, _ranges(path)):
                        counting.merge(part)
                    continue
                _count_file(path, counting, picked if masking is not None else None, edits)
    finally:
        if pool is not None:
            pool.terminate()
    figures = counting.done()
    if masking is not None:
        figures.tokens = token_figures(picked.items(), masking, tokenizer_name)
    return figures


def _count_file(path: Path, counting: Counting, picked: _Spread | None, edits) -> None:
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
        if picked is not None and conversational[name]:
            picked.offer(sample)


def _ranges(path: Path):
    """(path, start, end, format name): the file's line-aligned ranges, with the format its first
    record gives the whole file (as lint chooses)."""
    from dataforge.convert import first_value, open_dataset
    from dataforge.formats.choice import FormatChoice
    from dataforge.jsonio.stream import iter_jsonl
    from dataforge.lint.engine import line_ranges

    with open_dataset(path) as f:
        start = f.tell()
        first = next(iter_jsonl(f), None)
        if first is None:
            return
        fmt = FormatChoice.for_file(first_value(first))[0].format
        f.seek(start)
        for name, a, b in line_ranges(f, str(path), start):
            yield name, a, b, fmt.name if fmt is not None else None


def _count_range(job: tuple[str, int, int, str | None]) -> Counting:
    from dataforge.convert import read_record
    from dataforge.formats.choice import FormatChoice
    from dataforge.jsonio.stream import jsonl_records
    from dataforge.lint.engine import relaxed_gc

    path, start, end, fmt_name = job
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    counting = Counting()
    choice = FormatChoice(get_format(fmt_name) if fmt_name else None)
    conversational: dict[str, bool] = {}
    with relaxed_gc():
        for rec in jsonl_records(data)[0]:
            sample, name = read_record(choice, rec)
            if sample is None:
                counting.unreadable()
                continue
            if name not in conversational:
                conversational[name] = get_format(name).conversational
            counting.add(sample, name, conversational[name])
    return counting


def _pool(jobs: int):
    import multiprocessing

    return multiprocessing.get_context("forkserver").Pool(jobs)


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
