"""The streaming reader finds exactly the records json.loads finds, at the right positions."""

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataforge.jsonio import stream
from dataforge.jsonio.parse import diagnose, parse
from dataforge.jsonio.stream import StructureError, iter_json, iter_jsonl
from dataforge.speedups import compiled

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12)
records = st.lists(st.dictionaries(st.sampled_from(["conversations", "a", "b"]), json_values, min_size=1, max_size=3),
                   max_size=12)


@pytest.fixture(params=["compiled", "python"])
def scanner(request, monkeypatch):
    """Array tests run twice: with the compiled record scan and with the pure-Python reader."""
    if request.param == "compiled" and compiled is None:
        pytest.skip("the C speedups are not built here")
    if request.param == "python":
        monkeypatch.setattr(stream, "record_spans", None)
    return request.param


def read_all(data: bytes, chunk: int, monkeypatch) -> list:
    monkeypatch.setattr(stream, "CHUNK", chunk)
    return list(iter_json(io.BytesIO(data)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(recs=records, indent=st.sampled_from([None, 0, 2]), chunk=st.integers(1, 64))
def test_array_records_match_json_loads(scanner, recs, indent, chunk):
    data = json.dumps(recs, indent=indent, ensure_ascii=False).encode()
    mp = pytest.MonkeyPatch()
    try:
        got = read_all(data, chunk, mp)
    finally:
        mp.undo()
    assert [json.loads(r.text) for r in got] == recs
    lines = data.split(b"\n")
    for r in got:
        line = lines[r.line - 1]
        assert line[r.column - 1:r.column] == b"{"
        assert data.split(b"\n", r.line - 1)[-1][r.column - 1:].startswith(r.text.split(b"\n")[0])


def test_predicted_records_are_parsed_once_and_correct(monkeypatch):
    monkeypatch.setattr(stream, "record_spans", None)  # predictions are the pure-Python reader's fast path
    recs = [{"conversations": [{"role": "user", "content": 'tricky "}, {"conversations": ' + str(i)}]}
            for i in range(50)]
    got = read_all(json.dumps(recs, indent=2).encode(), 4096, monkeypatch)
    assert [r.value if r.value is not stream.UNPARSED else parse(r.text) for r in got] == recs
    assert sum(r.value is not stream.UNPARSED for r in got) >= 45  # the fast path did its job


def test_records_written_one_after_another(scanner):
    got = list(iter_json(io.BytesIO(b'{"a": 1}\n{"a": 2}\n\n  {"a":\n 3}')))
    assert [(r.line, r.column, json.loads(r.text)) for r in got] == [(1, 1, {"a": 1}), (2, 1, {"a": 2}), (4, 3, {"a": 3})]


@pytest.mark.parametrize("data, message, line, column", [
    (b'[{"a": 1}', "file ends before the array is closed with ']'", 1, 10),
    (b'[{"a": 1},\n]', "trailing comma before ']'", 2, 1),
    (b'[{"a": 1} {"a": 2}]', "expected ',' or ']' after record 0", 1, 11),
    (b'[{"a": "no end', "file ends in the middle of a record", 1, 2),
    (b'[{"a": 1}] extra', "unexpected data after the closing ']'", 1, 12),
])
def test_broken_structure_is_reported_where_it_breaks(scanner, data, message, line, column):
    with pytest.raises(StructureError) as info:
        list(iter_json(io.BytesIO(data)))
    assert (info.value.message, info.value.line, info.value.column) == (message, line, column)


def test_jsonl_skips_blank_lines_but_counts_them():
    got = list(iter_jsonl(io.BytesIO(b'{"a": 1}\r\n\n   \n{"a": 2}\n')))
    assert [(r.index, r.line, r.text) for r in got] == [(0, 1, b'{"a": 1}'), (1, 4, b'{"a": 2}')]


@pytest.mark.parametrize("text, code, fragment", [
    ('{"a": NaN}'.encode(), "E005", "NaN"),
    ('{"a": -Infinity}'.encode(), "E005", "Infinity"),
    (b'{"a": 1, "a": 2}', "E006", 'duplicate key "a"'),
    ('{"a": "退货"}'.encode("gbk"), "E002", "it decodes as GBK"),
    (b'{"a": "x\x00"}', "E004", "NUL"),
    (b"[" * 300 + b"]" * 300, "E001", "nested deeper"),
    (b'{"a": 1', "E001", "EOF"),
])
def test_parse_failures_are_diagnosed(text, code, fragment):
    with pytest.raises(ValueError) as info:
        parse(text)
    diagnosis = diagnose(text, info.value)
    assert diagnosis.code == code
    assert fragment in diagnosis.message


@pytest.mark.parametrize("data", [
    b'[1, {"a": 1}, [2, {"b": "]"}], "x", {"c": "\\\\"}, null]',
    b'  {"a": "\\"}"}  \n [1]\n"s" {"b": {}}',
    b'[\n  {"a": [1, 2]},\n  {"a": "\\\\\\""}\n]\n',
])
def test_compiled_and_python_readers_find_the_same_records(monkeypatch, data):
    if compiled is None:
        pytest.skip("the C speedups are not built here")
    fast = [(r.index, r.line, r.column, r.text) for r in iter_json(io.BytesIO(data))]
    monkeypatch.setattr(stream, "record_spans", None)
    slow = [(r.index, r.line, r.column, r.text) for r in iter_json(io.BytesIO(data))]
    assert fast == slow and len(fast) >= 2


def lines_one_by_one(data: bytes) -> list:
    """What JSON Lines reading means, spelled out a line at a time."""
    out = []
    for number, line in enumerate(io.BytesIO(data), 1):
        text = line.rstrip(b"\r\n")
        if text.strip():
            out.append((len(out), number, 1, text))
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b'{"a": 1}', b"", b"  ", b"\r", b'{"b": "x"}\r\r', b" \t", b'[1]  ', b"\x0c",
                                  b"\r \r", b'\x0b{"c": 2}']),
                max_size=12),
       st.booleans(), st.integers(1, 40))
def test_jsonl_batches_find_each_line_whatever_the_block_size(lines, final_newline, block):
    data = b"\n".join(lines) + (b"\n" if final_newline else b"")
    if compiled is not None:
        assert stream._jsonl_records_c(data, 3, 7) == stream._jsonl_records_py(data, 3, 7)
    batches = list(stream.jsonl_batches(io.BytesIO(data), block=block))
    assert all(batches)  # no empty batch
    got = [(r.index, r.line, r.column, r.text) for batch in batches for r in batch]
    assert got == lines_one_by_one(data)
    assert all(r.value is stream.UNPARSED and type(r) is stream.RawRecord for batch in batches for r in batch)
