"""Reporters render findings; they never decide them. Each takes findings and the summary."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TextIO

from dataforge.lint.engine import Summary
from dataforge.lint.findings import Finding
from dataforge.lint.reporters import github, json_report, sarif, text

# Each reporter: (findings as they come, a function giving the summary once they are all out, stream)
Reporter = Callable[[Iterable[Finding], Callable[[], Summary], TextIO], None]

REPORTERS: dict[str, Reporter] = {
    "text": text.report,
    "json": json_report.report,
    "github": github.report,
    "sarif": sarif.report,
}
