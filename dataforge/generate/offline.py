"""The embedded generator: records from the document's own structure, no model, no API key.

- explicit question/answer pairs (Q:/A:, Question:/Answer:, 问：/答：) become pairs as written;
- each table row becomes a question about its last column given the others, answered by it;
- the rest of a section (paragraphs and lists) answers a question made from its heading.

It makes the pipeline run on a fresh machine, and it is honest about what it is: every record
says `"generator": "offline"` and which of the three methods made it.
"""

from __future__ import annotations

import re

from dataforge.docx_source.chunker import Chunk, blocks_text
from dataforge.generate.records import language_of

_QUESTION = re.compile(r"^\s*(?:Q|Question|问|問|问题)\s*[:：]\s*(.+)$", re.I | re.S)
_ANSWER = re.compile(r"^\s*(?:A|Answer|答|回答)\s*[:：]\s*(.+)$", re.I | re.S)


def offline_pairs(chunk: Chunk) -> list[tuple[str, str, str]]:
    """(method, question, answer) triples for one chunk."""
    zh = language_of(chunk.text) == "zh"
    pairs: list[tuple[str, str, str]] = []
    rest: list[str] = []
    blocks = list(chunk.blocks)
    texts = blocks_text(blocks)
    i = 0
    while i < len(blocks):
        block = blocks[i]
        q = _QUESTION.match(block.text) if block.kind == "paragraph" else None
        a = _ANSWER.match(blocks[i + 1].text) if q and i + 1 < len(blocks) else None
        if q and a:
            pairs.append(("faq", q.group(1).strip(), a.group(1).strip()))
            i += 2
            continue
        if block.kind == "table":
            pairs.extend(("table", question, answer) for question, answer in _table_pairs(block.rows, zh))
        else:
            rest.append(texts[i])
        i += 1
    if rest and chunk.heading_path:
        heading = chunk.heading_path[-1]
        question = f"关于“{heading}”，文档是怎么说的？" if zh else f"What does the document say about “{heading}”?"
        pairs.insert(0, ("section", question, "\n".join(rest)))
    return pairs


def _table_pairs(rows: tuple[tuple[str, ...], ...], zh: bool) -> list[tuple[str, str]]:
    if len(rows) < 2 or len(rows[0]) < 2:
        return []
    header = list(rows[0])
    for j in range(1, len(header)):  # a merged header cell covers the empty ones after it
        header[j] = header[j] or header[j - 1]
    pairs = []
    previous: list[str] = []
    for row in rows[1:]:
        cells = [cell or (previous[j] if j < len(previous) else "") for j, cell in enumerate(row)]
        previous = cells
        if len(cells) < 2 or not cells[-1]:
            continue
        keys: dict[str, list[str]] = {}
        for name, value in zip(header[:-1], cells[:-1]):
            if value:
                keys.setdefault(name, []).append(value)
        if not keys:
            continue
        if zh:
            condition = "，".join(f"{name}为“{'、'.join(values)}”" for name, values in keys.items())
            question = f"{condition}时，{header[-1]}是什么？"
        else:
            condition = " and ".join(f"{name.lower()} is “{' / '.join(values)}”" for name, values in keys.items())
            question = f"What is the {header[-1].lower()} when {condition}?"
        pairs.append((question, cells[-1]))
    return pairs
