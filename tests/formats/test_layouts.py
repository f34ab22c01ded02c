"""The layouts real folders hold, each read with no finding when well formed, and with the
finding that names the fault when not."""

from __future__ import annotations

import json

import pytest

from dataforge.formats import detect
from tests.conftest import write_jsonl

LF_PARTS = {"messages": [
    {"role": "user", "content": [{"type": "image", "value": "a.jpg"}, {"type": "text", "value": "hi"}]},
    {"role": "assistant", "content": [{"type": "text", "value": "hello"}]}]}
OPENAI_VISION = {"messages": [
    {"role": "user", "content": [{"type": "text", "text": "What is in it?"},
                                 {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
    {"role": "assistant", "content": "A cat."}]}
TRL = {
    "standard prompt-completion": {"prompt": "Capital of France?", "completion": "Paris."},
    "conversational prompt-completion": {"prompt": [{"role": "user", "content": "Capital of France?"}],
                                         "completion": [{"role": "assistant", "content": "Paris."}]},
    "kto": {"prompt": "Capital of Spain?", "completion": "Lisbon.", "label": False},
    "standard preference": {"prompt": "Capital?", "chosen": "Paris.", "rejected": "Rome."},
    "conversational preference": {"prompt": [{"role": "user", "content": "Capital?"}],
                                  "chosen": [{"role": "assistant", "content": "Paris."}],
                                  "rejected": [{"role": "assistant", "content": "Rome."}]},
    "implicit-prompt preference": {
        "chosen": [{"role": "user", "content": "Capital?"}, {"role": "assistant", "content": "Paris."}],
        "rejected": [{"role": "user", "content": "Capital?"}, {"role": "assistant", "content": "Rome."}]},
}
GOOD = {"content parts (LLaMA-Factory)": LF_PARTS, "vision parts (OpenAI)": OPENAI_VISION, **TRL,
        "multimodal": {"messages": [{"role": "user", "content": "<image>Who?"},
                                    {"role": "assistant", "content": "Two players."}], "images": ["1.jpg"]},
        "pre-training text": {"text": "plain text"}}


def lint(tmp_path, run_line, record):
    path = write_jsonl(tmp_path / "data.jsonl", [record])
    result = run_line(f"dataforge lint {path} --output-format json")
    return [f["code"] for f in json.loads(result.stdout)["findings"]]


@pytest.mark.parametrize("name", GOOD)
def test_a_well_formed_record_has_no_finding(tmp_path, run_line, name):
    codes = lint(tmp_path, run_line, GOOD[name])
    assert codes == (["S007"] if name == "pre-training text" else []), codes


def test_text_parts_are_the_text():
    (fmt,) = detect(LF_PARTS)
    sample = fmt.read(LF_PARTS, [])
    assert sample.contents == ("hi", "hello")


@pytest.mark.parametrize("name", TRL)
def test_trl_layouts_read_the_prompt_and_the_replies(name):
    record = TRL[name]
    fmt = detect(record)[0]
    problems = []
    sample = fmt.read(record, problems)
    assert problems == []
    prompt = [m.content for m in sample.messages if m.role == "user"]
    assert prompt in (["Capital of France?"], ["Capital?"], ["Capital of Spain?"])
    if "preference" in name:
        assert (sample.chosen.content, sample.rejected.content) == ("Paris.", "Rome.")
    else:
        assert sample.messages[-1].role == "assistant"


BAD = {
    "media in a reply": ({"messages": [{"role": "user", "content": "draw"}, {"role": "assistant", "content": [
        {"type": "image_url", "image_url": {"url": "x"}}]}]}, "S005"),
    "completion missing": ({"prompt": "Capital?", "completion": None}, "S005"),
    "label not a boolean": ({"prompt": "Capital?", "completion": "Paris.", "label": "yes"}, "S005"),
    "implicit pair with one side": ({"chosen": [{"role": "user", "content": "q"},
                                                {"role": "assistant", "content": "a"}]}, "P001"),
    "preference prompt of the wrong type": ({"prompt": 3, "chosen": "a", "rejected": "b"}, "S005"),
    "media count": ({"messages": [{"role": "user", "content": "<image><image>Compare"},
                                  {"role": "assistant", "content": "Same."}], "images": ["a.jpg"]}, "S008"),
}


@pytest.mark.parametrize("name", BAD)
def test_a_broken_record_gets_the_finding_that_names_it(tmp_path, run_line, name):
    record, code = BAD[name]
    assert code in lint(tmp_path, run_line, record)


def test_kto_labels_survive_conversion(tmp_path, run_line):
    path = write_jsonl(tmp_path / "kto.jsonl", [TRL["kto"]])
    out = tmp_path / "out.jsonl"
    run_line(f"dataforge convert {path} --to openai -o {out}")
    record = json.loads(out.read_text())
    assert record["label"] is False and record["messages"][-1]["content"] == "Lisbon."
    assert run_line(f"dataforge lint {out}").exit_code == 0
