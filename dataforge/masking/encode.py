"""Encode rendered samples into token ids and labels, with truncation that reports what it cost.

An EncodedSample is what the preview shows and what the trainer feeds to the model: ids, labels
(-100 where not trained), and for every token the message, role and character span it came from.
The rendered text is tokenized whole, as an inference server tokenizes it (see encode_many for
how labels follow characters); templates whose reference tokenizes in pieces say so (`pieces`).

Label conventions:
- ``unshifted`` (default): labels[i] = ids[i] where token i is trained. Models shift internally.
- ``chatglm3``: the reference ChatGLM3 demo's rule: a mask of 1 over every token of a trained
  message (its role token included), then labels[i] = ids[i] where mask[i-1]. With the chatglm3
  template both give the same labels; the option reproduces the reference for other templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

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


# How many samples go to the tokenizer at once. While Python assembles one batch's labels, the
# next batch is tokenized in Rust on another thread (tokenizers lets go of the GIL), so a batch
# of work keeps both cores busy.
BATCH = 256


def encode_many(samples: Sequence[Sample], template: Template, tokenizer: TextTokenizer,
                options: EncodeOptions = EncodeOptions()) -> list[EncodedSample]:
    """Encode samples as inference does: each rendered text tokenized whole (or in the pieces its
    template's reference uses), markers as their ids, labels from the characters of each token.

    A token that covers trained and untrained characters (a BPE merge across the edge of a
    reply) is trained: no trained character is left out, as transformers' own
    return_assistant_tokens_mask does. Its message, role and kind are those of its first character.
    """
    if len(samples) <= BATCH:
        return _encode_batch(samples, template, tokenizer, options, _tokenize(samples, template, tokenizer, options))
    batches = [samples[i:i + BATCH] for i in range(0, len(samples), BATCH)]
    out: list[EncodedSample] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = pool.submit(_tokenize, batches[0], template, tokenizer, options)
        for k, batch in enumerate(batches):
            tokenized = ahead.result()
            if k + 1 < len(batches):
                ahead = pool.submit(_tokenize, batches[k + 1], template, tokenizer, options)
            out += _encode_batch(batch, template, tokenizer, options, tokenized)
    return out


class _Piece(NamedTuple):
    """Text tokenized as one string (token_id None), or one marker given its id."""

    segments: list[Segment]
    offset: int  # where the piece starts in the rendered text
    token_id: int | None


def _tokenize(samples: Sequence[Sample], template: Template, tokenizer: TextTokenizer,
              options: EncodeOptions) -> tuple[list, list]:
    rendered = [render(s, template, options.mask, eos=tokenizer.eos, bos=tokenizer.bos) for s in samples]
    plans = [_pieces(segments, template, tokenizer) for segments in rendered]
    exact = tokenizer.hf.is_fast
    texts, cuts, groups = [], [], []
    for plan in plans:
        for piece in plan:
            if piece.token_id is None:
                texts.append("".join(seg.text for seg in piece.segments))
                piece_groups, piece_cuts = _groups(piece.segments, exact)
                groups.append(piece_groups)
                cuts.append(piece_cuts)
    return plans, groups, tokenizer.encode_cut(texts, cuts, spans=options.spans)


def _pieces(segments: list[Segment], template: Template, tokenizer: TextTokenizer) -> list[_Piece]:
    """Cut the rendered segments where tokenizing must restart: around markers the tokenizer does
    not find in text, and, for templates whose reference tokenizes in pieces, around every marker
    and at every {break}."""
    pieces: list[_Piece] = []
    current: list[Segment] = []
    offset = start = 0
    for seg in segments:
        token_id = tokenizer.special_id(seg.text) if seg.marker else None
        apart = token_id is not None and (template.pieces or not tokenizer.reads_in_text(seg.text))
        if current and (apart or (template.pieces and (seg.starts_piece or current[-1].marker))):
            pieces.append(_Piece(current, start, None))
            current = []
        if apart:
            pieces.append(_Piece([seg], offset, token_id))
        else:
            if not current:
                start = offset
            current.append(seg)
        offset += len(seg.text)
    if current:
        pieces.append(_Piece(current, start, None))
    return pieces


def _encode_batch(samples: Sequence[Sample], template: Template, tokenizer: TextTokenizer,
                  options: EncodeOptions, tokenized: tuple[list, list, list]) -> list[EncodedSample]:
    plans, all_groups, encodings = tokenized
    encodings = iter(encodings)
    all_groups = iter(all_groups)
    out = []
    for sample, plan in zip(samples, plans):
        ids: list[int] = []
        labels: list[int] = []
        messages: list[int] = []
        roles: list[str] = []
        spans: list[tuple[int, int]] = []
        kinds: list[str] = []
        for piece in plan:
            if piece.token_id is not None:
                seg = piece.segments[0]
                ids.append(piece.token_id)
                labels.append(piece.token_id if seg.trained else IGNORE)
                messages.append(seg.message)
                roles.append(seg.role)
                kinds.append(seg.kind)
                spans.append((piece.offset, piece.offset + len(seg.text)))
                continue
            encoding = next(encodings)
            groups = next(all_groups)
            piece_ids = encoding.ids
            bounds = [0, *encoding.starts, len(piece_ids)]
            base = len(ids)
            ids.extend(piece_ids)
            # Per-token lists are built a group at a time with list.extend, in C: a Python step
            # per token would cost as much as tokenizing.
            for k, seg in enumerate(groups):
                a, b = bounds[k], bounds[k + 1]
                n = max(0, b - a)  # a group inside one token owns none
                labels.extend(piece_ids[a:b] if seg.trained else [IGNORE] * n)
                messages.extend([seg.message] * n)
                roles.extend([seg.role] * n)
                kinds.extend([seg.kind] * n)
                if k and encoding.straddles[k - 1] and seg.trained:  # the token across the cut
                    labels[base + a - 1] = piece_ids[a - 1]
            if options.spans:
                spans.extend((piece.offset + a, piece.offset + b) for a, b in encoding.spans)
        text = "".join(seg.text for piece in plan for seg in piece.segments) if options.spans else ""
        out.append(_finish(sample, template, tokenizer, options, ids, labels, messages, roles, spans, kinds, text))
    return out


def _groups(segments: list[Segment], exact: bool) -> tuple[list[Segment], list[int]]:
    """The segments of a piece merged where nothing that labels need changes, and the character
    positions where one group gives way to the next.

    With offsets (fast tokenizers) a change of kind counts too; without, each cut costs an
    encoding of the text before it, so only changes of message or training count there.
    """
    groups: list[Segment] = []
    cuts: list[int] = []
    previous = None
    position = 0
    for seg in segments:
        key = (seg.message, seg.trained, seg.kind) if exact else (seg.message, seg.trained)
        if key != previous:
            if previous is not None:
                cuts.append(position)
            groups.append(seg)
            previous = key
        position += len(seg.text)
    return groups, cuts


def _finish(sample: Sample, template: Template, tokenizer: TextTokenizer, options: EncodeOptions,
            ids: list[int], labels: list[int], messages: list[int], roles: list[str],
            spans: list[tuple[int, int]], kinds: list[str], text: str) -> EncodedSample:
    if template.end_of_turn_is_next:
        flags = trained_flags(sample, options.mask, template)
        trained = [False] * len(ids)
        _train_as_chatglm3(trained, messages, flags)
        ends = [i for i in range(1, len(messages))
                if messages[i] != messages[i - 1] and messages[i - 1] != TEMPLATE and roles[i - 1] in REPLY_SIDE]
        for i in ends:
            kinds[i] = "end"  # the token after a reply is its end of turn
            if not options.mask.train_end_of_turn:
                trained[i] = False
        labels = [tid if t else IGNORE for tid, t in zip(ids, trained)]
        if template.end_of_turn_label == "{eos}" and tokenizer.hf.eos_token_id is not None:
            for i in ends:
                if trained[i]:
                    labels[i] = int(tokenizer.hf.eos_token_id)
    if options.labels == "chatglm3":
        flags = trained_flags(sample, options.mask, template)
        mask = [m != TEMPLATE and flags[m] for m in messages]
        labels = [IGNORE] + [tid if mask[i - 1] else IGNORE for i, tid in enumerate(ids) if i > 0]
        labels = labels[:len(ids)]
    length_before, trained_before = len(ids), len(labels) - labels.count(IGNORE)
    keep, cut = _truncate(labels, messages, sample, options)
    pick = (lambda seq: tuple(seq[i] for i in keep)) if keep is not None else tuple
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
