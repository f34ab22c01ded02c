"""What the review app works on, without any UI: open datasets, lint findings per record,
filters, decisions and edits. The app only calls this and draws what it returns."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from dataforge.formats.base import Problem
from dataforge.lint.findings import Finding
from dataforge.review.dataset import Dataset
from dataforge.review.store import ACCEPTED, PENDING, REJECTED, ReviewStore

MARKS = {ACCEPTED: "✔", REJECTED: "✘", PENDING: "·"}
STYLES = {ACCEPTED: "green", REJECTED: "red", PENDING: ""}


@dataclass
class Filter:
    status: str | None = None  # accepted, rejected, pending
    text: str = ""
    code: str = ""  # a rule code or prefix: records with such a finding
    findings: bool = False  # only records lint has something to say about
    edited: bool = False  # only records the reviewer has edited

    def active(self) -> bool:
        return bool(self.status or self.text or self.code or self.findings or self.edited)


@dataclass
class Opened:
    dataset: Dataset
    store: ReviewStore
    findings: dict[int, list[Finding]] = field(default_factory=dict)  # the file's, by record
    linted: bool = False
    edit_findings: dict[int, tuple[int, list[Finding]]] = field(default_factory=dict)  # of edits, by record
    followed: bool = False  # decisions re-pointed at their records over the whole dataset

    def __post_init__(self) -> None:
        self.followed = self.dataset.complete


class ReviewSession:
    def __init__(self) -> None:
        self.opened: dict[Path, Opened] = {}
        self.current: Opened | None = None

    def open(self, path: str | Path, first_part: bool = False) -> Opened:
        """The dataset at ``path``, opened once. ``first_part``: a large JSON Lines file is indexed
        only in part (the app shows its first rows at once); ``finish_opening`` completes it."""
        path = Path(path)
        if path not in self.opened:
            dataset = Dataset(path, first_part)
            # decisions follow their records only once every record's position is known
            store = ReviewStore(path, dataset.sample_id, len(dataset)) if dataset.complete else ReviewStore(path)
            self.opened[path] = Opened(dataset, store)
        self.current = self.opened[path]
        return self.current

    @staticmethod
    def index_rest(opened: Opened) -> None:
        """The slow half of ``finish_opening``, safe in a worker thread."""
        opened.dataset.index_rest()

    @staticmethod
    def finish_opening(opened: Opened) -> None:
        """Complete a dataset opened in part: its index, then its decisions re-pointed at their
        records. Call the store part from the thread that decides (the app's)."""
        if not opened.followed:
            opened.dataset.index_rest()
            opened.store.follow(opened.dataset.sample_id, len(opened.dataset))
            opened.followed = True

    def close(self) -> None:
        for opened in self.opened.values():
            opened.store.close()

    @staticmethod
    def lint(opened: Opened) -> None:
        """Findings by record (slow on big files: the app runs it in a worker)."""
        # imported here: the app's first screen does not need lint's engine
        from dataforge.lint.engine import Linter
        from dataforge.lint.record import project_options

        findings: dict[int, list[Finding]] = defaultdict(list)
        for f in Linter(project_options(jobs=1)).run([opened.dataset.path]):
            if f.location.record is not None:
                findings[f.location.record].append(f)
        opened.findings, opened.linted = dict(findings), True

    @staticmethod
    def findings(opened: Opened, index: int) -> list:
        """What lint says of a record as it stands: the file's findings, or, once the reviewer has
        edited it, lint's verdict on the edit (kept until the next edit)."""
        state = opened.store.state(index)
        if state.edited is None:
            return opened.findings.get(index, [])
        key = id(state.edited)
        cached = opened.edit_findings.get(index)
        if cached is None or cached[0] != key:
            cached = opened.edit_findings[index] = (key, opened.dataset.linter().check_value(state.edited))
        return cached[1]

    def rows(self, opened: Opened, flt: Filter) -> list[int]:
        n = len(opened.dataset)
        if not flt.active():
            return range(n)  # type: ignore[return-value]  # no list of 100,000 ints for nothing
        needle = flt.text.encode() if flt.text else b""
        code = flt.code.upper()
        out = []
        # the text first: one scan of the file for it, then the other filters on its records only
        for i in opened.dataset.containing(needle) if needle else range(n):
            if flt.status and opened.store.state(i).decision != flt.status:
                continue
            if code and not any(f.code.startswith(code) for f in self.findings(opened, i)):
                continue
            if flt.findings and not self.findings(opened, i):
                continue
            if flt.edited and opened.store.state(i).edited is None:
                continue
            out.append(i)
        return out

    @staticmethod
    def label(opened: Opened, index: int) -> tuple[str, str]:
        state = opened.store.state(index)
        sample = opened.dataset.sample(index)
        preview = ""
        if sample is not None:
            first = next((c for r, c in zip(sample.roles, sample.contents) if r == "user"), "")
            preview = " ".join(first.split())[:120]
        flags = "!" if ReviewSession.findings(opened, index) else " "
        edited = "✎" if state.edited is not None else " "
        return f"{MARKS[state.decision]}{flags}{edited} {index:>6}  {preview}", STYLES[state.decision]

    @staticmethod
    def value(opened: Opened, index: int):
        """The record as it stands: the reviewer's edit if there is one."""
        state = opened.store.state(index)
        return state.edited if state.edited is not None else opened.dataset.value(index)

    @staticmethod
    def problems(opened: Opened, value) -> list[Problem]:
        """What lint says of a record as edited, under the project's settings: the same checker
        lint runs, so a record accepted here lints clean once exported."""
        return [Problem(f.code, f.location.path, f.message)
                for f in opened.dataset.linter().check_value(value)]

    @staticmethod
    def problems_of_text(opened: Opened, text: str) -> list[Finding]:
        """Findings on an edit as typed: strictly parsed (duplicate keys, NaN refused)."""
        return opened.dataset.linter().check_text(text)

    @staticmethod
    def validate(opened: Opened, value) -> list[str]:
        return [f"{p.code} at {p.path}: {p.message}" for p in ReviewSession.problems(opened, value)]
