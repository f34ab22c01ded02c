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
from dataforge.templates.render import call_values, tool_list, trained_flags

NAME = "hf"


def chat_messages(sample: Sample) -> list[dict]:
    """The sample as the messages transformers' chat templates take (OpenAI's layout)."""
    return _chat(sample)[0]


def _chat(sample: Sample) -> tuple[list[dict], list[list[int]]]:
    """(chat messages, the sample's message indices in each). A reply and the tool calls right
    after it are one assistant message, as OpenAI's layout and the models' templates have them."""
    out: list[dict] = []
    members: list[list[int]] = []
    for i, m in enumerate(sample.messages):
        if m.role == Role.TOOL_CALL:
            values = call_values(m)
            call = {"type": "function", "function": {"name": values["name"], "arguments": values["parsed"]}}
            if out and out[-1]["role"] == "assistant" and members[-1][-1] == i - 1:
                out[-1].setdefault("tool_calls", []).append(call)
                members[-1].append(i)
                continue
            out.append({"role": "assistant", "content": "", "tool_calls": [call]})
        elif m.role == Role.OBSERVATION:
            out.append({"role": "tool", "content": m.content, "name": m.name})
        else:
            out.append({"role": m.role, "content": m.content})
        members.append([i])
    return out, members


def encode_hf(sample: Sample, tokenizer: TextTokenizer, options: EncodeOptions = EncodeOptions()
              ) -> tuple[EncodedSample, list[str]]:
    """(encoded sample, warnings) with the tokenizer's chat template.

    Messages' `loss` flags (and the run's mask options) decide what is trained, as with the
    built-in templates: a reply with `loss: false` is not trained, a user message with
    `loss: true` is (its text). A reply's trained span runs from its text through the special
    tokens that close it; the separator after it (a newline, say) is never trained.
    """
    hf = tokenizer.hf
    template = hf.chat_template
    if not template:
        raise DataforgeError(f"tokenizer {tokenizer.name} has no chat_template", hint="choose a built-in --template")
    messages, members = _chat(sample)
    flags = trained_flags(sample, options.mask)
    wanted = [any(flags[j] for j in group) for group in members]
    tools = tool_list(sample.tools)
    tools = tools if isinstance(tools, list) else None
    try:
        text = hf.apply_chat_template(messages, tools=tools, tokenize=False)
    except Exception as exc:  # a Jinja template can raise anything
        raise DataforgeError(f"the chat template failed to render: {exc}") from None
    warnings: list[str] = []
    ids, offsets = tokenizer.encode(text)
    regions = _regions(hf, messages, wanted, tools, text, warnings)
    message_of = _message_of_tokens(hf, messages, tools, text, offsets)
    if "{% generation %}" in template or "{%- generation %}" in template:
        result = hf.apply_chat_template(messages, tools=tools, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
        if list(result["input_ids"]) != list(ids):  # the template's own tokenization differs from ours
            ids, offsets = list(result["input_ids"]), [(0, 0)] * len(result["input_ids"])
            message_of = [-1] * len(ids)
        marked = [bool(x) for x in result["assistant_masks"]]
        # transformers marks every assistant turn: keep those the sample trains, add trained prompts
        trained = [(t and (m < 0 or wanted[m])) or _inside(regions, a, b, prompt_only=True)
                   for t, m, (a, b) in zip(marked, message_of, offsets)]
    else:
        trained = [_inside(regions, a, b) for a, b in offsets]
    labels = [tid if t else IGNORE for tid, t in zip(ids, trained)]
    kinds = ["header"] * len(ids)
    for i, ((a, b), t) in enumerate(zip(offsets, trained)):
        if t:
            kinds[i] = "end" if any(start <= a and a >= content_end and b <= end
                                    for start, content_end, end, _ in regions) else "content"
    sample_index = [members[m][0] if m >= 0 else -1 for m in message_of]
    roles = [sample.roles[m] if m >= 0 else "template" for m in sample_index]
    keep, cut = _truncate(labels, sample_index, sample, options)
    pick = (lambda seq: tuple(seq[i] for i in keep)) if keep is not None else tuple
    trained_before = sum(1 for label in labels if label != IGNORE)
    encoded = EncodedSample(pick(ids), pick(labels), pick(sample_index), pick(roles), pick(offsets), pick(kinds),
                            text, NAME, "unshifted", len(ids), trained_before, cut)
    return encoded, warnings


def _inside(regions, a: int, b: int, prompt_only: bool = False) -> bool:
    """Whether the token covering characters [a, b) holds a character of a trained region."""
    return any(start < b and a < end and b > a and (not prompt_only or not reply)
               for start, _, end, reply in regions)


def _render(hf, messages: list[dict], tools, generation_prompt: bool) -> str:
    return hf.apply_chat_template(messages, tools=tools, tokenize=False, add_generation_prompt=generation_prompt)


def _regions(hf, messages, wanted: list[bool], tools, text: str, warnings: list[str]) -> list[tuple[int, int, int, bool]]:
    """(start, end of the text, end, is a reply) of each trained message's characters.

    A reply's region is what rendering it adds after the generation prompt: its text and the
    special tokens right after (the end of turn, as generation markers would have them), or, for
    a reply with tool calls or no text, everything it adds but the trailing whitespace. A trained
    prompt's region is its text.
    """
    specials = sorted({t for t in hf.all_special_tokens if t}, key=len, reverse=True)
    regions = []
    for k, message in enumerate(messages):
        if not wanted[k]:
            continue
        reply = message["role"] == "assistant"
        before = _render(hf, messages[:k], tools, reply) if k else ""
        through = _render(hf, messages[:k + 1], tools, False)
        if not through.startswith(before) or not text.startswith(through):
            warnings.append(f"message {k}: the chat template renders earlier turns differently once this "
                            f"{message['role']} turn follows, so its tokens cannot be told apart; it is not trained")
            continue
        start, end = len(before), len(through)
        content = message.get("content") or ""
        found = text.find(content, start, end) if content else -1
        if not reply:
            if found != -1:
                regions.append((found, found + len(content), found + len(content), False))
            continue
        if found != -1 and not message.get("tool_calls"):
            content_end = end = found + len(content)
            while (token := next((t for t in specials if text.startswith(t, end)), None)) and end < len(through):
                end += len(token)
        else:
            while end > start and text[end - 1].isspace():
                end -= 1
            content_end = end
            tail = next((t for t in specials if text.endswith(t, start, end)), None)
            if tail:  # the end-of-turn token closes the calls
                content_end = end - len(tail)
        regions.append((start, content_end, end, True))
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
