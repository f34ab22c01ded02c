"""OpenAI export: every line validates against OpenAI's published fine-tuning formats, restated
here as JSON Schemas (chat: roles, tools in their wrapper, tool calls answered by id, weight 0/1 on
assistant messages only, nothing else on a line; preference: input, preferred_output,
non_preferred_output)."""

from __future__ import annotations

import json

import jsonschema

from dataforge.export import export
from dataforge.model import Role
from tests.conftest import write_jsonl
from tests.export.conftest import DATASETS, arguments, turns

TEXT = {"type": "string"}
TOOL_CALL = {"type": "object", "additionalProperties": False, "required": ["id", "type", "function"],
             "properties": {"id": TEXT, "type": {"const": "function"},
                            "function": {"type": "object", "additionalProperties": False,
                                         "required": ["name", "arguments"],
                                         "properties": {"name": TEXT, "arguments": TEXT}}}}
MESSAGE = {"oneOf": [
    {"type": "object", "additionalProperties": False, "required": ["role", "content"],
     "properties": {"role": {"enum": ["system", "developer"]}, "content": TEXT, "name": TEXT}},
    {"type": "object", "additionalProperties": False, "required": ["role", "content"],
     "properties": {"role": {"const": "user"}, "content": {"type": ["string", "array"]}, "name": TEXT}},
    {"type": "object", "additionalProperties": False, "required": ["role"],
     "properties": {"role": {"const": "assistant"}, "content": {"type": ["string", "null"]}, "name": TEXT,
                    "tool_calls": {"type": "array", "minItems": 1, "items": TOOL_CALL},
                    "weight": {"enum": [0, 1]}},
     "anyOf": [{"required": ["content"], "properties": {"content": TEXT}}, {"required": ["tool_calls"]}]},
    {"type": "object", "additionalProperties": False, "required": ["role", "content", "tool_call_id"],
     "properties": {"role": {"const": "tool"}, "content": TEXT, "tool_call_id": TEXT}},
]}
TOOL = {"type": "object", "additionalProperties": False, "required": ["type", "function"],
        "properties": {"type": {"const": "function"},
                       "function": {"type": "object", "required": ["name"],
                                    "properties": {"name": TEXT, "description": TEXT, "parameters": {"type": "object"},
                                                   "strict": {"type": "boolean"}}}}}
CHAT_LINE = {"type": "object", "additionalProperties": False, "required": ["messages"],
             "properties": {"messages": {"type": "array", "minItems": 1, "items": MESSAGE,
                                         "contains": {"properties": {"role": {"const": "assistant"}}}},
                            "tools": {"type": "array", "items": TOOL},
                            "parallel_tool_calls": {"type": "boolean"}}}
REPLY = {"type": "array", "minItems": 1, "maxItems": 1,
         "items": {"type": "object", "additionalProperties": False, "required": ["role", "content"],
                   "properties": {"role": {"const": "assistant"}, "content": TEXT}}}
PREFERENCE_LINE = {"type": "object", "additionalProperties": False,
                   "required": ["input", "preferred_output", "non_preferred_output"],
                   "properties": {"input": {"type": "object", "additionalProperties": False, "required": ["messages"],
                                            "properties": {"messages": {"type": "array", "items": MESSAGE},
                                                           "tools": {"type": "array", "items": TOOL},
                                                           "parallel_tool_calls": {"type": "boolean"}}},
                                  "preferred_output": REPLY, "non_preferred_output": REPLY}}


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _calls_answered(messages):
    """Every tool message answers a call made before it."""
    made = set()
    for m in messages:
        made.update(c["id"] for c in m.get("tool_calls", []))
        if m["role"] == "tool":
            assert m["tool_call_id"] in made


def test_every_line_is_a_valid_fine_tuning_line(tmp_path, shipped):
    out = tmp_path / "oa"
    result = export([str(DATASETS)], "openai", out, name="shop", eval_size=0.2)
    chat = _lines(out / "shop.train.jsonl") + _lines(out / "shop.eval.jsonl")
    for line in chat:
        jsonschema.validate(line, CHAT_LINE)
        _calls_answered(line["messages"])
    for line in _lines(out / "shop.preference.train.jsonl"):
        jsonschema.validate(line, PREFERENCE_LINE)
    skipped = {(s.file.rsplit("/", 1)[-1], s.record): s.why for s in result.skipped}
    # pre-training text and the undesirable KTO reply are left out, with reasons
    assert sum("pre-training text" in why for why in skipped.values()) == 3
    assert sum("KTO label is false" in why for why in skipped.values()) == 1
    assert len(chat) + sum(o.records for o in result.outputs if "preference" in o.file) + len(skipped) == len(shipped)


def test_messages_weights_and_tools_carry_the_samples(tmp_path, shipped):
    out = tmp_path / "oa"
    export([str(DATASETS / "chatglm3_tools.jsonl")], "openai", out, name="t")
    samples = [s for s in shipped if s.meta["file"].endswith("chatglm3_tools.jsonl")]
    for sample, line in zip(samples, _lines(out / "t.train.jsonl"), strict=True):
        seen = []
        for m in line["messages"]:
            if m.get("content") not in (None, "") or m["role"] != "assistant":
                seen.append((Role.OBSERVATION if m["role"] == "tool" else m["role"], m["content"]))
            for call in m.get("tool_calls", []):
                seen.append((Role.TOOL_CALL, {"name": call["function"]["name"],
                                              "arguments": json.loads(call["function"]["arguments"])}))
        assert seen == turns(sample)
        flags = [m.get("weight") for m in line["messages"] if m["role"] == "assistant" and "tool_calls" not in m]
        wanted = [None if m.loss is None else int(m.loss) for m in sample.messages if m.role == Role.ASSISTANT]
        assert flags == wanted
        if sample.tools is not None:
            assert [t["function"] for t in line["tools"]] == arguments(sample.tools)


def test_a_loss_flag_on_a_user_message_is_named(tmp_path):
    src = write_jsonl(tmp_path / "c.jsonl", [{"conversations": [
        {"role": "user", "content": "hi", "loss": True}, {"role": "assistant", "content": "hello"}]}])
    result = export([str(src)], "openai", tmp_path / "o")
    assert any("weights on assistant messages only" in m for m in result.lost_counts)
    assert _lines(tmp_path / "o" / "c.train.jsonl")[0]["messages"][0] == {"role": "user", "content": "hi"}
