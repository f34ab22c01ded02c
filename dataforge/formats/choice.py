"""Which format a record is read as: one policy for every command (lint, convert, preview,
--fix, generate and the review app), so a record gets the same verdict whichever reads it.

A file has one format: the one the user forced (``--format``, ``--from``), else the first one
that recognises its first record (S002 when several do: the first in the registry's order is
taken). Each record is then read as follows:

- a record the file's format recognises (any record, when the format is forced) is read as it;
- a record only another format recognises is read as that one, and S003 says it differs;
- a record nobody recognises is read as the file's format, whose reader names the field that is
  missing (S004), which says more than "matches no known format"; only in a file with no format
  at all is it S001.
"""

from __future__ import annotations

from typing import Any

from dataforge.formats import Format, detect
from dataforge.formats.base import Problem
from dataforge.model import Sample


class FormatChoice:
    def __init__(self, file_format: Format | None, forced: bool = False):
        self.format = file_format
        self.forced = forced and file_format is not None

    @classmethod
    def for_file(cls, first: Any, forced: Format | None = None) -> tuple[FormatChoice, list[Format]]:
        """The choice for a file whose first record is ``first`` (a parsed value, or None when it
        did not parse), and every format that recognised it (more than one: S002)."""
        if forced is not None:
            return cls(forced, forced=True), [forced]
        found = detect(first) if type(first) is dict else []
        return cls(found[0] if found else None), found

    def read(self, value: Any, problems: list[Problem]) -> tuple[Format | None, Sample | None]:
        """(the format the record is read as, its Sample or None), shape problems appended."""
        if type(value) is not dict:
            problems.append(Problem("S005", "$", "a record must be a JSON object"))
            return None, None
        fmt = self.format
        if fmt is not None:
            sample = fmt.read_quick(value, problems)  # the common case: plainly the file's format
            if sample is not None:
                return fmt, sample
            if self.forced or fmt.detect(value):
                return fmt, fmt.read_detailed(value, problems)
        other = self.other_format(value, problems)
        if other is None:
            return None, None
        return other, (other.read_detailed(value, problems) if other is fmt else other.read(value, problems))

    def other_format(self, value: dict, problems: list[Problem]) -> Format | None:
        """The format of a record that the file's own format did not claim."""
        fmt = self.format
        found = detect(value)
        if not found:
            if fmt is not None:
                return fmt  # most likely the file's format with a field missing: its reader says which
            problems.append(Problem("S001", "$", "the record matches no known format (keys: "
                                    + ", ".join(sorted(map(str, value))[:8]) + ")"))
            return None
        if fmt is not None:
            problems.append(Problem("S003", "$", f"record is {found[0].name}, but the file is {fmt.name}"))
        return found[0]
