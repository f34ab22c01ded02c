"""What lint reports: a finding at a location, with the rule's severity. Reporters render these."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        return 2 if self is Severity.ERROR else 1


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int  # 1-based; 0 when the finding concerns the whole file
    column: int  # 1-based
    record: int | None = None  # 0-based record index in the file
    path: str = "$"  # JSONPath inside the record

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file

    def __reduce__(self):  # workers send findings by the thousand: a plain tuple pickles fastest
        return Location, (self.file, self.line, self.column, self.record, self.path)


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    location: Location
    hint: str = ""
    fixable: bool = False

    def __reduce__(self):
        return Finding, (self.code, self.severity, self.message, self.location, self.hint, self.fixable)
