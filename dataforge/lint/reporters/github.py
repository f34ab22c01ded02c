"""GitHub Actions workflow commands: each finding becomes an annotation on the file and line."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TextIO

from dataforge.lint.engine import Summary
from dataforge.lint.findings import Finding
from dataforge.lint.reporters.text import summary_line


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    level = "error" if f.severity == "error" else "warning"
    props = [f"file={_escape_property(f.location.file)}"]
    if f.location.line:
        props += [f"line={f.location.line}", f"col={f.location.column}"]
    props.append(f"title={_escape_property(f.code)}")
    where = f" at {f.location.path}" if f.location.path != "$" else ""
    return f"::{level} {','.join(props)}::{_escape_data(f.message + where)}"


def report(findings: Iterable[Finding], summary: Callable[[], Summary], out: TextIO) -> None:
    for f in findings:
        out.write(annotation(f) + "\n")
    out.write(summary_line(summary()) + "\n")
