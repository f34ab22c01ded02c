"""Findings as one JSON document, for scripts: {"findings": [...], "summary": {...}}, streamed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TextIO

from dataforge.lint.engine import Summary
from dataforge.lint.findings import Finding


def finding_dict(f: Finding) -> dict:
    return {**f._asdict(), "severity": str(f.severity), "location": f.location._asdict()}


def report(findings: Iterable[Finding], summary: Callable[[], Summary], out: TextIO) -> None:
    """Written as the findings come, one per line, so a million of them take no more memory than one."""
    out.write('{\n  "findings": [')
    for n, f in enumerate(findings):
        out.write(("\n    " if n == 0 else ",\n    ") + json.dumps(finding_dict(f), ensure_ascii=False))
    s = summary()
    out.write("\n  ],\n  \"summary\": ")
    out.write(json.dumps({"files": s.files, "records": s.records, "bytes": s.bytes,
                          "errors": s.severities.get("error", 0), "warnings": s.severities.get("warning", 0),
                          "by_code": dict(sorted(s.findings.items())), "formats": dict(s.formats)},
                         ensure_ascii=False))
    out.write("\n}\n")
