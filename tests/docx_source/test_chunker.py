"""Chunks follow headings, keep to the token budget, and never cut a sentence or a table row."""

import docx

from dataforge.docx_source.chunker import chunk_blocks
from dataforge.docx_source.reader import read_blocks
from tests.conftest import SAMPLES


def words(texts):
    return [len(t.split()) for t in texts]  # a stand-in tokenizer: one token per word


def build(tmp_path, fill):
    d = docx.Document()
    fill(d)
    path = tmp_path / "d.docx"
    d.save(str(path))
    return read_blocks(path)


def test_heading_paths_and_block_ranges(tmp_path):
    def fill(d):
        d.add_heading("Guide", 0)
        d.add_heading("Returns", 1)
        d.add_paragraph("Within seven days.")
        d.add_heading("Refunds", 2)
        d.add_paragraph("Three business days.")
        d.add_heading("Shipping", 1)
        d.add_paragraph("Free above 50 euros.")
    chunks = chunk_blocks(build(tmp_path, fill), "d.docx", budget=100, count=words)
    assert [(c.path_text, c.first_block, c.last_block, c.text) for c in chunks] == [
        ("Guide > Returns", 2, 2, "Within seven days."),
        ("Guide > Returns > Refunds", 4, 4, "Three business days."),
        ("Guide > Shipping", 6, 6, "Free above 50 euros.")]


def test_budget_splits_between_sentences_never_inside(tmp_path):
    text = "One two three. Four five six. Seven eight nine. 退货七天内。退款三天内！"
    chunks = chunk_blocks(build(tmp_path, lambda d: d.add_paragraph(text)), "d.docx", budget=6, count=words)
    assert [c.text for c in chunks] == ["One two three. Four five six.", "Seven eight nine. 退货七天内。退款三天内！"]
    assert all(c.first_block == c.last_block == 0 for c in chunks)


def test_long_tables_split_between_rows_keeping_the_header(tmp_path):
    def fill(d):
        t = d.add_table(rows=5, cols=2)
        for r in range(5):
            t.cell(r, 0).text, t.cell(r, 1).text = f"k{r}", f"value number {r}"
    chunks = chunk_blocks(build(tmp_path, fill), "d.docx", budget=15, count=words)  # 5 per row
    assert [c.text.splitlines() for c in chunks] == [
        ["k0 | value number 0", "k1 | value number 1", "k2 | value number 2"],
        ["k0 | value number 0", "k3 | value number 3", "k4 | value number 4"]]


def test_chunks_count_real_tokens_by_default():
    chunks = chunk_blocks(read_blocks(SAMPLES / "docs" / "returns_policy_zh.docx"), "zh", budget=60)
    assert all(c.tokens <= 60 for c in chunks if "|" not in c.text)
    assert len({c.id for c in chunks}) == len(chunks)
