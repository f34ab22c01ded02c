"""P rules: preference pairs for DPO-style training."""

from __future__ import annotations

from dataforge.formats.base import Format
from dataforge.lint.findings import Severity
from dataforge.lint.rules import Rule, register
from dataforge.lint.rules.roles import Report
from dataforge.model import Sample

register(
    Rule("P001", "missing-pair", Severity.ERROR, "A preference record lacks its chosen or its rejected reply.",
         "Preference training compares two replies to the same prompt; supply both.",
         bad='{"prompt": "hi", "chosen": "hello!"}\n', good='{"prompt": "hi", "chosen": "hello!", "rejected": "go away"}\n'),
    Rule("P002", "identical-pair", Severity.WARNING, "The chosen and rejected replies are the same.",
         "An identical pair teaches nothing and can destabilise DPO; make them differ or drop the record.",
         bad='{"prompt": "hi", "chosen": "hello", "rejected": "hello"}\n',
         good='{"prompt": "hi", "chosen": "hello", "rejected": "go away"}\n'),
)


def check(sample: Sample, fmt: Format, report: Report) -> None:
    if not sample.is_preference:
        return
    for key in ("chosen", "rejected"):
        if getattr(sample, key) is None:
            report("P001", f"$.{key}", f"no {key} reply")
    if sample.chosen is not None and sample.rejected is not None and sample.chosen.content == sample.rejected.content \
            and sample.chosen.arguments == sample.rejected.arguments:
        report("P002", "$.rejected", "chosen and rejected are identical")
