"""Duplicate detection gives the same answer in memory and spilled to bucket files on disk."""

from __future__ import annotations

from array import array

from hypothesis import given, settings
from hypothesis import strategies as st

from dataforge.lint import duplicates
from dataforge.lint.duplicates import DigestStore, Place, Repeat
from dataforge.lint.engine import Linter, LintOptions
from tests.conftest import write_jsonl


def add(store: DigestStore, file: int, digests: list[int], first_record: int = 0) -> None:
    n = len(digests)
    records = range(first_record, first_record + n)
    store.add(file, array("Q", digests).tobytes(), array("q", records).tobytes(),
              array("I", [r + 1 for r in records]).tobytes(), array("I", [1] * n).tobytes())


def test_repeats_name_the_first_occurrence_in_reading_order():
    store = DigestStore()
    add(store, 0, [7, 8, 7, 9, 7])
    add(store, 1, [9, 10, 8])
    assert store.repeats() == [
        Repeat(Place(0, 2, 3, 1), Place(0, 0, 1, 1)),
        Repeat(Place(0, 4, 5, 1), Place(0, 0, 1, 1)),
        Repeat(Place(1, 0, 1, 1), Place(0, 3, 4, 1)),
        Repeat(Place(1, 2, 3, 1), Place(0, 1, 2, 1)),
    ]


# Digests that share their top byte land in one bucket; spread them over a few buckets.
digest = st.builds(lambda top, low: (top << 56) | low, st.integers(0, 3), st.integers(0, 6))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(digest, max_size=12), min_size=1, max_size=4), st.integers(1, 9))
def test_spilled_and_in_memory_stores_find_the_same_repeats(files, spill):
    in_memory, spilled = DigestStore(), DigestStore(spill=spill)
    for number, digests in enumerate(files):
        for store in (in_memory, spilled):
            add(store, number, digests[:5])
            add(store, number, digests[5:], first_record=5)  # two batches per file
    expected = in_memory.repeats()
    folder = spilled._folder
    assert spilled.repeats() == expected
    assert spilled._folder is None and (folder is None or not folder.exists())  # bucket files removed


def test_lint_reports_the_same_duplicates_when_digests_spill(tmp_path, monkeypatch):
    record = {"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    other = {"conversations": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}
    train = write_jsonl(tmp_path / "train.jsonl", [record, other, record] * 4)
    test = write_jsonl(tmp_path / "test.jsonl", [other])

    def found():
        return [(f.code, f.location.file, f.location.record, f.message)
                for f in Linter(LintOptions()).run([train, test])]

    in_memory = found()
    monkeypatch.setattr(duplicates, "SPILL", 5)
    assert found() == in_memory
    assert len(in_memory) == 11 and in_memory[-1] == ("D002", str(test), 0, f"same record as record 1 of {train}")


def test_a_leak_between_files_of_other_layouts_is_found(tmp_path, run_line):
    """The same conversation in an alpaca train.json and a ShareGPT eval.jsonl is one record twice."""
    import json

    train = tmp_path / "train.json"
    train.write_text(json.dumps([{"instruction": "Capital of France?", "input": "", "output": "Paris."},
                                 {"instruction": "2+2?", "input": "", "output": "4"}], indent=2))
    evaluation = tmp_path / "eval.jsonl"
    evaluation.write_text(json.dumps({"id": "e1", "conversations": [{"from": "human", "value": "Capital of France?"},
                                                                    {"from": "gpt", "value": "Paris."}]}) + "\n")
    result = run_line(f"dataforge lint {train} {evaluation} --select D")
    assert result.exit_code == 1
    (line,) = [x for x in result.stdout.splitlines() if ": D002 " in x]
    assert line.startswith(f"{evaluation}:1:") and "train.json" in line


def test_spacing_key_order_and_ids_do_not_hide_a_repeat(tmp_path, run_line):
    path = tmp_path / "d.jsonl"
    path.write_text('{"instruction": "a", "input": "", "output": "b", "id": 1}\n'
                    '{"output": "b",  "input": "", "instruction": "a", "id": 2}\n')
    assert "D001" in run_line(f"dataforge lint {path}").stdout


def test_tool_arguments_as_object_or_string_are_the_same_content():
    from dataforge.formats import get_format
    from dataforge.lint.content import content_key

    fmt = get_format("openai")

    def record(arguments):
        return {"messages": [{"role": "user", "content": "w?"}, {"role": "assistant", "content": None, "tool_calls": [
            {"id": "1", "type": "function", "function": {"name": "f", "arguments": arguments}}]},
            {"role": "tool", "tool_call_id": "1", "content": "3"}, {"role": "assistant", "content": "3"}]}

    a, b = fmt.read(record('{"city": "x"}'), []), fmt.read(record({"city": "x"}), [])
    c = fmt.read(record('{"city": "y"}'), [])
    assert content_key(a) == content_key(b) != content_key(c)
