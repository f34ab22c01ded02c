"""SARIF 2.1.0, the format code-scanning services (GitHub, GitLab, IDEs) read."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TextIO

import dataforge
from dataforge.lint.engine import Summary
from dataforge.lint.findings import Finding
from dataforge.lint.rules import RULES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def sarif_log(findings: Iterable[Finding]) -> dict:
    """The whole log as one value (for callers that want it in memory)."""
    import io

    buffer = io.StringIO()
    report(findings, lambda: None, buffer)
    return json.loads(buffer.getvalue())


def _result(f: Finding, index: int) -> dict:
    region = {"startLine": f.location.line, "startColumn": f.location.column} if f.location.line else None
    physical = {"artifactLocation": {"uri": f.location.file.replace("\\", "/")}}
    if region:
        physical["region"] = region
    result = {
        "ruleId": f.code,
        "ruleIndex": index,
        "level": "error" if f.severity == "error" else "warning",
        "message": {"text": f.message},
        "locations": [{"physicalLocation": physical,
                       "logicalLocations": [{"fullyQualifiedName": f.location.path, "kind": "member"}]}],
    }
    if f.location.record is not None:
        result["properties"] = {"record": f.location.record}
    return result


def report(findings: Iterable[Finding], summary: Callable[[], Summary | None], out: TextIO) -> None:
    """Streamed: results are written as they come, and the rules they used after them (JSON
    objects are unordered, so the run's "tool" may follow its "results")."""
    used: dict[str, int] = {}
    out.write(json.dumps({"$schema": SCHEMA, "version": "2.1.0"})[:-1] + ', "runs": [{"results": [')
    for n, f in enumerate(findings):
        index = used.setdefault(f.code, len(used))
        out.write(("\n" if n == 0 else ",\n") + json.dumps(_result(f, index), ensure_ascii=False))
    rules = []
    for code in used:
        rule = RULES[code]
        rules.append({"id": code, "name": rule.name,
                      "shortDescription": {"text": rule.summary},
                      "help": {"text": rule.hint},
                      "defaultConfiguration": {"level": "error" if rule.severity == "error" else "warning"}})
    tool = {"driver": {"name": "dataforge", "version": dataforge.__version__,
                       "informationUri": "https://pypi.org/project/dataforge-sft/", "rules": rules}}
    out.write('\n], "tool": ' + json.dumps(tool, ensure_ascii=False) + "}]}\n")
