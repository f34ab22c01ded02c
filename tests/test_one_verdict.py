"""Every command reads a record the same way and says the same thing about it: lint, convert,
preview, generate's record check, the review editor and export."""

from __future__ import annotations

import json

import pytest

from dataforge.formats import get_format
from dataforge.generate.records import problems_of
from dataforge.review.session import ReviewSession
from tests.conftest import write_jsonl

GOOD = {"instruction": "Say hi", "input": "", "output": "hi"}


def test_a_record_missing_a_field_gets_one_verdict(tmp_path, run_line):
    """lint, convert and preview all name the missing field; none says "matches no known format"."""
    path = write_jsonl(tmp_path / "data.jsonl", [GOOD, {"instruction": "Say bye", "input": ""}])
    lint = run_line(f"dataforge lint {path} --output-format json")
    (finding,) = [f for f in json.loads(lint.stdout)["findings"] if f["location"]["record"] == 1]
    assert finding["code"] == "S004" and "'output'" in finding["message"]
    convert = run_line(f"dataforge convert {path} --to openai -o {tmp_path / 'out.jsonl'}")
    assert "record 1: not converted: S004 missing required field 'output'" in convert.stderr
    preview = run_line(f"dataforge preview {path} --record 1")
    assert preview.exit_code == 2 and "S004 missing required field 'output'" in preview.stderr


@pytest.mark.parametrize("text, code", [
    ('{"instruction": "a", "instruction": "b", "input": "", "output": "c"}', "E"),  # a duplicate key
    ('{"instruction": "a", "input": "", "output": "c", "score": NaN}', "E"),
])
def test_the_editor_refuses_what_lint_refuses(tmp_path, run_line, text, code):
    path = write_jsonl(tmp_path / "data.jsonl", [GOOD])
    session = ReviewSession()
    opened = session.open(path)
    try:
        findings = ReviewSession.problems_of_text(opened, text)
        assert findings and findings[0].code.startswith(code) and findings[0].severity == "error"
        bad = tmp_path / "bad.jsonl"
        bad.write_text(text + "\n")
        lint = json.loads(run_line(f"dataforge lint {bad} --output-format json").stdout)
        assert [f["code"] for f in lint["findings"]] == [f.code for f in findings]
    finally:
        session.close()


def test_an_accepted_edit_lints_clean_after_export(tmp_path, run_line):
    from dataforge.review.export import export_accepted

    path = write_jsonl(tmp_path / "data.jsonl", [GOOD, GOOD | {"instruction": "Say bye"}])
    session = ReviewSession()
    opened = session.open(path)
    try:
        edit = GOOD | {"output": "hello there"}
        assert ReviewSession.problems_of_text(opened, json.dumps(edit)) == []
        opened.store.edit(0, opened.dataset.sample_id(0), edit)
        opened.store.decide(0, opened.dataset.sample_id(0), "accepted")
        out = tmp_path / "export.jsonl"
        export_accepted(opened.dataset, opened.store, "alpaca", out)
    finally:
        session.close()
    assert run_line(f"dataforge lint {out}").exit_code == 0
    assert json.loads(out.read_text())["output"] == "hello there"


def test_generate_and_the_editor_follow_the_project_settings(tmp_path, monkeypatch):
    record = GOOD | {"note": "kept for later"}
    assert [p.code for p in problems_of(record, "alpaca")] == ["S006"]
    (tmp_path / "pyproject.toml").write_text('[tool.dataforge.lint]\nignore = ["S006"]\n')
    monkeypatch.chdir(tmp_path)
    assert problems_of(record, "alpaca") == []
    path = write_jsonl(tmp_path / "data.jsonl", [GOOD])
    session = ReviewSession()
    try:
        assert ReviewSession.problems_of_text(session.open(path), json.dumps(record)) == []
    finally:
        session.close()


def test_a_wrong_type_is_said_once(tmp_path):
    """A field of the wrong type is not also reported as empty, by lint or by generate's check."""
    codes = [p.code for p in problems_of(GOOD | {"output": ["hi"]}, "alpaca")]
    assert codes == ["S005"]


def test_the_review_list_reads_records_of_another_format_as_lint_does(tmp_path):
    other = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}
    path = write_jsonl(tmp_path / "data.jsonl", [GOOD, other])
    session = ReviewSession()
    try:
        opened = session.open(path)
        assert opened.dataset.format is get_format("alpaca")
        assert opened.dataset.sample(1).contents == ("hi", "yo")
    finally:
        session.close()


def test_bookkeeping_keys_are_kept_and_never_findings(tmp_path, run_line):
    """FastChat's ShareGPT gives every record an `id`: no S006, the schema accepts it, conversion keeps it."""
    record = {"id": "identity_0", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}
    other = {"id": "identity_1", "conversations": [{"from": "human", "value": "bye"}, {"from": "gpt", "value": "ok"}]}
    path = write_jsonl(tmp_path / "fastchat.jsonl", [record, other])
    result = run_line(f"dataforge lint {path}")
    assert result.exit_code == 0 and "no findings" in result.stdout
    out = tmp_path / "out.jsonl"
    run_line(f"dataforge convert {path} --to openai -o {out}")
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["identity_0", "identity_1"]
    assert run_line(f"dataforge lint {out}").exit_code == 0
