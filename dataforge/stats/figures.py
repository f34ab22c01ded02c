"""The figures of a dataset: what `dataforge stats`, its reports and the review app's Stats tab show.

Counts are taken over every sample: formats, kinds (supervised, preference, KTO, pre-training),
messages per role, user turns, the share with tool calls, languages and character lengths.
Token lengths need a tokenizer and a template and cost far more than reading, so they are taken
over at most ``token_sample`` samples spread evenly over the set (every sample when there are
fewer), and the figures say how many.

A sample's language is its script, told by the characters of its messages: Japanese when it has
kana, Korean when it has Hangul, Chinese when it has Han characters (and neither), English/Latin
when it is all ASCII, other otherwise. That is cheap enough for millions of samples and right for
the languages these datasets hold; it does not tell English from French.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from dataforge.model import Role, Sample

TOKEN_SAMPLE = 20_000
PERCENTILES = (50, 90, 99)
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LANGUAGES = ("English/Latin", "Chinese", "Japanese", "Korean", "other")


def language(text: str) -> str:
    if text.isascii():
        return "English/Latin"
    if _KANA.search(text):
        return "Japanese"
    if _HANGUL.search(text):
        return "Korean"
    if _HAN.search(text):
        return "Chinese"
    return "other"


def kind(sample: Sample, conversational: bool = True) -> str:
    if not conversational:
        return "pre-training"
    if sample.is_preference:
        return "preference"
    if type((sample.extra or {}).get("label")) is bool:
        return "KTO"
    return "supervised"


@dataclass
class TokenFigures:
    template: str
    tokenizer: str
    counted: int  # samples tokenized
    lengths: np.ndarray  # tokens per sample, before any cut
    trained: np.ndarray  # trained tokens per sample (after the cut at max_len, when one is given)
    max_len: int | None

    @property
    def over_max(self) -> int:
        return int((self.lengths > self.max_len).sum()) if self.max_len else 0

    @property
    def nothing_trained(self) -> int:
        return int((self.trained == 0).sum())


@dataclass
class Figures:
    samples: int = 0
    unreadable: int = 0
    formats: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    roles: Counter = field(default_factory=Counter)  # messages by role
    languages: Counter = field(default_factory=Counter)
    with_tool_calls: int = 0
    turns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # user turns per sample
    chars: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # characters per sample
    tokens: TokenFigures | None = None

    def percentiles(self, values: np.ndarray) -> dict[str, int]:
        if not len(values):
            return {}
        out = {f"p{p}": int(np.percentile(values, p)) for p in PERCENTILES}
        return {"min": int(values.min()), **out, "max": int(values.max()), "mean": round(float(values.mean()), 1)}

    def as_dict(self) -> dict:
        """Everything as plain JSON values (`stats --json`, the HTML report)."""
        out = {"samples": self.samples, "unreadable": self.unreadable, "formats": dict(self.formats),
               "kinds": dict(self.kinds), "messages_by_role": dict(self.roles),
               "languages": dict(self.languages.most_common()),
               "tool_call_share": round(self.with_tool_calls / self.samples, 4) if self.samples else 0.0,
               "user_turns": self.percentiles(self.turns), "characters": self.percentiles(self.chars)}
        t = self.tokens
        if t is not None:
            out["tokens"] = {"template": t.template, "tokenizer": t.tokenizer, "samples_counted": t.counted,
                             "lengths": self.percentiles(t.lengths), "trained": self.percentiles(t.trained),
                             "max_len": t.max_len, "over_max_len": t.over_max,
                             "share_over_max_len": round(t.over_max / t.counted, 4) if t.counted else 0.0,
                             "nothing_trained": t.nothing_trained,
                             "share_nothing_trained": round(t.nothing_trained / t.counted, 4) if t.counted else 0.0}
        return out


class Counting:
    """Figures built one sample at a time (in file order), so millions never sit in memory."""

    def __init__(self) -> None:
        self.figures = Figures()
        self._turns: list[int] = []
        self._chars: list[int] = []

    def add(self, sample: Sample, format_name: str, conversational: bool = True) -> None:
        f = self.figures
        f.samples += 1
        f.formats[format_name] += 1
        f.kinds[kind(sample, conversational)] += 1
        roles = sample.roles
        f.roles.update(roles)
        if Role.TOOL_CALL in roles:
            f.with_tool_calls += 1
        self._turns.append(roles.count(Role.USER))
        contents = sample.contents
        if sample.chosen is not None or sample.rejected is not None:
            contents = (*contents, *(r.content for r in (sample.chosen, sample.rejected) if r is not None))
        text = "".join(contents)
        self._chars.append(len(text))
        f.languages[language(text)] += 1

    def unreadable(self) -> None:
        self.figures.unreadable += 1

    def merge(self, other: Counting) -> None:
        """Add the counts of ``other`` (a worker's share of the file, which comes after ours)."""
        f, g = self.figures, other.figures
        f.samples += g.samples
        f.unreadable += g.unreadable
        f.with_tool_calls += g.with_tool_calls
        for name in ("formats", "kinds", "roles", "languages"):
            getattr(f, name).update(getattr(g, name))
        self._turns.extend(other._turns)
        self._chars.extend(other._chars)

    def done(self) -> Figures:
        f = self.figures
        f.turns = np.array(self._turns, dtype=np.int32)
        f.chars = np.array(self._chars, dtype=np.int64)
        return f


def spread(total: int, limit: int) -> range:
    """``limit`` positions spread evenly over ``total`` (every one when there are fewer)."""
    if total <= limit:
        return range(total)
    return range(0, total, total // limit)[:limit]


def token_figures(samples: list[Sample], masking, tokenizer_name: str) -> TokenFigures:
    """Token lengths of ``samples`` through a MaskingSession (the very encoding preview shows)."""
    encoded = masking.encode_many(samples) if samples else []
    return TokenFigures(masking.template_name, tokenizer_name, len(encoded),
                        np.array([e.length_before for e in encoded], dtype=np.int64),
                        np.array([e.trained if masking.options.max_len else e.trained_before for e in encoded],
                                 dtype=np.int64),
                        masking.options.max_len)


def count_samples(samples: Iterable[tuple[Sample | None, str, bool]]) -> Figures:
    """Figures of (sample or None for unreadable, format name, conversational) triples."""
    counting = Counting()
    for sample, fmt, conversational in samples:
        if sample is None:
            counting.unreadable()
        else:
            counting.add(sample, fmt, conversational)
    return counting.done()
