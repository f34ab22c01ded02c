"""Each adapter reads its format and writes it back unchanged; conversions name what they drop."""

import json

import pytest

from dataforge.formats import FORMATS, detect
from dataforge.model import Role
from tests.conftest import SAMPLES

SAMPLE_FILES = {
    "chatglm3": "chatglm3_tools.jsonl", "alpaca": "alpaca.jsonl", "sharegpt": "sharegpt.jsonl",
    "openai": "openai.jsonl", "preference": "preference.jsonl", "sharegpt-preference": "sharegpt_preference.jsonl",
    "chatglm3-io": "chatglm3_io.jsonl", "firefly": "firefly.jsonl", "text": "pretraining_text.jsonl",
    "prompt-completion": "prompt_completion.jsonl",
}


def records(name):
    path = SAMPLES / "datasets" / SAMPLE_FILES[name]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_format_has_a_sample_file():
    assert set(SAMPLE_FILES) == set(FORMATS)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_adapter_round_trips_its_format(name):
    fmt = FORMATS[name]
    for raw in records(name):
        assert [f.name for f in detect(raw)] == [name]
        problems = []
        sample = fmt.read(raw, problems)
        assert problems == []
        written, losses = fmt.write(sample)
        assert losses == []
        assert written == raw


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_reading_what_was_written_from_another_format_keeps_the_sample(name):
    """chatglm3 -> X -> canonical keeps every message X can hold, in order."""
    source = FORMATS["chatglm3"]
    for raw in records("chatglm3"):
        sample = source.read(raw, [])
        written, losses = FORMATS[name].write(sample)
        again = FORMATS[name].read(written, [])
        if not losses:
            assert [(m.role, m.content) for m in again.messages] == [(m.role, m.content) for m in sample.messages]


def test_chatglm3_tool_message_becomes_call_and_observation():
    raw = records("chatglm3")[0]
    sample = FORMATS["chatglm3"].read(raw, [])
    roles = [m.role for m in sample.messages]
    assert roles == [Role.USER, Role.TOOL_CALL, Role.OBSERVATION, Role.ASSISTANT]
    call, observation = sample.messages[1], sample.messages[2]
    assert call.name == "get_weather" and call.arguments == {"city": "北京"} and call.trained
    assert observation.content == '{"city": "北京", "temperature": 3, "condition": "晴"}'
    assert not observation.trained
    assert call.path == observation.path == "$.conversations[1]"


def test_loss_flags_override_role_defaults():
    sample = FORMATS["chatglm3"].read(records("chatglm3")[2], [])
    assert [m.trained for m in sample.messages] == [False, False, False, True]


def test_openai_weight_is_the_loss_flag_and_tool_calls_are_split():
    first, second = records("openai")
    sample = FORMATS["openai"].read(first, [])
    assert [m.role for m in sample.messages] == ["system", "user", "tool_call", "observation", "assistant"]
    assert sample.messages[2].arguments == {"order_id": "1042"}
    assert sample.messages[3].name == "track_order"
    assert [m.loss for m in FORMATS["openai"].read(second, []).messages] == [None, False, None, True]


def test_alpaca_keeps_instruction_and_input_apart():
    raw = records("alpaca")[0]
    user = FORMATS["alpaca"].read(raw, []).messages[-2]
    assert user.content == raw["instruction"] + "\n" + raw["input"]
    assert user.data == (raw["instruction"], raw["input"])


@pytest.mark.parametrize("target, expected", [
    ("alpaca", ["alpaca holds user/assistant pairs only; $.conversations[1] (tool_call) was dropped",
                "alpaca holds user/assistant pairs only; $.conversations[1] (observation) was dropped",
                "alpaca holds no tool definitions; tools were dropped"]),
    ("firefly", ["firefly holds user/assistant pairs only; $.conversations[1] (tool_call) was dropped",
                 "firefly holds user/assistant pairs only; $.conversations[1] (observation) was dropped",
                 "firefly holds no tool definitions; tools were dropped"]),
    ("sharegpt", []),
    ("openai", []),
])
def test_conversion_names_what_the_target_cannot_hold(target, expected):
    sample = FORMATS["chatglm3"].read(records("chatglm3")[0], [])
    _, losses = FORMATS[target].write(sample)
    assert losses == expected


def test_sharegpt_cannot_hold_loss_flags_and_says_so():
    sample = FORMATS["chatglm3"].read(records("chatglm3")[2], [])
    _, losses = FORMATS["sharegpt"].write(sample)
    assert losses == ["sharegpt has no per-message loss flag; $.conversations[1] (assistant) had loss=False"]


def test_shape_problems_carry_codes_and_paths():
    problems = []
    FORMATS["chatglm3"].read({"conversations": [{"role": "user"}, 5, {"role": "tool", "name": "f",
                              "parameters": "x", "observation": 1, "extra": 1}]}, problems)
    assert [(p.code, p.path) for p in problems] == [
        ("S004", "$.conversations[0].content"), ("S005", "$.conversations[1]"),
        ("S006", "$.conversations[2].extra"), ("T004", "$.conversations[2].parameters")]
