"""Which records repeat an earlier one (D001 within a file, D002 across files), in bounded memory.

Lint keeps one entry per record read: the record's digest (64-bit XXH3 of its JSON text) and
where the record is (file, record number, line, column), 28 bytes. Up to SPILL entries stay in
memory, which covers most datasets. Past that, entries go to up to 256 bucket files on disk,
chosen by the digest's top byte, so that equal digests always share a bucket and each bucket is
checked on its own: memory stays bounded whatever the size of the files, and entries keep their
reading order within a bucket, which is what "first occurrence" means.

A bucket is checked by putting its digests in a set (C speed; with no repeat, that is all), and
only when some digest repeats, by walking the entries with a dict of first occurrences.
"""

from __future__ import annotations

import shutil
import tempfile
from array import array
from pathlib import Path
from typing import BinaryIO, NamedTuple

SPILL = 500_000  # entries kept in memory (14 MB; checking them takes about 50 MB more) before they spill
BUCKETS = 256
_COLUMNS = (("digest", "Q"), ("file", "I"), ("record", "q"), ("line", "I"), ("column", "I"))


class Place(NamedTuple):
    file: int  # position of the file in the run
    record: int
    line: int
    column: int


class Repeat(NamedTuple):
    place: Place  # the later record
    first: Place  # the first record with the same text


class _Entries:
    """Entries as parallel arrays, one per column."""

    def __init__(self) -> None:
        self.columns = {name: array(code) for name, code in _COLUMNS}

    def __len__(self) -> int:
        return len(self.columns["digest"])

    def extend(self, file: int, digests: bytes, records: bytes, lines: bytes, columns: bytes) -> None:
        c = self.columns
        before = len(self)
        c["digest"].frombytes(digests)
        c["record"].frombytes(records)
        c["line"].frombytes(lines)
        c["column"].frombytes(columns)
        c["file"].extend(array("I", [file]) * (len(self) - before))

    def place(self, k: int) -> Place:
        c = self.columns
        return Place(c["file"][k], c["record"][k], c["line"][k], c["column"][k])


class DigestStore:
    """Collects record digests during a lint run; ``repeats()`` names the duplicates at the end."""

    def __init__(self, spill: int | None = None):
        self.spill = spill or SPILL
        self.entries = _Entries()
        self._folder: Path | None = None  # bucket files, once entries have spilled
        self._buckets: dict[int, BinaryIO] = {}  # open bucket files by bucket number

    def add(self, file: int, digests: bytes, records: bytes, lines: bytes, columns: bytes) -> None:
        self.entries.extend(file, digests, records, lines, columns)
        if len(self.entries) >= self.spill:
            self._spill()

    def repeats(self) -> list[Repeat]:
        """Every record whose text an earlier record had, in reading order."""
        try:
            if self._folder is None:
                return _repeats(self.entries)
            self._spill()
            for f in self._buckets.values():
                f.flush()  # the bucket files are read back next; close() closes them
            found = [r for bucket in sorted(self._buckets) for r in _repeats(self._load(bucket))]
            found.sort(key=lambda r: (r.place.file, r.place.record))
            return found
        finally:
            self.close()

    def close(self) -> None:
        for f in self._buckets.values():
            f.close()
        self._buckets = {}
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _spill(self) -> None:
        """Append the in-memory entries to the bucket files, by the top byte of their digest."""
        import numpy as np  # only for datasets past SPILL records, where its import time is nothing

        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="dataforge-digests-"))
        rows = np.empty(len(self.entries), _row_dtype())
        for name, a in self.entries.columns.items():
            rows[name] = np.frombuffer(a, a.typecode)
        buckets = (rows["digest"] >> np.uint64(56)).astype(np.uint8)
        order = np.argsort(buckets, kind="stable")  # stable: reading order within each bucket
        bounds = np.searchsorted(buckets[order], np.arange(BUCKETS + 1))
        for bucket in np.flatnonzero(np.diff(bounds)):
            f = self._buckets.get(bucket)
            if f is None:  # files stay open until the end: opening one costs more than writing it
                f = self._buckets[bucket] = open(self._folder / str(bucket), "ab")
            f.write(rows[order[bounds[bucket]:bounds[bucket + 1]]].tobytes())
        self.entries = _Entries()

    def _load(self, bucket: int) -> _Entries:
        import numpy as np

        rows = np.fromfile(self._folder / str(bucket), _row_dtype())
        entries = _Entries()
        for name, a in entries.columns.items():
            a.frombytes(np.ascontiguousarray(rows[name]).tobytes())
        return entries

    def __del__(self) -> None:
        self.close()


def _row_dtype():
    import numpy as np

    return np.dtype([(name, code) for name, code in _COLUMNS])  # packed: 28 bytes an entry


def _repeats(entries: _Entries) -> list[Repeat]:
    digests = entries.columns["digest"]
    if len(set(digests)) == len(digests):
        return []
    first: dict[int, int] = {}
    found = []
    for k, digest in enumerate(digests):
        earlier = first.setdefault(digest, k)
        if earlier != k:
            found.append(Repeat(entries.place(k), entries.place(earlier)))
    return found
