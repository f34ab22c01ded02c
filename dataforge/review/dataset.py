"""A dataset file opened for review: records found once, read and parsed only when shown.

JSON Lines are indexed by byte offset (one scan for newlines, ~1 GB/s), so opening a file of
100,000 records costs a fraction of reading them; JSON arrays are cut into records with the
same streaming reader lint uses and kept as bytes.
"""

from __future__ import annotations

import hashlib
import mmap
from array import array
from functools import lru_cache
from pathlib import Path

from dataforge.errors import DataforgeError
from dataforge.formats import Format
from dataforge.formats.base import Problem
from dataforge.formats.choice import FormatChoice
from dataforge.jsonio.layout import is_json_lines, iter_records, open_records
from dataforge.jsonio.parse import parse
from dataforge.jsonio.stream import UNPARSED, StructureError
from dataforge.model import Sample


class Dataset:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise DataforgeError(f"{self.path}: no such file")
        self._texts: list[bytes] | None = None
        self._offsets = array("q")
        self._lines = array("q")
        self._map = None
        if is_json_lines(self.path):
            self._index_lines()
        else:
            self._index_json()
        self._value = lru_cache(maxsize=4096)(self._parse)  # the records on screen, parsed once
        self.format = self._detect()
        self._choice = FormatChoice(self.format)
        self._linter = None

    def __len__(self) -> int:
        return len(self._offsets) - 1 if self._texts is None else len(self._texts)

    def _index_lines(self) -> None:
        with open(self.path, "rb") as f:
            size = f.seek(0, 2)
            if size == 0:
                self._offsets.append(0)
                return
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        data = self._map
        start = 3 if data[:3] == b"\xef\xbb\xbf" else 0
        line = 1
        pos = start
        # One pass over the bytes in C (find), one Python step per record: blank lines are skipped.
        while pos < size:
            end = data.find(b"\n", pos)
            end = size if end == -1 else end
            if data[pos:end].strip():
                self._offsets.append(pos)
                self._lines.append(line)
            pos = end + 1
            line += 1
        self._offsets.append(size)

    def _index_json(self) -> None:
        f, _, foreign = open_records(self.path)
        if foreign:
            raise DataforgeError(f"{self.path}: the file is {foreign}, not UTF-8")
        texts, lines = [], []
        with f:
            try:
                for rec in iter_records(self.path, f):
                    texts.append(rec.text)
                    lines.append(rec.line)
            except StructureError as exc:
                raise DataforgeError(f"{self.path}:{exc.line}:{exc.column}: {exc.message}",
                                     hint="`dataforge lint` shows where the file breaks") from None
        self._texts = texts
        self._lines = array("q", lines)

    def text(self, index: int) -> bytes:
        if self._texts is not None:
            return self._texts[index]
        return self._map[self._offsets[index]:self._offsets[index + 1]].rstrip(b"\r\n")

    def line(self, index: int) -> int:
        return self._lines[index]

    def _parse(self, index: int):
        try:
            return parse(self.text(index))
        except ValueError:
            return UNPARSED

    def value(self, index: int):
        """The parsed record, or UNPARSED when it is not valid JSON."""
        return self._value(index)

    def sample(self, index: int, problems: list[Problem] | None = None) -> Sample | None:
        """The record as a Sample, its format chosen as lint chooses it (the file's, or the
        record's own where they differ); None when it cannot be read."""
        return self._choice.read(self.value(index), problems if problems is not None else [])[1]

    def read(self, value) -> Sample | None:
        """A record's value (the file's, or a reviewer's edit) as a Sample, chosen as lint chooses."""
        return self._choice.read(value, [])[1] if value is not UNPARSED else None

    def linter(self):
        """What lint says about one record of this file (see dataforge.lint.record)."""
        if self._linter is None:
            from dataforge.lint.record import RecordLinter

            self._linter = RecordLinter(self.format, file=str(self.path))
        return self._linter

    def sample_id(self, index: int) -> str:
        """Stable across runs: the record's own text."""
        return hashlib.sha256(self.text(index)).hexdigest()[:16]

    def _detect(self) -> Format | None:
        """The file's format, as lint decides it: from the first record."""
        first = self.value(0) if len(self) else None
        return FormatChoice.for_file(first if first is not UNPARSED else None)[0].format
