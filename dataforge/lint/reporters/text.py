"""Human-readable findings: `file:line:col: CODE [severity] message (at $.path)`, then a summary."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TextIO

from dataforge.lint.engine import Summary
from dataforge.lint.findings import Finding


def format_finding(f: Finding) -> str:
    where = f" at {f.location.path}" if f.location.path != "$" else ""
    record = f" (record {f.location.record})" if f.location.record is not None else ""
    fix = " [fixable]" if f.fixable else ""
    return f"{f.location}: {f.code} {f.severity}: {f.message}{where}{record}{fix}"


def summary_line(summary: Summary) -> str:
    records = f"{summary.records:,} record{'s' * (summary.records != 1)}"
    files = f"{summary.files} file{'s' * (summary.files != 1)}"
    errors, warnings = summary.severities.get("error", 0), summary.severities.get("warning", 0)
    if not errors and not warnings:
        formats = ", ".join(f"{n:,} {name}" for name, n in summary.formats.most_common())
        return f"OK: {records} in {files}, no findings" + (f" ({formats})" if formats else "")
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} in {records} ({files})"


def report(findings: Iterable[Finding], summary: Callable[[], Summary], out: TextIO,
           statistics: bool = False) -> None:
    hints: dict[str, str] = {}
    for f in findings:
        out.write(format_finding(f) + "\n")
        hints.setdefault(f.code, f.hint)
    done = summary()
    if hints:
        out.write("\n")
        for code, hint in sorted(hints.items()):
            if hint:
                out.write(f"  {code}: {hint}\n")
    if statistics:
        write_statistics(done, out)
    out.write(summary_line(done) + "\n")


def write_statistics(summary: Summary, out: TextIO) -> None:
    from dataforge.lint.rules import RULES

    out.write("\n")
    for code, n in sorted(summary.findings.items(), key=lambda kv: (-kv[1], kv[0])):
        out.write(f"{n:>8,}  {code}  {RULES[code].name}\n")
    for name, n in summary.formats.most_common():
        out.write(f"{n:>8,}  records in format {name}\n")
    mb = summary.bytes / 1e6
    out.write(f"{summary.records:>8,}  records, {mb:,.1f} MB in {summary.files} file(s)\n\n")
