"""The `hf` template: a tokenizer's own Jinja chat_template, with masks over the assistant turns.

With `{% generation %}` markers in the template, the mask is transformers' own
return_assistant_tokens_mask. Without them (most shipped templates), each assistant turn is
found by rendering the conversation up to it twice, with and without that turn, and taking the
text in between; when one prefix is not a prefix of the next, that boundary cannot be found and
the turn is reported in ``warnings`` instead of being guessed.
"""

from __future__ import annotations

from dataforge.errors import DataforgeError
from dataforge.masking.encode import IGNORE, EncodedSample, EncodeOptions, _truncate
from dataforge.masking.tokenizer import TextTokenizer
from dataforge.model import Role, Sample

NAME = "hf"


def chat_messages(sample: Sample) -> list[dict]:
    """The sample as the messages transformers' chat templates take (OpenAI's layout)."""
    out: list[dict] = []
    for m in sample.messages:
        if m.role == Role.TOOL_CALL:
            call = {"type": "function", "function": {"name": m.name, "arguments": m.arguments or {}}}
            if out and out[-1]["role"] == "assistant" and "tool_calls" in out[-1]:
                out[-1]["tool_calls"].append(call)
            else:
                out.append({"role": "assistant", "content": "", "tool_calls": [call]})
        elif m.role == Role.OBSERVATION:
            out.append({"role": "tool", "content": m.content, "name": m.name})
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def encode_hf(sample: Sample, tokenizer: TextTokenizer, options: EncodeOptions = EncodeOptions()
              ) -> tuple[EncodedSample, list[str]]:
    """(encoded sample, warnings) with the tokenizer's chat template."""
    hf = tokenizer.hf
    template = hf.chat_template
    if not template:
        raise DataforgeError(f"tokenizer {tokenizer.name} has no chat_template", hint="choose a built-in --template")
    messages = chat_messages(sample)
    tools = sample.tools if isinstance(sample.tools, list) else None
    try:
        text = hf.apply_chat_template(messages, tools=tools, tokenize=False)
    except Exception as exc:  # a Jinja template can raise anything
        raise DataforgeError(f"the chat template failed to render: {exc}") from None
    warnings: list[str] = []
    ids, offsets = tokenizer.encode(text)
    if "{% generation %}" in template or "{%- generation %}" in template:
        result = hf.apply_chat_template(messages, tools=tools, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
        ids = list(result["input_ids"])
        trained = [bool(x) for x in result["assistant_masks"]]
        if len(ids) != len(offsets):  # the template's own tokenization differs from ours: no spans
            offsets = [(0, 0)] * len(ids)
    else:
        regions = _assistant_regions(hf, messages, tools, text, warnings)
        trained = [any(a <= start and end <= b and start < end for a, b in regions) for start, end in offsets]
    labels = [tid if t else IGNORE for tid, t in zip(ids, trained)]
    message_of = _message_of_tokens(hf, messages, tools, text, offsets)
    roles = [messages[m]["role"] if m >= 0 else "template" for m in message_of]
    keep, cut = _truncate(labels, message_of, sample, options)
    pick = (lambda seq: tuple(seq[i] for i in keep)) if keep is not None else tuple
    trained_before = sum(1 for label in labels if label != IGNORE)
    kinds = ["content" if t else "header" for t in trained]
    encoded = EncodedSample(pick(ids), pick(labels), pick(message_of), pick(roles), pick(offsets), pick(kinds), text,
                            NAME, "unshifted", len(ids), trained_before, cut)
    return encoded, warnings


def _render(hf, messages: list[dict], tools, generation_prompt: bool) -> str:
    return hf.apply_chat_template(messages, tools=tools, tokenize=False, add_generation_prompt=generation_prompt)


def _assistant_regions(hf, messages, tools, text: str, warnings: list[str]) -> list[tuple[int, int]]:
    """Character ranges to train: each reply's text and the special tokens right after it.

    A turn's region is what rendering it adds after the generation prompt; within it, the reply
    text and the end-of-turn tokens that follow are trained, as generation markers would have
    them, and the separators after (a newline, say) are not.
    """
    specials = sorted({t for t in hf.all_special_tokens if t}, key=len, reverse=True)
    regions = []
    for k, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = _render(hf, messages[:k], tools, True) if k else ""
        through = _render(hf, messages[:k + 1], tools, False)
        if not through.startswith(before) or not text.startswith(through):
            warnings.append(f"message {k}: the chat template renders earlier turns differently once this "
                            "assistant turn follows, so its tokens cannot be told apart; it is not trained")
            continue
        start, end = len(before), len(through)
        content = message.get("content") or ""
        found = text.find(content, start, end) if content else -1
        if found != -1:
            end = found + len(content)
            while (token := next((t for t in specials if text.startswith(t, end)), None)) and end < len(through):
                end += len(token)
        regions.append((start, end))
    return regions


def _message_of_tokens(hf, messages, tools, text: str, offsets) -> list[int]:
    """Which message each token belongs to, by where growing prefixes of the conversation end."""
    ends = []
    for k in range(1, len(messages) + 1):
        prefix = _render(hf, messages[:k], tools, False)
        ends.append(len(prefix) if text.startswith(prefix) else None)
    out = []
    for start, _ in offsets:
        index = next((k for k, end in enumerate(ends) if end is not None and start < end), -1)
        out.append(index)
    return out
