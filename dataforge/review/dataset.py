"""A dataset file opened for review: records found once, read and parsed only when shown.

JSON Lines are indexed by byte offset (a scan for newlines, vectorised: about 1 GB/s), so
opening a file of 100,000 records costs a fraction of reading them. Opened with ``first_part``,
only the first few megabytes are indexed at once: the app shows the first rows of a 1.4 GB file
without waiting, and ``index_rest`` (in a worker) finishes the index and swaps it in whole, so a
reader on another thread sees either the first part or all of it. JSON arrays are cut into
records with the same streaming reader lint uses and kept as bytes.
"""

from __future__ import annotations

import hashlib
import mmap
import threading
from array import array
from bisect import bisect_right
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

FIRST_PART = 4 << 20  # bytes of JSON Lines indexed before the first rows are shown
_BLANK_START = b" \t\r\n"  # a line starting with one of these may be blank: checked one by one
BLOCK = 64 << 20  # bytes scanned for newlines at a time


class Dataset:
    def __init__(self, path: str | Path, first_part: bool = False):
        """``first_part``: index only the first FIRST_PART bytes of a JSON Lines file now (see
        ``complete`` and ``index_rest``)."""
        self.path = Path(path)
        if not self.path.is_file():
            raise DataforgeError(f"{self.path}: no such file")
        self._texts: list[bytes] | None = None
        self._offsets = array("q")
        self._lines = array("q")
        self._map = None
        self._size = 0
        self._indexing = threading.Lock()
        self.complete = True
        if is_json_lines(self.path):
            self._index_lines(FIRST_PART if first_part else None)
        else:
            self._index_json()
        self._value = lru_cache(maxsize=4096)(self._parse)  # the records on screen, parsed once
        self.format = self._detect()
        self._choice = FormatChoice(self.format)
        self._linter = None

    def __len__(self) -> int:
        return len(self._offsets) - 1 if self._texts is None else len(self._texts)

    def _index_lines(self, limit: int | None) -> None:
        with open(self.path, "rb") as f:
            self._size = size = f.seek(0, 2)
            if size == 0:
                self._offsets.append(0)
                return
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        start = 3 if self._map[:3] == b"\xef\xbb\xbf" else 0
        end = size
        if limit is not None and size - start > limit:
            cut = self._map.rfind(b"\n", start, start + limit)
            if cut != -1:
                end, self.complete = cut + 1, False
        offsets, lines = _line_index(self._map, start, end, 1)
        offsets.append(end)  # the end of the last record indexed
        self._offsets, self._lines = offsets, lines

    def index_rest(self) -> None:
        """Index what ``first_part`` left out (safe to call from a worker thread, and more than
        once: the second call waits for the first and returns)."""
        with self._indexing:
            if self.complete:
                return
            offsets, lines = array("q", self._offsets), array("q", self._lines)
            done = offsets.pop()  # the first part's end, just after a newline: where the rest starts
            more, more_lines = _line_index(self._map, done, self._size, _count_lines(self._map, done) + 1)
            offsets.extend(more)
            lines.extend(more_lines)
            offsets.append(self._size)
            # one attribute at a time, lines first: a reader never sees offsets beyond lines
            self._lines = lines
            self._offsets = offsets
            self.complete = True

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
        start, stop = self._offsets[index], self._offsets[index + 1]
        end = self._map.find(b"\n", start, stop)  # the record's own line, not blank lines after it
        return self._map[start:stop if end == -1 else end].rstrip(b"\r")

    def containing(self, needle: bytes) -> list[int]:
        """The records whose text holds ``needle``, in order. The file is searched in C
        (``mmap.find``), and only a record with a hit is looked at: a filter for a rare string
        over a million records is a scan of the bytes, not a million Python steps."""
        if self._texts is not None:
            return [i for i, text in enumerate(self._texts) if needle in text]
        offsets, n = self._offsets, len(self._offsets) - 1
        if not needle or n <= 0:
            return list(range(max(n, 0)))
        out: list[int] = []
        pos, end = offsets[0], offsets[n]
        while True:
            hit = self._map.find(needle, pos, end)
            if hit == -1:
                return out
            index = bisect_right(offsets, hit) - 1
            if needle in self.text(index):  # not in the blank lines or line break after it
                out.append(index)
                pos = offsets[index + 1]
            else:
                pos = hit + 1

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


def _line_index(data, start: int, end: int, first_line: int) -> tuple[array, array]:
    """(offsets, line numbers) of the non-blank lines in ``data[start:end]`` (``start`` begins a
    line, numbered ``first_line``). Newlines are found by numpy, a block at a time (the scan
    releases the GIL: the app stays responsive while a worker indexes); only lines that start
    with whitespace are looked at one by one, to tell blank lines from records."""
    import numpy as np

    blank_start = np.frombuffer(_BLANK_START, np.uint8)
    offsets, lines = array("q"), array("q")
    line, pos = first_line, start
    while pos < end:
        stop = min(pos + BLOCK, end)
        newlines = np.flatnonzero(np.frombuffer(data, np.uint8, stop - pos, pos) == 10) + pos
        if stop < end:  # a block ends after its last newline (or, for a longer line, after that line's)
            if len(newlines):
                stop = int(newlines[-1]) + 1
            else:
                found = data.find(b"\n", stop, end)
                stop = end if found == -1 else found + 1
                newlines = np.array([found] if found != -1 else [], np.int64)
        starts = np.concatenate(([pos], newlines + 1))
        ends = np.concatenate((newlines, [stop]))
        if starts[-1] >= stop:  # the block ends with a newline: no line starts after it
            starts, ends = starts[:-1], ends[:-1]
        keep = ends > starts
        firsts = np.frombuffer(data, np.uint8, stop - pos, pos)[np.minimum(starts, stop - 1) - pos]
        for i in np.flatnonzero(keep & np.isin(firsts, blank_start)):
            keep[i] = bool(data[int(starts[i]):int(ends[i])].strip())
        offsets.frombytes(starts[keep].astype(np.int64).tobytes())
        lines.frombytes((np.flatnonzero(keep) + line).astype(np.int64).tobytes())
        line += len(starts)
        pos = stop
    return offsets, lines


def _count_lines(data, end: int) -> int:
    """Newlines in ``data[:end]`` (an mmap has no count)."""
    import numpy as np

    return int(np.count_nonzero(np.frombuffer(data, np.uint8, end) == 10))
