"""Every rule fails its bad cases and passes its good ones; the documented examples are cases too."""

from __future__ import annotations

import json

import pytest

from dataforge.lint.engine import Linter, LintOptions
from dataforge.lint.rules import RULES, load_all

load_all()

# Examples that are not one JSON Lines text: bytes, or several files.
SPECIAL = {
    "S009": {"bad": {"dataset_info.json": b'{"demo": {"file_name": "demo.jsonl", "formatting": "sharegpt"}}',
                     "demo.jsonl": b'{"instruction": "Say hi", "input": "", "output": "hi"}\n'},
             "good": {"dataset_info.json": b'{"demo": {"file_name": "demo.jsonl"}}',
                      "demo.jsonl": b'{"instruction": "Say hi", "input": "", "output": "hi"}\n'}},
    "E002": {"bad": {"a.jsonl": '{"prompt": "退货", "response": "七天内"}\n'.encode("gbk")}},
    "D002": {"bad": {"train.jsonl": b'{"prompt": "hi", "response": "hello"}\n',
                     "eval.jsonl": b'{"prompt": "hi", "response": "hello"}\n'},
             "good": {"train.jsonl": b'{"prompt": "hi", "response": "hello"}\n',
                      "eval.jsonl": b'{"prompt": "hey", "response": "hello"}\n'}},
}


# M005 is about the pairing of tokenizer and template, not the data: its good case pairs the same
# data with a template whose markers the built-in (Qwen) tokenizer holds as single tokens.
# Good examples linted under a template whose markers the built-in tokenizer holds as tokens
GOOD_OPTIONS = {"M005": {"template": "qwen"}, "M007": {"template": "qwen"}}


def lint(tmp_path, files: dict[str, bytes], fmt: str | None = None, options: dict | None = None) -> list:
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    return list(Linter(LintOptions(format=fmt or "auto", **(options or {}))).run(paths))


def example(code: str, kind: str) -> dict[str, bytes]:
    special = SPECIAL.get(code, {}).get(kind)
    if special is not None:
        return special
    return {"data.jsonl": getattr(RULES[code], kind).encode("utf-8")}


@pytest.mark.parametrize("code", sorted(load_all()))
def test_documented_bad_example_breaks_the_rule(tmp_path, code):
    rule = RULES[code]
    codes = [f.code for f in lint(tmp_path, example(code, "bad"), rule.example_format, rule.example_options)]
    assert code in codes


@pytest.mark.parametrize("code", sorted(load_all()))
def test_documented_good_example_passes_the_rule(tmp_path, code):
    rule = RULES[code]
    findings = lint(tmp_path, example(code, "good"), rule.example_format, GOOD_OPTIONS.get(code, rule.example_options))
    assert [f.code for f in findings] == []


def conv(*messages, **top):
    return {**top, "conversations": [dict(zip(("role", "content"), m)) if isinstance(m, tuple) else m for m in messages]}


def sharegpt(*pairs, **top):
    return {**top, "conversations": [{"from": f, "value": v} for f, v in pairs]}


U, A, S = ("user", "hi"), ("assistant", "hello"), ("system", "be brief")
CALL = {"role": "tool", "name": "f", "parameters": {}, "observation": "ok"}

# (code, record that breaks it, record that does not)
CASES = [
    ("S003", None, None),  # multi-record: see test_mixed_formats
    ("S001", {"question": "hi", "answer": "x"}, {"prompt": "hi", "response": "x"}),
    ("S002", {"prompt": "hi", "response": "x", "rejected": "y"}, {"prompt": "hi", "response": "x"}),
    ("S004", conv(U, {"role": "assistant"}), conv(U, A)),
    ("S005", {"instruction": "a", "output": ["b"]}, {"instruction": "a", "output": "b"}),
    ("S005", conv(U, {"role": "assistant", "content": None}), conv(U, A)),
    ("S005", {"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "x"}]},
     {"messages": [{"role": "user", "content": "5"}, {"role": "assistant", "content": "x"}]}),
    ("S006", conv(U, {"role": "assistant", "content": "x", "los": False}), conv(U, A)),
    ("S007", {"text": "raw text"}, {"instruction": "a", "input": "", "output": "b"}),
    ("S008", {"messages": [{"role": "user", "content": "<image>x"}, {"role": "assistant", "content": "y"}],
              "images": []},
     {"messages": [{"role": "user", "content": "<image>x"}, {"role": "assistant", "content": "y"}],
      "images": ["a.png"]}),
    ("S008", {"conversations": [{"from": "human", "value": "<video>x"}, {"from": "gpt", "value": "y"}],
              "videos": ["a.mp4", "b.mp4"]},
     {"conversations": [{"from": "human", "value": "<video>x"}, {"from": "gpt", "value": "y"}], "videos": ["a.mp4"]}),
    ("R001", {"messages": [{"role": "narrator", "content": "x"}, {"role": "assistant", "content": "y"}]},
     {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}),
    ("R010", sharegpt(("user", "hi"), ("gpt", "hello")), sharegpt(("human", "hi"), ("gpt", "hello"))),
    ("R002", {"messages": [{"role": "user", "content": "x"}, {"role": "system", "content": "s"},
                           {"role": "assistant", "content": "y"}]},
     {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}),
    ("R003", conv(S, S, U, A), conv(S, U, A)),
    ("R004", sharegpt(("gpt", "hello"), ("human", "hi"), ("gpt", "ok")), sharegpt(("human", "hi"), ("gpt", "ok"))),
    ("R005", conv(U, A, A), conv(U, A, U, A)),
    ("R006", conv(S, U), conv(S, U, A)),
    ("R007", conv(U, A, U), conv(U, A)),
    ("R007", {"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}],
              "chosen": {"from": "gpt", "value": "c"}, "rejected": {"from": "gpt", "value": "d"}},
     {"conversations": [{"from": "human", "value": "a"}],
      "chosen": {"from": "gpt", "value": "c"}, "rejected": {"from": "gpt", "value": "d"}}),
    ("R008", conv(U, ("assistant", "")), conv(U, A)),
    ("R008", {"instruction": " \n", "input": "", "output": "x"}, {"instruction": "y", "input": "", "output": "x"}),
    ("R009", sharegpt(("human", "a"), ("human", "b"), ("gpt", "c")), sharegpt(("human", "a"), ("gpt", "c"))),
    ("R009", sharegpt(("human", "a"), ("gpt", "b"), ("function_call", '{"name": "f", "arguments": {}}'),
                      ("observation", "1"), ("gpt", "c")),
     sharegpt(("human", "a"), ("function_call", '{"name": "f", "arguments": {}}'), ("observation", "1"), ("gpt", "c"))),
    ("T001", {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
              "tools": {"name": "f"}},
     {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
      "tools": [{"type": "function", "function": {"name": "f"}}]}),
    ("T009", sharegpt(("human", "a"), ("observation", "1"), ("gpt", "c")),
     sharegpt(("human", "a"), ("function_call", '{"name": "f", "arguments": {}}'), ("observation", "1"), ("gpt", "c"))),
    ("T009", {"messages": [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "1", "content": "r"},
                           {"role": "assistant", "content": "y"}]},
     {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": [
         {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
         {"role": "tool", "tool_call_id": "1", "content": "r"}, {"role": "assistant", "content": "y"}]}),
    ("T001", sharegpt(("human", "a"), ("gpt", "b"), tools="[{broken"), sharegpt(("human", "a"), ("gpt", "b"), tools='[{"name": "f"}]')),
    ("T002", {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [
        {"id": "1", "type": "function", "function": {"arguments": "{}"}}]}, {"role": "tool", "tool_call_id": "1", "content": "r"},
        {"role": "assistant", "content": "y"}]}, None),
    ("T003", conv(U, {"role": "tool", "name": "f", "observation": "ok"}, A), conv(U, CALL, A)),
    ("T004", {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [
        {"id": "1", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]},
        {"role": "tool", "tool_call_id": "1", "content": "r"}, {"role": "assistant", "content": "y"}]},
     {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [
         {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
         {"role": "tool", "tool_call_id": "1", "content": "r"}, {"role": "assistant", "content": "y"}]}),
    ("T005", sharegpt(("human", "a"), ("function_call", '{"name": "g", "arguments": {}}'), ("observation", "1"), ("gpt", "c"),
                      tools='[{"name": "f"}]'),
     sharegpt(("human", "a"), ("function_call", '{"name": "f", "arguments": {}}'), ("observation", "1"), ("gpt", "c"),
              tools='[{"name": "f"}]')),
    ("T006", {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [
        {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, {"role": "assistant", "content": "y"}]},
     {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [
         {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}),
    ("T007", sharegpt(("human", "a"), ("function_call", {"name": "f", "arguments": {}}), ("observation", "1"), ("gpt", "c")),
     sharegpt(("human", "a"), ("function_call", '{"name": "f", "arguments": {}}'), ("observation", "1"), ("gpt", "c"))),
    ("T008", conv(S, U, CALL, A, tools=[{"name": "f"}]), conv(U, CALL, A, tools=[{"name": "f"}])),
    ("L001", {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "weight": 2}]},
     {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "weight": 1}]}),
    ("L001", conv(U, {"role": "assistant", "content": "y", "loss": 1}), conv(U, {"role": "assistant", "content": "y", "loss": True})),
    ("L002", conv(U, {"role": "tool", "name": "f", "parameters": {}, "observation": "ok", "loss": False},
                  {"role": "assistant", "content": "y", "loss": False}),
     conv(U, {"role": "tool", "name": "f", "parameters": {}, "observation": "ok", "loss": False}, A)),
    ("P001", {"conversations": [{"from": "human", "value": "a"}], "chosen": {"from": "gpt", "value": "c"}},
     {"conversations": [{"from": "human", "value": "a"}], "chosen": {"from": "gpt", "value": "c"},
      "rejected": {"from": "gpt", "value": "d"}}),
    ("P002", {"conversations": [{"from": "human", "value": "a"}], "chosen": {"from": "gpt", "value": "c"},
              "rejected": {"from": "gpt", "value": "c"}}, None),
    ("E001", b'{"prompt": "a", "response": "b",}', None),
    ("E003", b'\xef\xbb\xbf{"prompt": "a", "response": "b"}', None),
    ("E004", b'{"prompt": "a\x00", "response": "b"}', None),
    ("E005", b'{"prompt": "a", "response": "b", "x": Infinity}', None),
    ("E006", b'{"prompt": "a", "prompt": "b", "response": "c"}', None),
]


def _bytes(record) -> bytes:
    return record if isinstance(record, bytes) else (json.dumps(record, ensure_ascii=False) + "\n").encode()


@pytest.mark.parametrize("code, bad, good", [c for c in CASES if c[1] is not None],
                         ids=[c[0] for c in CASES if c[1] is not None])
def test_rule_cases(tmp_path, code, bad, good):
    assert code in [f.code for f in lint(tmp_path, {"bad.jsonl": _bytes(bad)})]
    if good is not None:
        assert code not in [f.code for f in lint(tmp_path, {"good.jsonl": _bytes(good)})]


def test_every_rule_has_extra_cases_or_examples():
    assert {c[0] for c in CASES} | set(SPECIAL) >= {code for code in RULES if code[0] in "SRTLP"}


def test_mixed_formats(tmp_path):
    data = b'{"prompt": "a", "response": "b"}\n{"instruction": "x", "output": "y"}\n{"prompt": "c", "response": "d"}\n'
    findings = lint(tmp_path, {"d.jsonl": data})
    assert [(f.code, f.location.line) for f in findings] == [("S003", 2)]


def test_every_code_the_source_reports_is_registered():
    """Codes are written as literals where a finding is made (the rule's own module, the engine,
    the readers); each must be one the registry holds, with its severity, hint and examples: an
    unregistered code would crash at report time or print without a rule to explain it."""
    import re
    from pathlib import Path

    import dataforge

    code = re.compile(r"""["']([SEMDRTPC]\d{3})["']""")
    used = {}
    for path in Path(dataforge.__file__).parent.rglob("*.py"):
        for found in code.findall(path.read_text(encoding="utf-8")):
            used.setdefault(found, path.name)
    assert len(used) > 30  # the pattern still finds the codes the source writes
    unregistered = {c: where for c, where in used.items() if c not in RULES}
    assert not unregistered
