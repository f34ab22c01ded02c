"""Structure-aware fuzzing: valid JSON records of every format with a value of any type, size or
encoding put at any path. lint, convert, preview and lint --fix must answer with findings or a
clear message and an exit code, never a traceback."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# One well-formed record of each layout, tools and flags included, so every path has a value to replace.
BASES = [
    {"tools": [{"name": "f", "parameters": {}}], "conversations": [
        {"role": "system", "content": "s"}, {"role": "user", "content": "hi", "loss": False},
        {"role": "assistant", "content": "hello", "loss": True},
        {"role": "tool", "name": "f", "parameters": {"a": 1}, "observation": {"x": 1}},
        {"role": "assistant", "content": "ok"}]},
    {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"},
                  {"role": "assistant", "content": None, "tool_calls": [
                      {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
                  {"role": "tool", "tool_call_id": "1", "content": "r"},
                  {"role": "assistant", "content": "done", "weight": 1}],
     "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}], "parallel_tool_calls": True},
    {"conversations": [{"from": "human", "value": "hi"},
                       {"from": "function_call", "value": "{\"name\": \"f\", \"arguments\": {}}"},
                       {"from": "observation", "value": "r"}, {"from": "gpt", "value": "ok"}],
     "system": "s", "tools": "[{\"name\": \"f\"}]"},
    {"instruction": "i", "input": "x", "output": "o", "system": "s", "history": [["a", "b"]]},
    {"prompt": "p", "response": "r"},
    {"conversation": [{"human": "h", "assistant": "a"}]},
    {"conversations": [{"from": "human", "value": "hi"}], "chosen": {"from": "gpt", "value": "a"},
     "rejected": {"from": "gpt", "value": "b"}},
    {"conversations": [{"role": "user", "content": "hi"}], "chosen": {"role": "assistant", "content": "a"},
     "rejected": {"role": "assistant", "content": "b"}},
]

TEXT = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(["", " ", "\u0000", "\ud7ff", "é" * 300])
SCALARS = st.none() | st.booleans() | st.integers(min_value=-(2 ** 70), max_value=2 ** 70) | \
    st.floats(allow_nan=False, allow_infinity=False) | TEXT
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                      max_leaves=12)


def paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*path, index))


def replaced(record, path, value):
    if not path:
        return value
    out = copy.deepcopy(record)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


@st.composite
def damaged_records(draw):
    base = draw(st.sampled_from(BASES))
    path = draw(st.sampled_from(list(paths(base))))
    return replaced(base, path, draw(VALUES))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=damaged_records())
def test_no_record_of_any_shape_makes_a_traceback(run_line, tmp_path, record):
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    for line in ([f"dataforge lint {data} --output-format json"], [f"dataforge lint {data} --template qwen --max-len 64"],
                 [f"dataforge preview {data}"], [f"dataforge convert {data} --to openai -o {tmp_path / 'out.jsonl'} --force"],
                 [f"dataforge convert {data} --to chatglm3 -o {tmp_path / 'out2.jsonl'} --force"]):
        result = run_line(line[0])
        assert "Traceback" not in result.stderr, (line, result.stderr)
        assert result.exit_code in (0, 1, 2), (line, result.exit_code, result.stderr)
    fixed = run_line(f"dataforge lint {data} --fix --output-format json")
    assert fixed.exit_code in (0, 1, 2) and "Traceback" not in fixed.stderr
    json.loads(data.read_text(encoding="utf-8").split("\n")[0])  # --fix leaves valid JSON (\x85 is no line end)
