"""`dataforge lint --fix`: apply the safe fixes to a file, atomically, keeping the original.

Safe means the meaning of the record cannot change: removing a BOM, renaming a role spelt in
another format's words (R010), and encoding object-valued tool arguments as the JSON string the
format requires (T007). Records without a fix keep their exact bytes.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dataforge.formats import FORMATS, detect
from dataforge.jsonio.layout import RecordWriter, is_json_lines, iter_records, open_records
from dataforge.jsonio.locate import path_steps
from dataforge.jsonio.parse import parse
from dataforge.jsonio.write import atomic_writer
from dataforge.lint.findings import Finding

FIXABLE = frozenset({"E003", "R010", "T007"})


def fix_files(findings: Iterable[Finding], backup: bool = True, format_name: str = "auto") -> dict[str, int]:
    """Apply every fixable finding; returns the number of fixes made per file."""
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.fixable and f.code in FIXABLE:
            by_file[f.location.file].append(f)
    return {file: _fix_file(Path(file), items, backup, format_name) for file, items in by_file.items()}


def _fix_file(path: Path, findings: list[Finding], backup: bool, format_name: str) -> int:
    edits: dict[int, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.location.record is not None:
            edits[f.location.record].append(f)
    fixed = sum(1 for f in findings if f.code == "E003")
    if backup:
        shutil.copy2(path, path.with_name(path.name + ".orig"))
    lines = is_json_lines(path)
    f, _, _ = open_records(path)  # reading past a BOM is what removes it
    with f, atomic_writer(path) as out:
        writer = RecordWriter(out, lines)
        for rec in iter_records(path, f):
            todo = edits.get(rec.index)
            if not todo:
                writer.write_text(rec.text if lines or rec.column == 1 else b" " * (rec.column - 1) + rec.text)
                continue
            value = parse(rec.text)
            for finding in todo:
                fixed += _apply(value, finding, format_name)
            writer.write(value)
        writer.close()
    return fixed


def _apply(record: dict, finding: Finding, format_name: str) -> int:
    steps = path_steps(finding.location.path)
    parent: Any = record
    for step in steps[:-1]:
        parent = parent[step]
    key = steps[-1]
    if finding.code == "R010":
        fmt = FORMATS[format_name] if format_name != "auto" else (detect(record) or [None])[0]
        alias = fmt.role_aliases.get(parent[key]) if fmt is not None else None
        if alias is None:
            return 0
        parent[key] = alias
        return 1
    if finding.code == "T007" and isinstance(parent[key], dict):
        from dataforge.formats.base import dumps

        parent[key] = dumps(parent[key])
        return 1
    return 0
