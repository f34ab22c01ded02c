"""From generated question/answer pairs (or conversations) to records in the target format,
each with its provenance."""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from functools import lru_cache

from dataforge.docx_source.chunker import Chunk
from dataforge.formats import get_format
from dataforge.formats.base import PROVENANCE, Problem
from dataforge.model import Message, Role, Sample

TARGETS = ("alpaca", "openai", "chatglm3")
PROMPT_VERSION = "dataforge-generate-1"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def language_of(text: str) -> str:
    """"zh" when a fifth of the letters are CJK, else "en": the language records are asked in."""
    letters = sum(1 for c in text if c.isalpha())
    return "zh" if letters and len(_CJK.findall(text)) / letters > 0.2 else "en"


def pair_sample(question: str, answer: str) -> Sample:
    return Sample.of((Message(Role.USER, question), Message(Role.ASSISTANT, answer)))


def provenance(chunk: Chunk, generator: str, method: str, model: str | None = None) -> dict:
    return {"source": chunk.source, "heading_path": list(chunk.heading_path),
            "blocks": [chunk.first_block, chunk.last_block], "chunk": chunk.id, "generator": generator,
            "method": method, "model": model, "prompt_version": PROMPT_VERSION,
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def to_record(sample: Sample, target: str, origin: dict) -> dict:
    record, _ = get_format(target).write(sample)
    record[PROVENANCE] = origin
    return record


def problems_of(record: dict, target: str) -> list[Problem]:
    """What lint would say about one generated record: it is kept only when this is empty.

    Warnings count too: a generated record with an unknown key or an empty reply is not kept.
    The project's lint settings apply (a rule it ignores does not reject records either).
    """
    findings = _linter(target, os.getcwd()).check_value(record)
    return [Problem(f.code, f.location.path, f.message) for f in findings]


@lru_cache(maxsize=8)
def _linter(target: str, folder: str):
    from dataforge.lint.record import RecordLinter

    return RecordLinter(get_format(target))
