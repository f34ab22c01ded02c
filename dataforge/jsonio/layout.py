"""Which reader a file needs, and how records are written back in the same layout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from dataforge.jsonio.stream import RawRecord, StructureError, iter_json, iter_jsonl, jsonl_batches, read_header

LINE_SUFFIXES = (".jsonl", ".ndjson")


def is_json_lines(path: str | Path) -> bool:
    return Path(path).suffix.lower() in LINE_SUFFIXES


def iter_records(path: str | Path, f: IO[bytes]) -> Iterator[RawRecord]:
    """Records of an open file, after its header (BOM) has been read by ``read_header``."""
    if is_json_lines(path):
        return iter_jsonl(f)
    return iter_json(f, f.tell())


def record_batches(path: str | Path, f: IO[bytes], size: int) -> Iterator[list[RawRecord]]:
    """The records of ``iter_records`` in non-empty lists: JSON Lines a block of the file at a
    time, JSON arrays ``size`` records at a time."""
    if is_json_lines(path):
        return jsonl_batches(f)
    return _batched(iter_json(f, f.tell()), size)


def _batched(records: Iterator[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    batch: list[RawRecord] = []
    try:
        for rec in records:
            batch.append(rec)
            if len(batch) == size:
                yield batch
                batch = []
    except StructureError:
        if batch:
            yield batch  # the records before the break are still checked; then the break is reported
        raise
    if batch:
        yield batch


def open_records(path: str | Path) -> tuple[IO[bytes], bool, str | None]:
    """Open a dataset file: (file positioned at the first record, has BOM, foreign encoding)."""
    f = open(path, "rb")
    header = read_header(f)
    return f, header.has_bom, header.foreign_encoding


def dump_record(value: Any, indent: int | None = None) -> bytes:
    """One record as the common writers lay it out (json.dumps with ensure_ascii=False)."""
    return json.dumps(value, ensure_ascii=False, indent=indent).encode()


class RecordWriter:
    """Write records as JSON Lines, or as a JSON array with one record per block."""

    def __init__(self, f: IO[bytes], lines: bool, indent: int | None = 2):
        self.f, self.lines, self.indent, self.count = f, lines, indent, 0

    def write_text(self, text: bytes) -> None:
        if self.lines:
            self.f.write(text + b"\n")
        else:
            self.f.write((b"[\n" if self.count == 0 else b",\n") + text)
        self.count += 1

    def write_texts(self, texts: list[bytes]) -> None:
        """``write_text`` for each of ``texts``; JSON Lines in one write (bulk copies: dedup)."""
        if self.lines:
            if texts:
                self.f.write(b"\n".join(texts) + b"\n")
                self.count += len(texts)
        else:
            for text in texts:
                self.write_text(text)

    def write(self, value: Any) -> None:
        if self.lines:
            self.write_text(dump_record(value))
        else:
            text = dump_record(value, self.indent)
            pad = b" " * (self.indent or 0)
            self.write_text(pad + text.replace(b"\n", b"\n" + pad))

    def close(self) -> None:
        if not self.lines:
            self.f.write(b"\n]\n" if self.count else b"[]\n")
