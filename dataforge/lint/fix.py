"""`dataforge lint --fix`: apply the safe fixes to a file, atomically, keeping the original.

Safe means the meaning of the record cannot change: removing a BOM, renaming a role spelt in
another format's words (R010), and encoding object-valued tool arguments as the JSON string the
format requires (T007).

Only the bytes of what is fixed change. The file is copied as it is, and each fix replaces the
exact bytes of one value (a role's string, an arguments object) in place: line endings, blank
lines, indentation, key order and the spelling of numbers (``2.50``, ``1e3``) stay as the user
wrote them, in the fixed records too. The original is kept as FILE.orig, or FILE.orig.1 and so on
when that name is taken: a backup is never overwritten.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dataforge.formats import FORMATS, detect
from dataforge.jsonio.layout import iter_records, open_records
from dataforge.jsonio.locate import _descend, _skip, path_steps
from dataforge.jsonio.parse import parse
from dataforge.jsonio.stream import _SCALAR, UTF8_BOM, StructureError, _value_end
from dataforge.jsonio.write import atomic_writer
from dataforge.lint.findings import Finding

FIXABLE = frozenset({"E003", "R010", "T007"})


@dataclass
class FixResult:
    file: str
    fixed: int = 0
    backup: Path | None = None
    error: str | None = None  # why the file was left as it was


def fix_files(findings: Iterable[Finding], backup: bool = True, format_name: str = "auto") -> list[FixResult]:
    """Apply every fixable finding, file by file; a file that cannot be fixed is left untouched
    and says why, and the others are still fixed."""
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.fixable and f.code in FIXABLE:
            by_file[f.location.file].append(f)
    results = []
    for file, items in by_file.items():
        result = FixResult(file)
        try:
            _fix_file(Path(file), items, backup, format_name, result)
        except OSError as exc:
            result.error = f"cannot write here ({exc.strerror or exc})"
        except StructureError as exc:
            result.error = f"its structure is broken at line {exc.line}, column {exc.column} ({exc.message})"
        except _Changed as exc:
            result.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - DataforgeError and friends: a message, never a traceback
            result.error = getattr(exc, "message", None) or str(exc)
        if result.error is not None:
            result.fixed = 0
        results.append(result)
    return results


class _Changed(Exception):
    """The file no longer holds the bytes lint read: it changed under us."""


def _fix_file(path: Path, findings: list[Finding], backup: bool, format_name: str, result: FixResult) -> None:
    edits: dict[int, list[Finding]] = defaultdict(list)
    drop_bom = False
    for f in findings:
        if f.code == "E003":
            drop_bom = True
        elif f.location.record is not None:
            edits[f.location.record].append(f)
    if backup:
        result.backup = _backup_name(path)
        shutil.copy2(path, result.backup)
    src, has_bom, _ = open_records(path)
    with src, atomic_writer(path) as out:
        if has_bom and not drop_bom:
            out.write(UTF8_BOM)
        result.fixed += has_bom and drop_bom
        splicer = _Splicer(src, out)
        with open(path, "rb") as reader:
            reader.seek(src.tell())
            for rec in iter_records(path, reader):
                todo = edits.get(rec.index)
                if not todo:
                    continue
                new, count = _fixed_text(rec.text, todo, format_name)
                if count:
                    splicer.copy_to(rec.line, rec.column)
                    splicer.replace(rec.text, new)
                    result.fixed += count
        splicer.copy_rest()


def _backup_name(path: Path) -> Path:
    candidate = path.with_name(path.name + ".orig")
    n = 0
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.name}.orig.{n}")
    return candidate


def _fixed_text(text: bytes, findings: list[Finding], format_name: str) -> tuple[bytes, int]:
    """The record's bytes with each fix spliced in, and the number of fixes made. Splices go from
    the end of the text backwards, so earlier offsets stay valid."""
    record = parse(text)
    spans = []
    for finding in findings:
        steps = path_steps(finding.location.path)
        start = _descend(text, _skip(text, 0), tuple(steps))
        end = _value_end(text, start) if text[start:start + 1] in (b"{", b"[") else _scalar_end(text, start)
        if end is None:
            continue
        replacement = _replacement(record, steps, finding.code, format_name, text[start:end])
        if replacement is not None:
            spans.append((start, end, replacement))
    for start, end, replacement in sorted(spans, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text, len(spans)


def _scalar_end(text: bytes, start: int) -> int | None:
    m = _SCALAR.match(text, start)
    return m.end() if m else None


def _replacement(record, steps: list, code: str, format_name: str, raw: bytes) -> bytes | None:
    """The bytes that replace ``raw``, the value at ``steps``, or None when there is nothing to fix."""
    parent = record
    try:
        for step in steps[:-1]:
            parent = parent[step]
        value = parent[steps[-1]]
    except (KeyError, IndexError, TypeError):
        return None
    if code == "R010" and isinstance(value, str):
        fmt = FORMATS[format_name] if format_name != "auto" else (detect(record) or [None])[0]
        alias = fmt.role_aliases.get(value) if fmt is not None else None
        return json.dumps(alias, ensure_ascii=False).encode() if alias is not None else None
    if code == "T007" and isinstance(value, dict):
        return json.dumps(_minified(raw).decode("utf-8"), ensure_ascii=False).encode()
    return None


_TOKEN = re.compile(rb'("(?:[^"\\]|\\.)*")|\s*([,:])\s*|\s+', re.DOTALL)


def _minified(raw: bytes) -> bytes:
    """A JSON value's own bytes on one line, spaced as the format writers space it (``, `` and
    ``: ``): numbers and strings as written."""
    return _TOKEN.sub(lambda m: m.group(1) or (m.group(2) + b" " if m.group(2) else b""), raw)


class _Splicer:
    """Copies the source to the output up to a record, and swaps one record's bytes for new ones.

    Positions are (line, column) as the stream reader gives them: lines from 1, columns in bytes
    from 1, counted from the first byte after the BOM.
    """

    def __init__(self, src: IO[bytes], out: IO[bytes]):
        self.src, self.out = src, out
        self.line, self.column = 1, 1

    def copy_to(self, line: int, column: int) -> None:
        while self.line < line:
            piece = self.src.readline()
            if not piece:
                raise _Changed("the file changed while it was being fixed; run lint again")
            self.out.write(piece)
            if piece.endswith(b"\n"):
                self.line, self.column = self.line + 1, 1
        self.out.write(self.src.read(column - self.column))
        self.column = column

    def replace(self, old: bytes, new: bytes) -> None:
        if self.src.read(len(old)) != old:
            raise _Changed("the file changed while it was being fixed; run lint again")
        self.out.write(new)
        newlines = old.count(b"\n")
        if newlines:
            self.line += newlines
            self.column = len(old) - old.rfind(b"\n")
        else:
            self.column += len(old)

    def copy_rest(self) -> None:
        shutil.copyfileobj(self.src, self.out)
