"""The fast readers (columns built without a loop per message, or a lean one) must give exactly
what the detailed reader gives, and defer to it whenever there is anything to report."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataforge.formats import FORMATS
from dataforge.lint.rules import RULES, load_all
from tests.conftest import SAMPLES

load_all()
CONVERSATION_FORMATS = ["chatglm3", "sharegpt", "openai"]


def records():
    for path in sorted((SAMPLES / "datasets").glob("*.jsonl")) + sorted((SAMPLES / "generated").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            yield json.loads(line)
    for rule in RULES.values():
        for text in (rule.bad, rule.good):
            for line in text.splitlines():
                try:
                    yield json.loads(line)
                except ValueError:
                    pass


def same(fmt, raw):
    fast_problems, detailed_problems = [], []
    fast = fmt.read(raw, fast_problems)
    detailed = fmt.read_detailed(raw, detailed_problems)
    assert fast_problems == detailed_problems
    if fast is not None or detailed is not None:
        assert fast.messages == detailed.messages and fast.tools == detailed.tools
    clean = fmt.read_clean(raw)
    if clean is not None:  # read_clean's promise: the format's own record, nothing to report
        assert fmt.detect(raw) and not detailed_problems
        assert clean.messages == detailed.messages and clean.tools == detailed.tools


@pytest.mark.parametrize("name", CONVERSATION_FORMATS)
def test_fast_and_detailed_readers_agree_on_every_example(name):
    fmt = FORMATS[name]
    for raw in records():
        if isinstance(raw, dict) and fmt.detect(raw):
            same(fmt, raw)


values = st.one_of(st.none(), st.booleans(), st.integers(-1, 2), st.text(max_size=3), st.just({"city": "x"}))
message = st.dictionaries(st.sampled_from(["role", "content", "loss", "name", "parameters", "observation", "x"]),
                          st.one_of(values, st.sampled_from(["user", "assistant", "system", "tool", "human"])),
                          max_size=5)


@settings(max_examples=400, deadline=None)
@given(st.lists(message, max_size=5), st.sampled_from([{}, {"tools": []}, {"x": 1}]))
def test_chatglm3_readers_agree_on_arbitrary_messages(conv, more):
    same(FORMATS["chatglm3"], {"conversations": conv, **more})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_dumps_writes_exactly_what_json_dumps_writes(value):
    from dataforge.formats.base import dumps

    assert dumps(value) == json.dumps(value, ensure_ascii=False)


any_message = st.dictionaries(
    st.sampled_from(["role", "content", "from", "value", "loss", "weight", "name", "tool_calls", "x"]),
    st.one_of(values, st.sampled_from(["user", "assistant", "system", "tool", "human", "gpt", "observation"])),
    max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CONVERSATION_FORMATS), st.lists(any_message, max_size=4),
       st.sampled_from([{}, {"system": "s"}, {"system": 1}, {"tools": []}, {"chosen": {"from": "gpt", "value": "a"}}]))
def test_readers_agree_and_read_clean_keeps_its_promise(name, conv, more):
    key = "messages" if name == "openai" else "conversations"
    same(FORMATS[name], {key: conv, **more})


def keeps_its_promise(fmt, raw):
    clean = fmt.read_clean(raw)
    if clean is not None:
        problems = []
        assert fmt.detect(raw), (fmt.name, raw)
        detailed = fmt.read_detailed(raw, problems)
        assert not problems, (fmt.name, raw)
        assert (detailed.messages, detailed.tools, detailed.extra) == (clean.messages, clean.tools, clean.extra)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_read_clean_keeps_its_promise_for_every_format_on_every_example(name):
    for raw in records():
        if isinstance(raw, dict):
            keeps_its_promise(FORMATS[name], raw)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(FORMATS)), st.lists(any_message, max_size=3),
       st.sampled_from([{}, {"system": "s"}, {"chosen": {"from": "gpt", "value": "a"}}, {"instruction": "i"}]))
def test_read_clean_keeps_its_promise_for_every_format(name, conv, more):
    for key in ("messages", "conversations"):
        keeps_its_promise(FORMATS[name], {key: conv, **more})


odd = st.sampled_from([None, 0, "", False, ["a"], {"a": 1}, [["q"]], [["q", 1]], [None]])
pairs = st.lists(st.lists(st.text(max_size=2), min_size=2, max_size=2), max_size=3)
alpaca_fields = {"instruction": st.text(max_size=3), "input": st.text(max_size=3), "output": st.text(max_size=3),
                 "system": st.text(max_size=3), "history": pairs, "x": st.just(1)}


@st.composite
def alpaca_records(draw):
    """Each field absent, well-formed, or odd: clean records and each way of breaking one."""
    raw = {}
    for key, good in alpaca_fields.items():
        kind = draw(st.sampled_from(["absent", "good", "good", "odd"] if key != "x" else ["absent", "absent", "good"]))
        if kind != "absent":
            raw[key] = draw(good if kind == "good" else odd)
    return raw


@settings(max_examples=500, deadline=None)
@given(alpaca_records())
def test_alpaca_readers_agree_and_read_clean_keeps_its_promise(raw):
    same(FORMATS["alpaca"], raw)


def test_alpaca_read_clean_takes_the_common_records():
    fmt = FORMATS["alpaca"]
    for raw in ({"instruction": "a", "output": "b"}, {"instruction": "a", "input": "c", "output": "b", "system": "s",
                                                     "history": [["q", "r"]]}, {"instruction": "a", "output": "b",
                                                                                 "history": None}):
        assert fmt.read_clean(raw) is not None
