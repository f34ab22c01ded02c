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
    results = []
    used: dict[str, int] = {}
    for f in findings:
        index = used.setdefault(f.code, len(used))
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
        results.append(result)
    rules = []
    for code in used:
        rule = RULES[code]
        rules.append({"id": code, "name": rule.name,
                      "shortDescription": {"text": rule.summary},
                      "help": {"text": rule.hint},
                      "defaultConfiguration": {"level": "error" if rule.severity == "error" else "warning"}})
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "dataforge", "version": dataforge.__version__,
                                "informationUri": "https://pypi.org/project/dataforge-sft/", "rules": rules}},
            "results": results,
        }],
    }


def report(findings: Iterable[Finding], summary: Callable[[], Summary], out: TextIO) -> None:
    json.dump(sarif_log(findings), out, ensure_ascii=False, indent=2)
    out.write("\n")
