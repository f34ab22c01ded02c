"""Tool conversations with parallel calls, through every pair of tool-capable formats: the
calls, their pairing with results, and the tool definitions survive or are named, and each
converted file passes its own format's JSON Schema and lint."""

from __future__ import annotations

import json

import pytest

from dataforge.convert import convert_file
from dataforge.schemas import load_schema
from tests.conftest import write_jsonl

TOOLS = [{"name": "get_weather", "description": "Weather for a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]

OPENAI = {
    "messages": [
        {"role": "user", "content": "Weather in Beijing and Shanghai?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Beijing"}'}},
            {"id": "b", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Shanghai"}'}}]},
        {"role": "tool", "tool_call_id": "a", "content": "3 degrees"},
        {"role": "tool", "tool_call_id": "b", "content": "9 degrees"},
        {"role": "assistant", "content": "Beijing 3, Shanghai 9."}],
    "tools": [{"type": "function", "function": TOOLS[0]}],
    "parallel_tool_calls": True,
}
SHAREGPT = {
    "conversations": [
        {"from": "human", "value": "Weather in Beijing and Shanghai?"},
        {"from": "function_call", "value": json.dumps([{"name": "get_weather", "arguments": {"city": "Beijing"}},
                                                        {"name": "get_weather", "arguments": {"city": "Shanghai"}}],
                                                       ensure_ascii=False)},
        {"from": "observation", "value": json.dumps(["3 degrees", "9 degrees"])},
        {"from": "gpt", "value": "Beijing 3, Shanghai 9."}],
    "tools": json.dumps(TOOLS),
}
CHATGLM3 = {
    "tools": TOOLS,
    "conversations": [
        {"role": "user", "content": "Weather in Beijing and Shanghai?"},
        {"role": "tool", "name": "get_weather", "parameters": {"city": "Beijing"}, "observation": "3 degrees"},
        {"role": "tool", "name": "get_weather", "parameters": {"city": "Shanghai"}, "observation": "9 degrees"},
        {"role": "assistant", "content": "Beijing 3, Shanghai 9."}],
}
RECORDS = {"openai": OPENAI, "sharegpt": SHAREGPT, "chatglm3": CHATGLM3}


def calls_and_results(sample):
    """(tool, arguments, result) for each call, results paired in order, as the sample holds them."""
    calls = [(m.name, m.arguments) for m in sample.messages if m.role == "tool_call"]
    results = [m.content for m in sample.messages if m.role == "observation"]
    return [(*c, r) for c, r in zip(calls, results)], len(calls), len(results)


def read_one(path):
    from dataforge.convert import read_samples

    ((_, _, sample, why),) = list(read_samples(path))
    assert sample is not None, why
    return sample


def schema_valid(fmt, path):
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(load_schema(f"{fmt}.schema.json"))
    for line in path.read_text(encoding="utf-8").splitlines():
        errors = list(validator.iter_errors(json.loads(line)))
        assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("source", RECORDS)
def test_each_layout_reads_with_no_finding(tmp_path, run_line, source):
    path = write_jsonl(tmp_path / f"{source}.jsonl", [RECORDS[source]])
    result = run_line(f"dataforge lint {path}")
    assert result.exit_code == 0 and "no findings" in result.stdout, result.stdout
    schema_valid(source, path)
    pairs, n_calls, n_results = calls_and_results(read_one(path))
    assert n_calls == n_results == 2
    assert pairs == [("get_weather", {"city": "Beijing"}, "3 degrees"), ("get_weather", {"city": "Shanghai"}, "9 degrees")]


@pytest.mark.parametrize("target", RECORDS)
@pytest.mark.parametrize("source", RECORDS)
def test_every_pair_keeps_calls_results_and_tools(tmp_path, run_line, source, target):
    path = write_jsonl(tmp_path / f"in.{source}.jsonl", [RECORDS[source]])
    out = tmp_path / f"out.{target}.jsonl"
    result = convert_file(path, target, out)
    assert result.written == 1 and result.skipped == 0
    notes = [n.message for n in result.notes]
    original = read_one(path)
    converted = read_one(out)
    assert calls_and_results(converted) == calls_and_results(original)
    assert [(m.role, m.content) for m in converted.messages if m.role not in ("tool_call", "observation")] == \
        [(m.role, m.content) for m in original.messages if m.role not in ("tool_call", "observation")]
    record = json.loads(out.read_text(encoding="utf-8"))
    tools = record["tools"] if target != "sharegpt" else json.loads(record["tools"])
    bare = [t["function"] if "function" in t else t for t in tools]
    assert bare == TOOLS
    if target == "openai":
        assert all(t["type"] == "function" for t in tools)  # OpenAI's wrapper
        assert [m["tool_call_id"] for m in record["messages"] if m["role"] == "tool"] == \
            [c["id"] for m in record["messages"] for c in m.get("tool_calls", [])]
    if source == "openai" and target == "openai":
        assert record["parallel_tool_calls"] is True
    elif source == "openai":
        assert any("parallel_tool_calls" in n for n in notes)  # named, not silently dropped
    else:
        assert notes == []
    schema_valid(target, out)
    lint = run_line(f"dataforge lint {out}")
    assert lint.exit_code == 0 and "no findings" in lint.stdout, lint.stdout


@pytest.mark.parametrize("target", ["alpaca", "chatglm3-io", "firefly", "preference", "prompt-completion", "text"])
@pytest.mark.parametrize("source", RECORDS)
def test_formats_without_tools_name_what_they_drop(tmp_path, source, target):
    """Calls, results and tool definitions a target cannot hold are named, record by record."""
    path = write_jsonl(tmp_path / f"in.{source}.jsonl", [RECORDS[source]])
    result = convert_file(path, target, tmp_path / "out.jsonl")
    notes = " ".join(n.message for n in result.notes)
    assert result.notes and ("tool" in notes or "dropped" in notes or "not converted" in notes), notes


def test_empty_tool_lists_are_left_out(tmp_path):
    record = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}], "tools": "[]"}
    path = write_jsonl(tmp_path / "in.jsonl", [record])
    for target in ("openai", "sharegpt", "chatglm3"):
        out = tmp_path / f"out.{target}.jsonl"
        convert_file(path, target, out)
        assert "tools" not in json.loads(out.read_text())


def test_chatglm3_tools_may_be_any_json(tmp_path, run_line):
    record = {"tools": ["get_weather(city): the weather of a city"],
              "conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    path = write_jsonl(tmp_path / "in.jsonl", [record])
    result = run_line(f"dataforge lint {path}")
    assert result.exit_code == 0 and "no findings" in result.stdout
    schema_valid("chatglm3", path)


def test_an_observation_without_a_call_is_named_on_conversion(tmp_path, run_line):
    record = {"conversations": [{"from": "human", "value": "hi"}, {"from": "observation", "value": "r"},
                                {"from": "gpt", "value": "yo"}]}
    path = write_jsonl(tmp_path / "in.jsonl", [record])
    assert "T009" in run_line(f"dataforge lint {path}").stdout
    result = convert_file(path, "chatglm3", tmp_path / "out.jsonl")
    assert any("follows no tool call and was dropped" in n.message for n in result.notes)
