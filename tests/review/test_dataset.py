"""A dataset opened for review: its index (whole, or a first part and then the rest) finds every
record and its line exactly as reading the file line by line does, and decisions made on a first
part follow their records once the index is complete."""

from __future__ import annotations

import json
import random

import pytest

import dataforge.review.dataset as dataset_module
from dataforge.review.dataset import Dataset
from dataforge.review.session import ReviewSession


def reference(data: bytes) -> list[tuple[int, int, bytes]]:
    """(line number, byte offset, text) of each non-blank line: the file read line by line."""
    out, offset = [], 0
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    for number, line in enumerate(data[start:].split(b"\n"), 1):
        if line.strip():
            out.append((number, start + offset, line.rstrip(b"\r")))
        offset += len(line) + 1
    return out


def indexed(dataset: Dataset) -> list[tuple[int, int, bytes]]:
    return [(dataset.line(i), dataset._offsets[i], dataset.text(i)) for i in range(len(dataset))]


RECORD = b'{"instruction": "q%d", "input": "", "output": "a"}'


@pytest.mark.parametrize("seed", range(40))
def test_index_matches_reading_line_by_line(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    lines = [rng.choice([RECORD % i, RECORD % i, b"", b"  ", b"\t", b" " + RECORD % i, (RECORD % i) + b"\r"])
             for i in range(rng.randint(1, 60))]
    lines[0] = RECORD % 0  # the format is detected from the first record
    data = rng.choice([b"", b"\xef\xbb\xbf"]) + b"\n".join(lines) + rng.choice([b"", b"\n", b"\r\n", b"\n\n  \n"])
    path = tmp_path / "data.jsonl"
    path.write_bytes(data)
    monkeypatch.setattr(dataset_module, "BLOCK", rng.choice([1, 5, 17, 64, 1 << 20]))  # block edges everywhere
    whole = Dataset(path)
    assert whole.complete and indexed(whole) == reference(data)
    monkeypatch.setattr(dataset_module, "FIRST_PART", rng.randint(1, max(len(data) - 1, 1)))
    part = Dataset(path, first_part=True)
    first = indexed(part)
    assert first == reference(data)[:len(first)]
    part.index_rest()
    assert part.complete and indexed(part) == reference(data)
    part.index_rest()  # a second call changes nothing
    assert indexed(part) == reference(data)


def test_decisions_follow_their_records_once_the_index_is_complete(tmp_path, monkeypatch):
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"\n".join(RECORD % i for i in range(200)) + b"\n")
    session = ReviewSession()
    opened = session.open(path)
    opened.store.decide(150, opened.dataset.sample_id(150), "accepted")
    opened.store.decide(3, opened.dataset.sample_id(3), "rejected")
    session.close()
    # a record inserted at the top: both decisions now belong one position down
    path.write_bytes(b'{"instruction": "new", "input": "", "output": "a"}\n' + path.read_bytes())
    monkeypatch.setattr(dataset_module, "FIRST_PART", 1000)  # about 20 records
    session = ReviewSession()
    opened = session.open(path, first_part=True)
    assert not opened.dataset.complete and not opened.followed and len(opened.dataset) < 30
    ReviewSession.index_rest(opened)
    ReviewSession.finish_opening(opened)
    assert opened.followed and len(opened.dataset) == 201
    assert opened.store.state(151).decision == "accepted" and opened.store.state(4).decision == "rejected"
    assert opened.store.state(150).decision == "pending" and opened.store.state(3).decision == "pending"
    session.close()


def test_a_small_file_is_indexed_whole_at_once(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"\n".join(RECORD % i for i in range(10)))
    opened = ReviewSession().open(path, first_part=True)
    assert opened.dataset.complete and opened.followed and len(opened.dataset) == 10
    assert json.loads(opened.dataset.text(9))["instruction"] == "q9"


@pytest.mark.parametrize("seed", range(20))
def test_text_search_finds_what_a_loop_over_records_finds(tmp_path, seed):
    """`containing` scans the file for the text; every record a plain loop over the records'
    texts finds, and no other (not hits in blank lines, nor ones spanning two records)."""
    rng = random.Random(seed)
    words = ["alpha", "beta", "退款", 'a\\"b', "  "]  # a\"b: an escaped quote inside the JSON string
    lines = [RECORD % 0] + [rng.choice([b"", b"  ", (RECORD % i).replace(b"q", rng.choice(words).encode())])
                            for i in range(1, 80)]
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    dataset = Dataset(path)
    for needle in (b"alpha", "退款".encode(), b"}\n{", b"  ", b'a\\"b', b'"output": "a"}', b"zzz", b"\n"):
        wanted = [i for i in range(len(dataset)) if needle in dataset.text(i)]
        assert dataset.containing(needle) == wanted, needle
