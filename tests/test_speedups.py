"""The compiled speedups (dataforge/_speedups.c) against their pure-Python twins.

Each compiled function may only be faster: it must accept and refuse exactly what the Python
code does, and give the same values. A machine with a C compiler must have built them, or
lint silently runs at a fraction of its speed.
"""

import hashlib
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataforge
from dataforge.formats.base import PlainLayout, _plain_columns_py
from dataforge.jsonio.parse import MAX_DEPTH, _parse_fast, parse, parse_strict
from dataforge.lint.rules import RULES, load_all
from dataforge.speedups import compiled
from tests.conftest import SAMPLES

needs_compiled = pytest.mark.skipif(compiled is None, reason="the C speedups are not built here")
SOURCE = Path(dataforge.__file__).with_name("_speedups.c")


@pytest.mark.skipif(bool(os.environ.get("DATAFORGE_PURE_PYTHON")), reason="pure Python asked for")
def test_a_machine_that_can_build_the_speedups_uses_them(tmp_path):
    from hatch_build import compile_extension

    error = compile_extension(SOURCE, tmp_path / f"_speedups{sysconfig.get_config_var('EXT_SUFFIX')}")
    if error:
        pytest.skip(f"this machine cannot build the speedups: {error}")
    assert compiled is not None, "dataforge._speedups is missing or stale: run `pip install -e .` again"
    assert compiled.SOURCE_DIGEST == hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]


def outcome(parse, text: bytes):
    try:
        value = parse(text)
    except ValueError:
        return "refused"
    return json.dumps(value, sort_keys=True)  # 1 and 1.0 and True differ in JSON text, as they should


def assert_same_parse(text: bytes):
    strict = outcome(parse_strict, text)
    assert outcome(_parse_fast, text) == strict, text
    assert outcome(parse, text) == strict, text  # the compiled parse_record


EDGE_CASES = [
    b'{"a": 1, "a": 2}', b'{"a": {"b": 1, "b": 1}}', b'[{"x": 1}, {"x": 1, "y": 2, "x": 3}]',
    b'{"a\\u0062": 1, "ab": 2}',  # the same key, once escaped
    b'{"k": "a:b", "q": "say \\"x\\": y", "e": "\\\\", "f": "\\\\\\":"}',  # colons and quotes inside strings
    b'{"": 1, "": 2}', b'123456789012345678901234567890', b'-9223372036854775809', b'18446744073709551616',
    b'[1.5e300, 1e400, -0, 0.1]', b'NaN', b'[Infinity]', b'[1,]', b'{"a": 1,}', b'"\\ud800"', b'"\xff"',
    b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    b'{"a":' * MAX_DEPTH + b"1" + b"}" * MAX_DEPTH, b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1),
    b"", b" ", b"1 2", b'"unterminated', b'{"a" 1}', b'{"a": 1} {"b": 2}', b"\xef\xbb\xbf{}", b'"\x00"',
]


@needs_compiled
@pytest.mark.parametrize("text", EDGE_CASES)
def test_fast_parse_agrees_with_strict_parse_on_edge_cases(text):
    assert_same_parse(text)


@needs_compiled
@pytest.mark.parametrize("fast", [_parse_fast, parse])
def test_duplicate_keys_are_refused_with_jiters_position(fast):
    with pytest.raises(ValueError, match="duplicate key.*line 1 column"):
        fast(b'{"conversations": [], "conversations": []}')


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from('ab:"\\{}[],é中\n'), max_size=6),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(alphabet=st.sampled_from('ab:"\\'), max_size=3), children, max_size=4),
    max_leaves=20)


@needs_compiled
@settings(max_examples=500, deadline=None)
@given(json_values, st.data())
def test_fast_parse_agrees_with_strict_parse_on_mutated_json(value, data):
    text = json.dumps(value, ensure_ascii=data.draw(st.booleans())).encode()
    assert_same_parse(text)
    # Repeat a member, cut the text, or splice in a byte: duplicates and broken texts alike.
    member = text.find(b'":')
    if member > 0 and text.startswith(b"{"):
        end = text.find(b",", member)
        if end > 0:
            assert_same_parse(text[:end] + b", " + text[1:end] + text[end:])
    cut = data.draw(st.integers(0, len(text)))
    assert_same_parse(text[:cut])
    assert_same_parse(text[:cut] + data.draw(st.sampled_from([b'"', b"\\", b":", b"{", b"]", b"\xff"])) + text[cut:])


LAYOUT = PlainLayout("role", "content", {"user": "user", "assistant": "assistant"}, "$.conversations", loss_key="loss")
NO_LOSS = PlainLayout("from", "value", {"human": "user", "gpt": "assistant"}, "$.conversations")

message = st.dictionaries(
    st.sampled_from(["role", "content", "loss", "from", "value", "x"]),
    st.one_of(st.none(), st.booleans(), st.integers(0, 1), st.text(max_size=2), st.just({"a": 1}),
              st.sampled_from(["user", "assistant", "human", "gpt", "system"])),
    max_size=4)


@needs_compiled
@settings(max_examples=600, deadline=None)
@given(st.one_of(st.lists(message, max_size=4), st.lists(st.sampled_from([{"role": "user", "content": "hi"}]),
                                                         min_size=63, max_size=66)))
def test_plain_columns_agree_with_the_python_twin(messages):
    for layout in (LAYOUT, NO_LOSS):
        fast = compiled.plain_columns(messages, layout.role_key, layout.content_key, layout.loss_key,
                                      layout.roles, layout.max_messages)
        assert fast == _plain_columns_py(messages, layout)


chatglm3_message = st.dictionaries(
    st.sampled_from(["role", "content", "loss", "name", "parameters", "observation", "x"]),
    st.one_of(st.none(), st.booleans(), st.integers(0, 1), st.text(max_size=2), st.just({"city": "x"}),
              st.just([1]), st.sampled_from(["user", "assistant", "system", "tool", "human"])),
    max_size=5)
tool_message = st.fixed_dictionaries(
    {"role": st.just("tool"), "name": st.sampled_from(["get_weather", 1]), "parameters": st.just({"city": "x"}),
     "observation": st.one_of(st.text(max_size=2), st.just({"t": 3}), st.just([1, "中"]), st.none())},
    optional={"loss": st.sampled_from([True, False, None])})


@needs_compiled
@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(chatglm3_message, tool_message), max_size=5))
def test_chatglm3_columns_agree_with_the_python_twin(conv):
    from dataforge.formats.base import observation_text
    from dataforge.formats.chatglm3 import _PLAIN, ChatGLM3, _tool_columns_py
    from dataforge.model import Role

    fast = compiled.chatglm3_columns(ChatGLM3.roles, _PLAIN.paths, Role.TOOL_CALL, Role.OBSERVATION,
                                     observation_text, conv)
    assert fast == _tool_columns_py(conv)


def lint_json(paths, pure: bool) -> dict:
    """`dataforge lint --output-format json` in a new interpreter, with or without the speedups
    (they are chosen at import, so run_line's in-process call cannot switch them)."""
    env = {**os.environ, "DATAFORGE_PURE_PYTHON": "1"} if pure else {
        k: v for k, v in os.environ.items() if k != "DATAFORGE_PURE_PYTHON"}
    run = subprocess.run([sys.executable, "-m", "dataforge", "lint", "--output-format", "json", *map(str, paths)],
                         capture_output=True, text=True, env=env)
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


@needs_compiled
def test_lint_reports_the_same_with_and_without_the_compiled_speedups(tmp_path):
    load_all()
    lines = [line for rule in RULES.values() if not rule.code.startswith("M") and rule.example_format is None
             for text in (rule.bad, rule.good) for line in text.splitlines()]
    (tmp_path / "examples.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "examples.json").write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    paths = [tmp_path / "examples.jsonl", tmp_path / "examples.json", SAMPLES / "broken", SAMPLES / "datasets"]
    compiled_report = lint_json(paths, pure=False)
    assert len(compiled_report["findings"]) > 50
    assert compiled_report == lint_json(paths, pure=True)


@needs_compiled
def test_a_build_older_than_its_source_is_not_used(tmp_path, monkeypatch):
    from dataforge import speedups

    edited = tmp_path / "_speedups.c"
    edited.write_bytes(SOURCE.read_bytes() + b"\n/* edited after the install */\n")
    with pytest.warns(RuntimeWarning, match="older than _speedups.c"):
        assert speedups._load(edited) is None
    assert speedups._load(SOURCE) is compiled
    monkeypatch.setenv("DATAFORGE_PURE_PYTHON", "1")
    assert speedups._load(SOURCE) is None
