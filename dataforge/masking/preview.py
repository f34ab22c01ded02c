"""What the mask preview shows, as data: one row per token, and a summary of what is trained.

Renderers (the CLI's table, JSON and sanity listing; the review app) only lay these out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dataforge.masking.encode import IGNORE, EncodedSample
from dataforge.masking.tokenizer import TextTokenizer
from dataforge.model import REPLY_SIDE, Sample
from dataforge.templates.model import Template

_VISIBLE = str.maketrans({" ": "·", "\n": "↵", "\t": "→", "\r": "␍"})


def visible(text: str) -> str:
    """Whitespace drawn as symbols: space ·, newline ↵, tab →, carriage return ␍."""
    return text.translate(_VISIBLE)


@dataclass(frozen=True)
class TokenRow:
    index: int
    text: str  # the token's text, whitespace made visible
    raw: str  # the token's text as it is
    token_id: int
    label: int
    role: str
    message: int  # -1: the template's own text
    kind: str

    @property
    def trained(self) -> bool:
        return self.label != IGNORE


@dataclass(frozen=True)
class TurnSummary:
    message: int
    role: str
    tokens: int
    trained: int


@dataclass(frozen=True)
class Summary:
    tokens: int
    trained: int
    length_before: int
    trained_before: int
    cut: int | None
    turns: tuple[TurnSummary, ...]
    #: per trained reply: is its end-of-turn token trained (False: cut off or masked)
    end_of_turn_trained: tuple[tuple[int, bool], ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def ratio(self) -> float:
        return self.trained / self.tokens if self.tokens else 0.0


def token_rows(encoded: EncodedSample, tokenizer: TextTokenizer) -> list[TokenRow]:
    """One row per token. Tokens that each hold part of one character (a rare CJK character in
    byte-level BPE is two or three tokens) are shown as their bytes, ‹e9 be›, not as the whole
    character once per piece; the text column keeps the character they share."""
    rows = []
    spans = encoded.spans
    for i, (tid, label, message, role, (a, b), kind) in enumerate(zip(
            encoded.input_ids, encoded.labels, encoded.messages, encoded.roles, spans, encoded.kinds)):
        text = encoded.text[a:b] if b > a else tokenizer.token_text(tid)
        shown = visible(text)
        shared = b > a and ((i > 0 and spans[i - 1] == (a, b)) or (i + 1 < len(spans) and spans[i + 1] == (a, b)))
        if shared:
            piece = tokenizer.token_bytes(tid)
            shown = "‹" + (piece.hex(" ") if piece else "?") + "›"
        rows.append(TokenRow(i, shown, text, tid, label, role, message, kind))
    return rows


def summarize(encoded: EncodedSample, sample: Sample, template: Template | None,
              tokenizer: TextTokenizer, extra_notes: list[str] = ()) -> Summary:
    turns: dict[int, list[int]] = {}
    for message, label in zip(encoded.messages, encoded.labels):
        counts = turns.setdefault(message, [0, 0])
        counts[0] += 1
        counts[1] += label != IGNORE
    roles = sample.roles
    turn_rows = tuple(TurnSummary(m, roles[m] if m >= 0 else "template", n, t) for m, (n, t) in sorted(turns.items()))
    ends = []
    for m, role in enumerate(roles):
        if role not in REPLY_SIDE or not turns.get(m, (0, 0))[1]:
            continue  # only replies that are trained at all need their end trained
        positions = [i for i, (msg, kind) in enumerate(zip(encoded.messages, encoded.kinds))
                     if kind == "end" and (msg == m or (i > 0 and encoded.messages[i - 1] == m))]
        ends.append((m, any(encoded.labels[i] != IGNORE for i in positions)))
    return Summary(len(encoded), encoded.trained, encoded.length_before, encoded.trained_before, encoded.cut,
                   turn_rows, tuple(ends), tuple(_notes(template, tokenizer)) + tuple(extra_notes))


def _notes(template: Template | None, tokenizer: TextTokenizer) -> list[str]:
    if template is None:
        return []
    missing = [token for token in template.control_tokens if tokenizer.token_id(token) is None]
    if not missing:
        return []
    return [f"{tokenizer.name} has no token for {', '.join(missing)}: the {template.name} template's markers "
            "are encoded as ordinary text here; use the model's own tokenizer to see its real special tokens"]
