"""`dataforge mix SOURCE[:WEIGHT]...`: several sources, in any formats, into one file of one format.

A WEIGHT multiplies its source's share: 1 (the default) takes every record once, 0.5 half of
them, 2.5 every record twice and half of them once more. The fractional part is drawn without
replacement, so no record repeats within a pass; `replacement=True` instead draws
round(WEIGHT x records) records with replacement (a bootstrap). The draw and the final order
(shuffled unless ``shuffle=False``) come from one seeded generator: the same seed and sources give
the same file, byte for byte.

Each written record keeps its provenance: the ``provenance`` object gains ``source`` (file,
record, line, format); a generated record's own provenance (document, chunk, model) stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dataforge.collect import Collected, collect
from dataforge.errors import DataforgeError
from dataforge.formats import get_format
from dataforge.formats.base import PROVENANCE
from dataforge.jsonio.layout import RecordWriter, is_json_lines
from dataforge.jsonio.write import atomic_writer, check_output
from dataforge.lint.engine import LintOptions
from dataforge.model import Sample


@dataclass
class Source:
    path: str
    weight: float = 1.0


@dataclass
class SourceResult:
    path: str
    weight: float
    records: int  # usable samples in the source
    taken: int


@dataclass
class MixResult:
    written: int = 0
    sources: list[SourceResult] = field(default_factory=list)
    skipped: list = field(default_factory=list)  # collect's Skipped, plus samples the target cannot hold
    lossy: int = 0
    notes: list[str] = field(default_factory=list)


def parse_source(text: str) -> Source:
    """``PATH`` or ``PATH:WEIGHT`` (a path may itself hold colons; the weight is a number)."""
    path, sep, weight = text.rpartition(":")
    if sep and path:
        try:
            value = float(weight)
        except ValueError:
            return Source(text)
        if not value >= 0 or value == float("inf"):
            raise DataforgeError(f"{text}: a weight is a number from 0 up, not {weight}")
        return Source(path, value)
    return Source(text)


def draw(count: int, weight: float, rng: np.random.Generator, replacement: bool) -> list[int]:
    """Record positions to take from a source of ``count`` records."""
    if count == 0:
        return []
    if replacement:
        return rng.integers(0, count, size=round(weight * count)).tolist()
    whole = int(weight)
    part = round((weight - whole) * count)
    return list(range(count)) * whole + sorted(rng.choice(count, size=part, replace=False).tolist())


def mix(sources: Sequence[Source], target: str, out: str | Path, seed: int = 0, replacement: bool = False,
        shuffle: bool = True, skip_bad: bool = False, force: bool = False,
        lint_options: LintOptions | None = None) -> MixResult:
    fmt = get_format(target)
    out = Path(out)
    result = MixResult()
    gathered: list[tuple[Source, Collected]] = [(s, collect([s.path], skip_bad=skip_bad, options=lint_options))
                                                for s in sources]
    check_output(out, [f for _, c in gathered for f in c.files], force)
    rng = np.random.default_rng(seed)
    picked: list[Sample] = []
    for source, collected in gathered:
        result.skipped.extend(collected.skipped)
        positions = draw(len(collected.samples), source.weight, rng, replacement)
        picked.extend(collected.samples[i] for i in positions)
        result.sources.append(SourceResult(source.path, source.weight, len(collected.samples), len(positions)))
    order = rng.permutation(len(picked)).tolist() if shuffle else range(len(picked))
    with atomic_writer(out) as f:
        writer = RecordWriter(f, is_json_lines(out))
        for i in order:
            sample = picked[i]
            if fmt.conversational and not get_format(sample.meta["format"]).conversational:
                result.skipped.append(_skip(sample, "pre-training text holds no conversation"))
                continue
            record, losses = fmt.write(with_source(sample))
            writer.write(record)
            result.written += 1
            if losses:
                result.lossy += 1
                result.notes.extend(f"{sample.meta['file']} record {sample.meta['record']}: {m}" for m in losses)
        writer.close()
    return result


def with_source(sample: Sample) -> Sample:
    """``sample`` with where it came from added to its provenance."""
    meta = sample.meta or {}
    source = {k: meta[k] for k in ("file", "record", "line", "format") if k in meta}
    extra = dict(sample.extra or {})
    kept = extra.get(PROVENANCE)
    extra[PROVENANCE] = {**kept, "source": source} if isinstance(kept, dict) else (
        {"source": source} if kept is None else {"original": kept, "source": source})
    return sample._replace(extra=extra)


def _skip(sample: Sample, why: str):
    from dataforge.collect import Skipped

    meta = sample.meta or {}
    return Skipped(meta.get("file", "?"), meta.get("record"), meta.get("line", 0), why)
