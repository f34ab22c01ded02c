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
    losses = sample.losses
    if losses.count(None) == len(losses):  # no flags: the roles decide
        trained = not TRAINED_BY_DEFAULT.isdisjoint(sample.roles)
    else:
        trained = False
        for role, loss, path in zip(sample.roles, losses, sample.paths):
            if loss is None:
                trained = trained or role in TRAINED_BY_DEFAULT
            elif type(loss) is not bool:
                key = "." + fmt.loss_key
                report("L001", path + key, f"loss must be true or false, got {type_name(loss)} {loss!r}")
            elif loss:
                trained = True
    if not trained and not sample.is_preference and sample.roles:
        report("L002", "$", "no message is trained on")
