"""Group blocks into chunks: one heading path each, within a token budget, never splitting a
table row or a sentence. Each chunk remembers its heading path and the blocks it covers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import NamedTuple

from dataforge.docx_source.reader import Block

# A sentence ends at CJK end punctuation, or at Latin end punctuation followed by a space.
_SENTENCE_END = re.compile(r"(?<=[。！？；])|(?<=[.!?;])\s+")

Counter = Callable[[list[str]], list[int]]


class Chunk(NamedTuple):
    index: int
    source: str
    heading_path: tuple[str, ...]
    text: str
    first_block: int
    last_block: int
    tokens: int
    blocks: tuple[Block, ...]  # the blocks (or, for a split block, the block) it covers
    # Set by a job whose sources include two documents of the same name (the job's position of
    # the document), so their chunks differ; empty otherwise, which keeps ids portable.
    salt: str = ""

    @property
    def path_text(self) -> str:
        return " > ".join(self.heading_path)

    @property
    def id(self) -> str:
        """Stable across runs and however the path is spelt: the file's name, where the chunk
        is in it, and what it says."""
        name = self.source.replace("\\", "/").rsplit("/", 1)[-1]
        key = f"{name}\0{self.first_block}\0{self.last_block}\0{self.text}{self.salt}".encode()
        return hashlib.sha256(key).hexdigest()[:16]


def token_counter(tokenizer=None) -> Counter:
    """Count tokens with a real tokenizer (the built-in Qwen one by default): a character budget
    would give Chinese text twice the room English gets."""
    if tokenizer is None:
        from dataforge.masking.tokenizer import load_tokenizer

        tokenizer = load_tokenizer()
    return lambda texts: [len(ids) for ids, _ in tokenizer.encode_many(texts, spans=False)] if texts else []


def blocks_text(blocks: list[Block]) -> list[str]:
    """Each block as text: list items with their marker and indent, numbered lists counted."""
    numbers: dict[int, int] = {}
    texts = []
    for block in blocks:
        if block.kind != "list_item":
            numbers.clear()
            texts.append(block.text)
            continue
        if block.numbered:
            numbers[block.level] = numbers.get(block.level, 0) + 1
        marker = f"{numbers[block.level]}." if block.numbered else "-"
        texts.append("  " * block.level + f"{marker} {block.text}")
    return texts


def chunk_blocks(blocks: list[Block], source: str, budget: int = 512, count: Counter | None = None) -> list[Chunk]:
    """Chunks of at most ``budget`` tokens (a single sentence or table row may exceed it)."""
    count = count or token_counter()
    units = list(_units(blocks, budget, count))
    chunks: list[Chunk] = []
    current: list[tuple[str, Block, int]] = []
    path: tuple[str, ...] = ()
    current_path: tuple[str, ...] = ()

    def flush() -> None:
        if current:
            text = current[0][0]
            for (before, block_before, _), (piece, block, _) in zip(current, current[1:]):
                if block is block_before and block.kind != "table":
                    # pieces of one paragraph rejoin as written: a space after Latin punctuation only
                    text += " " if before[-1:] in ".!?;" else ""
                else:
                    text += "\n"
                text += piece
            covered = tuple(dict.fromkeys(u[1] for u in current))
            chunks.append(Chunk(len(chunks), source, current_path, text, covered[0].index, covered[-1].index,
                                sum(u[2] for u in current), covered))
            current.clear()

    headings: dict[int, str] = {}
    for kind, text, block, tokens in units:
        if kind == "heading":
            flush()
            headings = {level: t for level, t in headings.items() if level < block.level}
            headings[block.level] = text
            path = tuple(headings[level] for level in sorted(headings))
            continue
        if current and sum(u[2] for u in current) + tokens > budget:
            flush()
        if not current:
            current_path = path
        current.append((text, block, tokens))
    flush()
    return chunks


def _units(blocks: list[Block], budget: int, count: Counter):
    """(kind, text, block, tokens): blocks, with long paragraphs cut at sentences and long
    tables cut between rows (each piece keeps the header row)."""
    texts = blocks_text(blocks)
    for block, text, tokens in zip(blocks, texts, count(texts)):
        if block.kind == "heading" or tokens <= budget:
            yield block.kind, text, block, tokens
        elif block.kind == "table":
            yield from _table_pieces(block, budget, count)
        else:
            sentences = [s for s in _SENTENCE_END.split(text) if s and s.strip()]
            for sentence, n in zip(sentences, count(sentences)):
                yield block.kind, sentence, block, n


def _table_pieces(block: Block, budget: int, count: Counter):
    rows = [" | ".join(c for c in row if c) for row in block.rows]
    header, body = rows[0], rows[1:]
    sizes = count(rows)
    piece, used = [header], sizes[0]
    for row, n in zip(body, sizes[1:]):
        if len(piece) > 1 and used + n > budget:
            yield block.kind, "\n".join(piece), block, used
            piece, used = [header], sizes[0]
        piece.append(row)
        used += n
    yield block.kind, "\n".join(piece), block, used
