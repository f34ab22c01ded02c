"""Stream a dataset file as raw records with their positions, in bounded memory.

Two layouts: JSON Lines (one record per line) and JSON (an array of records, or records written
one after another). An array is cut into per-record byte slices without building the whole
array. With the compiled speedups, a C scan that skips strings and counts brackets finds every
whole record in the buffer at once. Without them, once two records are seen, the bytes between
them (for example ``},\\n  {"conversations":``) predict where the next one ends; a prediction is
accepted only when the slice parses as exactly one JSON value, so it can be fast without ever
being wrong. Where neither applies (the first records, a record cut by the end of the buffer,
anything unusual), an exact Python scan finds the boundary, and reports broken structure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import compress, repeat
from typing import IO, Any, NamedTuple

from dataforge.jsonio.parse import parse
from dataforge.speedups import compiled

record_spans = compiled.record_spans if compiled is not None else None

CHUNK = 1 << 22  # bytes read at a time; a record longer than this grows the buffer as needed
UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = {b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16", b"\x00\x00\xfe\xff": "UTF-32"}

class _Unparsed:
    """RawRecord.value of a record not parsed yet; one instance, also across processes."""

    def __reduce__(self) -> str:
        return "UNPARSED"

    def __repr__(self) -> str:
        return "UNPARSED"


UNPARSED: Any = _Unparsed()


class RawRecord(NamedTuple):
    index: int  # 0-based position in the file
    line: int  # 1-based line where the record starts
    column: int  # 1-based column (in bytes) where the record starts
    text: bytes
    value: Any = UNPARSED


class StructureError(Exception):
    """The file's outer structure is broken at this point; records after it cannot be found."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


class Header(NamedTuple):
    has_bom: bool
    foreign_encoding: str | None  # "UTF-16" etc. when the file starts with that BOM


def read_header(f: IO[bytes]) -> Header:
    """Look at the first bytes; leaves ``f`` positioned after a UTF-8 BOM, else at the start."""
    head = f.read(4)
    for bom, name in _OTHER_BOMS.items():
        if head.startswith(bom):
            return Header(False, name)
    if head.startswith(UTF8_BOM):
        f.seek(3)
        return Header(True, None)
    f.seek(0)
    return Header(False, None)


def iter_jsonl(f: IO[bytes], first_line: int = 1) -> Iterator[RawRecord]:
    """One record per non-blank line; line numbers count blank lines too."""
    for batch in jsonl_batches(f, first_line):
        yield from batch


def jsonl_batches(f: IO[bytes], first_line: int = 1, block: int = CHUNK) -> Iterator[list[RawRecord]]:
    """The records of ``iter_jsonl`` in lists, one per ``block`` bytes read (whole lines only).

    The first read is small: callers learn the file's format from the first record, and lint's
    worker processes then read the rest themselves.
    """
    index, line = 0, first_line
    pending: list[bytes] = []  # the start of a line that has not ended yet
    size = min(block, 1 << 16)
    while True:
        chunk = f.read(size)
        size = block
        if not chunk:
            batch = jsonl_records(b"".join(pending), index, line)[0] if pending else []
            if batch:
                yield batch
            return
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:  # a line longer than the block: read on (joined once it ends)
            pending.append(chunk)
            continue
        data = b"".join((*pending, chunk[:cut])) if pending else chunk[:cut]
        pending = [chunk[cut:]] if cut < len(chunk) else []
        batch, newlines = jsonl_records(data, index, line)
        index += len(batch)
        line += newlines
        if batch:
            yield batch


def _jsonl_records_py(data: bytes, index: int = 0, line: int = 1) -> tuple[list[RawRecord], int]:
    """(records, newlines) of the JSON Lines in ``data``, numbered from ``index`` and ``line``.

    A line's trailing CRs are dropped; blank lines are skipped but counted. C-level map/zip over
    the lines rather than a Python step per line: this runs for every record of a multi-GB file.
    The compiled twin (jsonl_records in _speedups.c) does the same with memchr.
    """
    texts = data.split(b"\n")
    if texts[-1] == b"":
        texts.pop()  # after the last newline
    numbers: Iterable[int] = range(line, line + len(texts))
    if b"\r" in data:
        texts = list(map(bytes.rstrip, texts, repeat(b"\r")))
    stripped = list(map(bytes.strip, texts))
    if not all(stripped):
        numbers = list(compress(numbers, stripped))
        texts = list(compress(texts, stripped))
    # tuple.__new__ makes each RawRecord in C (a NamedTuple's own constructor is Python code)
    records = list(map(tuple.__new__, repeat(RawRecord),
                       zip(range(index, index + len(texts)), numbers, repeat(1), texts, repeat(UNPARSED))))
    return records, data.count(b"\n")


def _jsonl_records_c(data: bytes, index: int = 0, line: int = 1) -> tuple[list[RawRecord], int]:
    return compiled.jsonl_records(data, index, line, RawRecord, UNPARSED)


#: (records, newlines) of the JSON Lines in ``data``: compiled when built, else the Python twin.
jsonl_records = _jsonl_records_c if compiled is not None else _jsonl_records_py


# Everything up to the next bracket, stepping over whole strings (escapes included) in C.
_TO_BRACKET = re.compile(rb'(?:[^"\[\]{}]++|"(?:[^"\\]++|\\.)*+")*+', re.DOTALL)
_SCALAR = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[^\s,\[\]{}"]+', re.DOTALL)
_SPACE = re.compile(rb"[ \t\r\n]*")
_FIRST_KEY = re.compile(rb'\{[ \t\r\n]*"(?:[^"\\]++|\\.)*+"')


class _Buffer:
    """A sliding window over the file with absolute offsets and line bookkeeping."""

    def __init__(self, f: IO[bytes], start_offset: int):
        self.f = f
        self.data = b""
        self.base = start_offset  # absolute offset of data[0]
        self.eof = False
        self.line = 1  # line number at absolute offset `counted`
        self.counted = start_offset
        self.line_start = start_offset  # absolute offset where that line starts

    def more(self) -> bool:
        """Append another chunk; False at the end of the file."""
        if self.eof:
            return False
        chunk = self.f.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.data += chunk
        return True

    def drop(self, upto: int) -> None:
        """Forget data[:upto] (already consumed), keeping the line count right."""
        self.position(upto)
        self.data = self.data[upto:]
        self.base += upto

    def position(self, pos: int) -> tuple[int, int]:
        """(line, column) of data[pos]; positions must be asked for in increasing order."""
        absolute = self.base + pos
        start = self.counted - self.base
        newlines = self.data.count(b"\n", start, pos)
        if newlines:
            self.line += newlines
            self.line_start = self.base + self.data.rfind(b"\n", start, pos) + 1
        self.counted = absolute
        return self.line, absolute - self.line_start + 1


def iter_json(f: IO[bytes], start_offset: int = 0) -> Iterator[RawRecord]:
    """Records of a JSON file: the items of a top-level array, or top-level values in sequence."""
    buf = _Buffer(f, start_offset)
    pos = _skip_space(buf, 0)
    if pos >= len(buf.data):
        return
    in_array = buf.data[pos] == ord("[")
    if in_array:
        pos = _skip_space(buf, pos + 1)
    index = 0
    separator: bytes | None = None  # learned bytes between one record's end and the next one's key
    prev_end: int | None = None
    while True:
        if separator is not None:
            # The fast path: predicted records, each checked by parsing it.
            for record, pos in _predicted(buf, pos, separator, index):
                yield record
                index += 1
            prev_end = None
        pos = _skip_space(buf, pos)
        data = buf.data
        if pos >= len(data):
            if in_array:
                line, col = buf.position(len(data))
                raise StructureError("file ends before the array is closed with ']'", line, col)
            return
        char = data[pos]
        if in_array and char == ord("]"):
            _expect_end(buf, pos + 1)
            return
        if in_array and index > 0:
            if char != ord(","):
                line, col = buf.position(pos)
                raise StructureError(f"expected ',' or ']' after record {index - 1}", line, col)
            pos = _skip_space(buf, pos + 1)
            data = buf.data
            if pos >= len(data):
                line, col = buf.position(pos)
                raise StructureError("file ends before the array is closed with ']'", line, col)
            if data[pos] == ord("]"):
                line, col = buf.position(pos)
                raise StructureError("trailing comma before ']'", line, col)
        if record_spans is not None and data[pos] in b"{[":
            spans = record_spans(data, pos, in_array)
            if spans:  # every whole record in the buffer from here, found in C
                position = buf.position
                for k in range(0, len(spans), 2):
                    start, end = spans[k], spans[k + 1]
                    line, col = position(start)
                    yield RawRecord(index, line, col, data[start:end])
                    index += 1
                pos = end
                if pos > CHUNK:
                    buf.drop(pos - 1)
                    pos = 1
                continue
        end = _scan_value(buf, pos)
        data = buf.data
        if separator is None and prev_end is not None and record_spans is None:
            separator = _learn_separator(data, prev_end, pos)
        line, col = buf.position(pos)
        yield RawRecord(index, line, col, data[pos:end])
        index += 1
        prev_end, pos = end, end
        if pos > CHUNK:  # forget consumed bytes now and then, not per record (a copy each time)
            buf.drop(pos - 1)
            prev_end, pos = 1, 1


def _predicted(buf: _Buffer, pos: int, separator: bytes, index: int):
    """(record, position after it) for as long as the separator predicts record ends correctly.

    ``pos`` is the end of the previous record; the prediction is accepted only when the slice
    parses as one JSON value, so a wrong guess costs time, never correctness.
    """
    key_len = len(separator) - separator.index(b"{")
    start = pos - 1 + len(separator) - key_len
    if not buf.data.startswith(separator, pos - 1):
        return
    while True:
        data = buf.data
        cut = data.find(separator, start + 1)
        if cut == -1:
            if buf.more():
                continue
            return
        try:
            value = parse(data[start:cut + 1])
        except ValueError:
            return
        line, col = buf.position(start)
        record = RawRecord(index, line, col, data[start:cut + 1], value)
        after = cut + 1
        if cut > CHUNK:  # keep the closing brace: the caller checks the separator from there
            buf.drop(cut)
            after = 1
        yield record, after
        index += 1
        start = after - 1 + len(separator) - key_len


def _skip_space(buf: _Buffer, pos: int) -> int:
    while True:
        pos = _SPACE.match(buf.data, pos).end()
        if pos < len(buf.data) or not buf.more():
            return pos


def _expect_end(buf: _Buffer, pos: int) -> None:
    pos = _skip_space(buf, pos)
    if pos < len(buf.data):
        line, col = buf.position(pos)
        raise StructureError("unexpected data after the closing ']'", line, col)


def _learn_separator(data: bytes, prev_end: int, start: int) -> bytes | None:
    """``}`` + what separates two records + the next record's opening up to its first key."""
    key = _FIRST_KEY.match(data, start)
    if data[prev_end - 1] != ord("}") or key is None:
        return None
    return data[prev_end - 1:start] + data[start:key.end()]


def _scan_value(buf: _Buffer, pos: int) -> int:
    """End of the JSON value starting at ``pos``, reading more of the file as needed."""
    while True:
        end = _value_end(buf.data, pos, buf.eof)
        if end is not None:
            return end
        if not buf.more() and _value_end(buf.data, pos, True) is None:
            line, col = buf.position(pos)
            raise StructureError("file ends in the middle of a record", line, col)


def _value_end(data: bytes, pos: int, at_eof: bool = False) -> int | None:
    """End of the JSON value starting at ``pos``, or None when ``data`` ends first.

    A scalar that reaches the end of ``data`` may go on in the next chunk, unless ``at_eof``.
    """
    n = len(data)
    if pos >= n:
        return None
    if data[pos] not in b"{[":
        m = _SCALAR.match(data, pos)
        return None if m is None or (m.end() >= n and not at_eof) else m.end()
    depth = 0
    while True:
        pos = _TO_BRACKET.match(data, pos).end()
        if pos >= n or data[pos] == ord('"'):  # the end of the window, maybe inside a string
            return None
        if data[pos] in b"{[":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1
