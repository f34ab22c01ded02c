"""Encode rendered samples into token ids and labels, with truncation that reports what it cost.

An EncodedSample is what the preview shows and what the trainer feeds to the model: ids, labels
(-100 where not trained), and for every token the message, role and character span it came from.

Label conventions:
- ``unshifted`` (default): labels[i] = ids[i] where token i is trained. Models shift internally.
- ``chatglm3``: the reference ChatGLM3 demo's rule: a mask of 1 over every token of a trained
  message (its role token included), then labels[i] = ids[i] where mask[i-1]. With the chatglm3
  template both give the same labels; the option reproduces the reference for other templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dataforge.errors import DataforgeError
from dataforge.masking.tokenizer import TextTokenizer
from dataforge.model import REPLY_SIDE, Role, Sample
from dataforge.templates.model import Template
from dataforge.templates.render import TEMPLATE, MaskOptions, Segment, render, trained_flags

IGNORE = -100
TRUNCATIONS = ("right", "turns", "budget")
CONVENTIONS = ("unshifted", "chatglm3")


@dataclass(frozen=True)
class EncodeOptions:
    mask: MaskOptions = MaskOptions()
    max_len: int | None = None
    #: right: cut the end; turns: drop the oldest whole turns first; budget: the prompt gets at
    #: most prompt_share of max_len (cut at its end, as ChatGLM3 cuts the source), the answer the rest
    truncation: str = "right"
    prompt_share: float = 0.5
    labels: str = "unshifted"
    #: character spans per token, for showing tokens; training and lint do without (it halves the cost)
    spans: bool = False

    def __post_init__(self) -> None:
        if self.truncation not in TRUNCATIONS:
            raise DataforgeError(f"unknown truncation {self.truncation!r}", hint="one of: " + ", ".join(TRUNCATIONS))
        if self.labels not in CONVENTIONS:
            raise DataforgeError(f"unknown label convention {self.labels!r}", hint="one of: " + ", ".join(CONVENTIONS))
        if self.max_len is not None and self.max_len < 1:
            raise DataforgeError("--max-len must be a positive number of tokens")


@dataclass(frozen=True)
class EncodedSample:
    input_ids: tuple[int, ...]
    labels: tuple[int, ...]
    messages: tuple[int, ...]  # per token: index into the sample's messages, -1 for template text
    roles: tuple[str, ...]  # per token
    spans: tuple[tuple[int, int], ...]  # per token: characters of `text` (empty unless options.spans)
    kinds: tuple[str, ...]  # per token: the segment kind (header, content, end, separator, ...)
    text: str  # the rendered sample before truncation (empty unless options.spans)
    template: str
    convention: str
    length_before: int  # tokens before truncation
    trained_before: int  # trained tokens before truncation
    cut: int | None = None  # where truncation removed tokens (index in the kept sequence), if it did

    @property
    def attention_mask(self) -> tuple[int, ...]:
        return (1,) * len(self.input_ids)

    @property
    def trained(self) -> int:
        return len(self.labels) - self.labels.count(IGNORE)

    @property
    def lost_trained(self) -> int:
        return self.trained_before - self.trained

    def __len__(self) -> int:
        return len(self.input_ids)


def encode(sample: Sample, template: Template, tokenizer: TextTokenizer,
           options: EncodeOptions = EncodeOptions()) -> EncodedSample:
    return encode_many([sample], template, tokenizer, options)[0]


def encode_many(samples: Sequence[Sample], template: Template, tokenizer: TextTokenizer,
                options: EncodeOptions = EncodeOptions()) -> list[EncodedSample]:
    """Encode a batch: one tokenizer call for every text of every sample (fast on all cores)."""
    rendered = [render(s, template, options.mask, eos=tokenizer.eos, bos=tokenizer.bos) for s in samples]
    # The template's own text repeats in every sample: encode each distinct piece once.
    cache = tokenizer._cache
    todo = list({seg.text for segments in rendered for seg in segments
                 if seg.kind != "content" and seg.text not in cache})
    for text, encoded in zip(todo, tokenizer.encode_many(todo)):  # with spans: cached for good
        cache[text] = encoded
    contents = [seg.text for segments in rendered for seg in segments if seg.kind == "content"]
    encoded_contents = iter(tokenizer.encode_many(contents, spans=options.spans))
    out = []
    for sample, segments in zip(samples, rendered):
        pieces = [next(encoded_contents) if seg.kind == "content" else cache[seg.text] for seg in segments]
        out.append(_assemble(sample, segments, pieces, template, options))
    return out


def _assemble(sample: Sample, segments: list[Segment], pieces, template: Template,
              options: EncodeOptions) -> EncodedSample:
    """Join the segments' tokens. Per-token lists are built a segment at a time with list.extend,
    in C: a Python step per token would cost as much as tokenizing."""
    ids: list[int] = []
    labels: list[int] = []
    messages: list[int] = []
    roles: list[str] = []
    spans: list[tuple[int, int]] = []
    kinds: list[str] = []
    start = 0
    for seg, (seg_ids, offsets) in zip(segments, pieces):
        n = len(seg_ids)
        ids.extend(seg_ids)
        labels.extend(seg_ids if seg.trained else [IGNORE] * n)
        kinds.extend([seg.kind] * n)
        messages.extend([seg.message] * n)
        roles.extend([seg.role] * n)
        if options.spans:
            spans.extend((start + a, start + b) for a, b in offsets)
            start += len(seg.text)
    if template.end_of_turn_is_next:
        trained = [label != IGNORE for label in labels]
        _train_as_chatglm3(trained, messages, trained_flags(sample, options.mask))
        if not options.mask.train_end_of_turn:  # the ending token of each reply goes back to untrained
            for i in range(1, len(messages)):
                if messages[i] != messages[i - 1] and messages[i - 1] != TEMPLATE and roles[i - 1] in REPLY_SIDE:
                    trained[i] = False
        labels = [tid if t else IGNORE for tid, t in zip(ids, trained)]
        for i in range(1, len(kinds)):  # the token after a reply is its end of turn
            if messages[i] != messages[i - 1] and roles[i - 1] in REPLY_SIDE:
                kinds[i] = "end"
    if options.labels == "chatglm3":
        flags = trained_flags(sample, options.mask)
        mask = [m != TEMPLATE and flags[m] for m in messages]
        labels = [IGNORE] + [tid if mask[i - 1] else IGNORE for i, tid in enumerate(ids) if i > 0]
        labels = labels[:len(ids)]
    length_before, trained_before = len(ids), len(labels) - labels.count(IGNORE)
    keep, cut = _truncate(labels, messages, sample, options)
    pick = (lambda seq: tuple(seq[i] for i in keep)) if keep is not None else tuple
    text = "".join(seg.text for seg in segments) if options.spans else ""
    return EncodedSample(pick(ids), pick(labels), pick(messages), pick(roles), pick(spans) if spans else (),
                         pick(kinds), text, template.name, options.labels, length_before, trained_before, cut)


def _train_as_chatglm3(trained: list[bool], messages: list[int], flags: list[bool]) -> None:
    """ChatGLM3 trains a message from the token after its role token through the token after it.

    That is its reference rule (a mask over the whole message, shifted right by one) written
    without the shift: the role token stays untrained, the metadata line and text are trained,
    and the next role token (or the final EOS) ends the message, trained, so the model learns
    to stop.
    """
    n = len(messages)
    for i in range(n):
        m = messages[i]
        if m == TEMPLATE or not flags[m]:
            continue
        if i > 0 and messages[i - 1] == m:  # not the role token
            trained[i] = True
        if i + 1 < n and messages[i + 1] != m:  # the token that ends the message
            trained[i + 1] = True


def _truncate(labels: list[int], messages: list[int], sample: Sample,
              options: EncodeOptions) -> tuple[list[int] | None, int | None]:
    """Indices of the tokens to keep (None: all), and where the cut is in the kept sequence."""
    n, max_len = len(labels), options.max_len
    if max_len is None or n <= max_len:
        return None, None
    if options.truncation == "turns":
        keep = _drop_oldest_turns(messages, sample, max_len)
        if len(keep) > max_len:
            return keep[:max_len], max_len
        first_kept = next((i for i, k in enumerate(keep) if k != i), len(keep))
        return keep, first_kept
    if options.truncation == "budget":
        first_answer = next((i for i, label in enumerate(labels) if label != IGNORE), n)
        prompt = min(first_answer, max(1, int(max_len * options.prompt_share)))
        answer = max_len - prompt
        keep = list(range(prompt)) + list(range(first_answer, min(n, first_answer + answer)))
        return keep, prompt if prompt < first_answer else len(keep)
    return list(range(max_len)), max_len


def _drop_oldest_turns(messages: list[int], sample: Sample, max_len: int) -> list[int]:
    """Token indices left after removing whole turns (a user message up to the next), oldest first.

    System text, the template's own text and the last turn always stay.
    """
    starts = [i for i, role in enumerate(sample.roles) if role == Role.USER]
    turns = [(a, b) for a, b in zip(starts, starts[1:])]  # every turn but the last can go
    dropped: set[int] = set()
    length = len(messages)
    for a, b in turns:
        if length <= max_len:
            break
        removed = {m for m in range(a, b)}
        length -= sum(1 for m in messages if m in removed)
        dropped |= removed
    return [i for i, m in enumerate(messages) if m not in dropped]
