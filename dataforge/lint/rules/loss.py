"""L rules: the per-message `loss` flags, and whether anything is trained at all."""

from __future__ import annotations

from dataforge.formats.base import Format, type_name
from dataforge.lint.findings import Severity
from dataforge.lint.rules import Rule, register
from dataforge.lint.rules.roles import Report
from dataforge.model import TRAINED_BY_DEFAULT, Sample

register(
    Rule("L001", "loss-not-boolean", Severity.ERROR, "A `loss` flag is not a JSON boolean.",
         "Write true or false without quotes; \"false\" is a non-empty string and counts as true in Python.",
         bad='{"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello", '
             '"loss": "false"}, {"role": "user", "content": "bye"}, {"role": "assistant", "content": "bye"}]}\n',
         good='{"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello", '
              '"loss": false}, {"role": "user", "content": "bye"}, {"role": "assistant", "content": "bye"}]}\n'),
    Rule("L002", "nothing-trained", Severity.ERROR, "No message of the sample is trained on.",
         "Every message has loss=false or a role that is never trained; the sample only costs compute.",
         bad='{"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello", '
             '"loss": false}]}\n',
         good='{"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'),
)


def check(sample: Sample, fmt: Format, report: Report) -> None:
    trained = False
    for m in sample.messages:
        loss = m.loss
        if loss is None:
            if not trained and m.role in TRAINED_BY_DEFAULT:
                trained = True
        elif type(loss) is not bool:
            key = ".weight" if fmt.name == "openai" else ".loss"
            report("L001", m.path + key, f"loss must be true or false, got {type_name(loss)} {loss!r}")
        elif loss:
            trained = True
    if not trained and not sample.is_preference and sample.messages:
        report("L002", "$", "no message is trained on")
