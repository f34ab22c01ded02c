"""dataforge preview and dataforge templates, as a user runs them."""

import json
import re

import pytest

from dataforge.templates import TEMPLATES
from tests.conftest import SAMPLES

ANSI = re.compile(r"\x1b\[")


@pytest.mark.parametrize("path", sorted((SAMPLES / "datasets").iterdir()), ids=lambda p: p.name)
def test_preview_needs_nothing_but_the_file(run_line, path):
    result = run_line(f"dataforge preview {path}")
    assert result.exit_code == 0, result.stderr
    assert f"{path} record 0 (line " in result.stdout
    assert "tokenizer qwen (built-in), labels unshifted" in result.stdout
    assert re.search(r"tokens \d+, trained [1-9]\d* \(", result.stdout)
    assert "end of turn trained: yes, every reply" in result.stdout


def test_template_follows_the_format(run_line):
    out = run_line(f"dataforge preview {SAMPLES / 'datasets' / 'chatglm3_tools.jsonl'}").stdout
    assert "template chatglm3" in out
    assert "note: qwen (built-in) has no token for [gMASK], sop" in out  # how the markers are represented
    assert "template alpaca" in run_line(f"dataforge preview {SAMPLES / 'datasets' / 'alpaca.jsonl'}").stdout
    assert "template qwen" in run_line(f"dataforge preview {SAMPLES / 'datasets' / 'openai.jsonl'}").stdout


def test_table_marks_trained_tokens_without_colour(run_line, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    out = run_line(f"dataforge preview {SAMPLES / 'datasets' / 'openai.jsonl'} --record 1").stdout
    assert not ANSI.search(out)
    rows = [line.split() for line in out.splitlines() if re.match(r"\s*\d+\s", line)]
    trained = [row for row in rows if row[-1] == "✔"]
    assert trained and all(row[3] == row[2] for row in trained)  # label == id where trained
    assert all(row[3] == "-100" for row in rows if row[-1] != "✔")
    assert any(row[1] == "↵" for row in rows)  # a newline token, made visible


def test_json_output(run_line):
    result = run_line(f"dataforge preview {SAMPLES / 'datasets' / 'alpaca.jsonl'} --line 2 --output-format json")
    data = json.loads(result.stdout)
    assert data["record"] == 1 and data["template"] == "alpaca" and data["label_convention"] == "unshifted"
    tokens = data["tokens"]
    assert data["summary"]["tokens"] == len(tokens)
    assert data["summary"]["trained"] == sum(t["label"] != -100 for t in tokens) > 0
    assert {t["role"] for t in tokens} >= {"user", "assistant"}


def test_truncation_shows_the_cut_and_reports_nothing_trained(run_line):
    out = run_line(f"dataforge preview {SAMPLES / 'datasets' / 'chatglm3_tools.jsonl'} --record 2 --max-len 40").stdout
    assert "── cut by truncation: 17 tokens removed ──" in out
    assert "truncation removed 17 tokens, 10 of them trained" in out
    assert "NOTHING IS TRAINED in this sample" in out


def test_sanity_listing(run_line):
    out = run_line(f"dataforge preview {SAMPLES / 'datasets' / 'chatglm3_io.jsonl'} --output-format sanity").stdout
    lines = out.splitlines()
    assert lines[0] == "Sanity Check >>>>>>>>>>>>>" and lines[-1] == "<<<<<<<<<<<<< Sanity Check"
    assert all(re.fullmatch(r"'.*': \d+ -> -?\d+", line) for line in lines[1:-1])


def test_first_with_findings(run_line):
    out = run_line(f"dataforge preview {SAMPLES / 'broken' / 'chatglm3_broken.jsonl'} --first-with-findings").stdout
    assert "record 1 (line 2, chatglm3)" in out


@pytest.mark.parametrize("flags, message", [
    ("--record 99", "no record 99"),
    ("--record 5", "record 5 cannot be read: E001 invalid JSON"),
    ("--template nope", "unknown template 'nope'"),
    ("--tokenizer /nonexistent", "no such tokenizer folder"),
])
def test_bad_requests_are_clear(run_line, flags, message):
    result = run_line(f"dataforge preview {SAMPLES / 'broken' / 'chatglm3_broken.jsonl'} {flags}")
    assert result.exit_code == 2
    assert message in result.stderr


def test_templates_command(run_line):
    out = run_line("dataforge templates").stdout
    assert [line.split()[0] for line in out.splitlines()] == [*TEMPLATES, "hf"]


def test_lint_with_masking(run_line):
    path = SAMPLES / "datasets" / "openai.jsonl"
    result = run_line(f"dataforge lint {path} --max-len 64")
    assert result.exit_code == 1
    assert f"{path}:1:1: M001 error: truncation to 64 tokens removes all 47 trained tokens (record 0)" in result.stdout
    assert run_line(f"dataforge lint {path} --max-len 4096").exit_code == 0


def test_templates_say_which_reference_they_follow(run_line):
    out = run_line("dataforge templates --verbose").stdout
    blocks = re.split(r"\n(?=\S)", out.strip())
    assert [b.split()[0] for b in blocks] == [*TEMPLATES, "hf"]
    for block in blocks:
        assert "follows:" in block
        assert all(len(line) <= 100 for line in block.splitlines()[1:])
    assert "Baichuan2's fine-tune.py" in out and "ChatGLM3's fine-tuning demo" in out


def test_pieces_of_one_character_are_shown_as_their_bytes(tmp_path, run_line):
    """A rare character is several byte-level tokens: each shows its own bytes, and together they
    are the character's UTF-8, not the character repeated once per piece."""
    import json

    path = tmp_path / "rare.jsonl"
    path.write_text(json.dumps({"instruction": "龘𠀋", "input": "", "output": "ok"}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    result = run_line(f"dataforge preview {path} --output-format json")
    rows = json.loads(result.stdout)["tokens"]
    pieces = [r for r in rows if r["text"].startswith("‹")]
    assert "".join(r["text"].strip("‹›").replace(" ", "") for r in pieces) == "龘𠀋".encode().hex()
    assert {r["raw"] for r in pieces} == {"龘", "𠀋"}
    table = run_line(f"dataforge preview {path}").stdout
    assert "‹e9 be›" in table and "龘" not in table.split("Instruction")[1].split("Response")[0]
