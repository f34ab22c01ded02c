"""M rules: what training will see once a sample is tokenized with a template (needs --tokenizer,
--template or --max-len; they use the same masking code as `dataforge preview` and the trainer)."""

from __future__ import annotations

from dataforge.lint.findings import Severity
from dataforge.lint.rules import Rule, register
from dataforge.lint.rules.roles import Report
from dataforge.masking.encode import EncodedSample
from dataforge.masking.preview import summarize
from dataforge.masking.session import MaskingSession, as_conversation
from dataforge.model import Sample

E, W = Severity.ERROR, Severity.WARNING
_LONG = '{"conversations": [{"role": "user", "content": "Tell me about returns."}, {"role": "assistant", "content": ' \
        '"Items can be returned within seven days of delivery, unused and in their original packaging."}]}\n'
_SHORT = '{"conversations": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yes."}]}\n'
_SMALL = {"template": "qwen", "max_len": 13}
register(
    Rule("M001", "nothing-trained-after-truncation", E,
         "Truncation to --max-len removes every trained token of the sample.",
         "The sample would train on nothing (loss 0 or NaN); shorten the prompt, raise --max-len, or drop it.",
         bad=_LONG, good=_SHORT, example_options=_SMALL),
    Rule("M002", "longer-than-max-len", W, "The sample is longer than --max-len tokens and will be cut.",
         "Check what the cut removes with `dataforge preview --max-len`.",
         bad=_LONG, good=_SHORT, example_options={"template": "qwen", "max_len": 30}),
    Rule("M003", "end-of-turn-not-trained", W, "A trained reply's end-of-turn token is not trained.",
         "Without it the model never learns to stop; truncation often cuts it off.",
         bad=_LONG, good=_SHORT, example_options={"template": "qwen", "max_len": 30}),
    Rule("M004", "template-cannot-render", E, "The template cannot lay out this sample.",
         "Choose a template that supports the sample's roles, or fix the roles.",
         bad='{"conversations": [{"role": "user", "content": "hi"}, {"role": "narrator", "content": "x"}, '
             '{"role": "assistant", "content": "hello"}]}\n',
         good=_SHORT, example_options={"template": "qwen"}),
    Rule("M005", "marker-split", W,
         "A marker the template relies on is not one token of this tokenizer.",
         "The template probably belongs to another model family; pair it with that model's tokenizer.",
         bad=_SHORT, good=_SHORT, example_options={"template": "llama3"}),
    Rule("M006", "control-token-in-content", E,
         "Message text contains a control token of the template or tokenizer (e.g. <|im_end|>).",
         "It is encoded as the control token itself and breaks the layout; remove or escape it.",
         bad='{"conversations": [{"role": "user", "content": "hi<|im_end|>"}, {"role": "assistant", "content": "hello"}]}\n',
         good=_SHORT, example_options={"template": "qwen"}),
    Rule("M007", "loss-flag-ignored", W,
         "A message asks to be trained (`loss: true`) in a role the template never trains.",
         "The template follows its model's reference, which never trains that role (ChatGLM3 and Baichuan2 "
         "train replies only); drop the flag, or pick a template that honours it (qwen, llama3, hf ...).",
         bad='{"conversations": [{"role": "user", "content": "hi", "loss": true}, '
             '{"role": "assistant", "content": "hello"}]}\n',
         good=_SHORT, example_options={"template": "chatglm3"}),
)


def control_tokens(session: MaskingSession) -> tuple[str, ...]:
    template_tokens = session.template.control_tokens if session.template is not None else ()
    specials = tuple(t for t in session.tokenizer.hf.all_special_tokens if t)
    return tuple(dict.fromkeys(template_tokens + specials))


def split_markers(session: MaskingSession) -> list[str]:
    """The template's markers that this tokenizer does not hold as single tokens."""
    if session.template is None:
        return []
    return [t for t in session.template.control_tokens if session.tokenizer.token_id(t) is None]


def check_text(sample: Sample, markers: tuple[str, ...], report: Report) -> None:
    for content, path in zip(sample.contents, sample.paths):
        for marker in markers:
            if marker in content:
                report("M006", path, f"the text holds the control token {marker!r}")
                break


def check_flags(sample: Sample, session: MaskingSession, report: Report) -> None:
    never = session.template.never_trained if session.template is not None else ()
    if not never:
        return
    for role, loss, path in zip(sample.roles, sample.losses, sample.paths):
        if loss is True and role in never:
            report("M007", path, f"template {session.template_name} never trains {role} messages: "
                                 "this `loss: true` has no effect")


def check_encoded(sample: Sample, encoded: EncodedSample, session: MaskingSession, report: Report) -> None:
    sample = as_conversation(sample)  # what was encoded
    max_len = session.options.max_len
    if max_len is not None and encoded.length_before > max_len:
        report("M002", "$", f"{encoded.length_before} tokens, longer than --max-len {max_len}")
        if encoded.trained == 0 and encoded.trained_before > 0:
            report("M001", "$", f"truncation to {max_len} tokens removes all {encoded.trained_before} trained tokens")
    summary = summarize(encoded, sample, session.template, session.tokenizer)
    for message, trained in summary.end_of_turn_trained:
        if not trained:
            report("M003", sample.paths[message], "this reply's end-of-turn token is not trained")
