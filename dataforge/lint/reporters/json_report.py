"""Findings as one JSON document, for scripts: {"findings": [...], "summary": {...}}."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import TextIO

from dataforge.lint.engine import Summary
from dataforge.lint.findings import Finding


def finding_dict(f: Finding) -> dict:
    d = asdict(f)
    d["severity"] = str(f.severity)
    return d


def report(findings: Iterable[Finding], summary: Callable[[], Summary], out: TextIO) -> None:
    items = [finding_dict(f) for f in findings]
    s = summary()
    json.dump({"findings": items,
               "summary": {"files": s.files, "records": s.records, "bytes": s.bytes,
                           "errors": s.severities.get("error", 0), "warnings": s.severities.get("warning", 0),
                           "by_code": dict(sorted(s.findings.items())), "formats": dict(s.formats)}},
              out, ensure_ascii=False, indent=2)
    out.write("\n")
