"""What lint reports: a finding at a location, with the rule's severity. Reporters render these."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        return 2 if self is Severity.ERROR else 1


# NamedTuples rather than frozen dataclasses: lint builds one of each per finding, and a frozen
# dataclass sets every field through object.__setattr__ (several microseconds a finding, a tenth
# of the time of a record with a finding). Immutable all the same, and they pickle as tuples.
class Location(NamedTuple):
    file: str
    line: int  # 1-based; 0 when the finding concerns the whole file
    column: int  # 1-based
    record: int | None = None  # 0-based record index in the file
    path: str = "$"  # JSONPath inside the record

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file


class Finding(NamedTuple):
    code: str
    severity: Severity
    message: str
    location: Location
    hint: str = ""
    fixable: bool = False
