"""lint on whole files: exact findings at exact places, both layouts, options, exit codes."""

from __future__ import annotations

import json

import pytest

from dataforge.lint.engine import Linter, LintOptions
from tests.conftest import SAMPLES, write_jsonl

BROKEN = [
    {"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
    {"conversations": [{"role": "human", "content": "2+2?"}, {"role": "assistant", "content": "4"}]},
    {"conversations": [{"role": "user", "content": "hi"}, {"role": "system", "content": "brief"},
                       {"role": "assistant", "content": "hello"}]},
    {"conversations": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "loss": "false"}]},
    {"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
]
# (code, record, JSONPath, line in .jsonl, column in .jsonl)
EXPECTED = [
    ("R010", 1, "$.conversations[0].role", 2, 29),
    ("R002", 2, "$.conversations[1]", 3, 55),
    ("L001", 3, "$.conversations[1].loss", 4, 100),
    ("L002", 3, "$", 4, 1),
    ("D001", 4, "$", 5, 1),
]


def findings(paths, **options):
    return list(Linter(LintOptions(**options)).run(paths))


def test_jsonl_findings_at_exact_places(tmp_path):
    path = write_jsonl(tmp_path / "data.jsonl", BROKEN)
    got = [(f.code, f.location.record, f.location.path, f.location.line, f.location.column) for f in findings([path])]
    assert got == EXPECTED


def test_json_array_findings_at_exact_places(tmp_path):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(BROKEN, indent=2, ensure_ascii=False), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").split("\n")
    got = [(f.code, f.location.record, f.location.path) for f in findings([path])]
    assert got == [(code, record, p) for code, record, p, _, _ in EXPECTED]
    # each position points at the value its JSONPath names
    for f in findings([path]):
        line = lines[f.location.line - 1]
        at = line[f.location.column - 1:]
        last = f.location.path.rsplit(".", 1)[-1]
        if last == "role":
            assert at.startswith('"human"')
        elif last == "loss":
            assert at.startswith('"false"')
        else:
            assert at.startswith("{")


def test_two_processes_find_exactly_what_one_finds(tmp_path):
    records = BROKEN * 2500
    path = write_jsonl(tmp_path / "big.jsonl", records)
    one = findings([path])
    two = findings([path], jobs=2)
    assert one == two
    assert len(one) > 10000


def test_select_and_ignore_by_prefix(tmp_path):
    path = write_jsonl(tmp_path / "data.jsonl", BROKEN)
    assert {f.code for f in findings([path], select=("L",))} == {"L001", "L002"}
    assert {f.code for f in findings([path], ignore=("L", "D001"))} == {"R010", "R002"}


def test_forced_format_reads_every_record_as_that_format(tmp_path):
    path = write_jsonl(tmp_path / "data.jsonl", [{"prompt": "a", "response": "b"}])
    assert [(f.code, f.location.path) for f in findings([path], format="alpaca")] == [
        ("S006", "$.prompt"), ("S006", "$.response"), ("S004", "$.instruction"), ("S004", "$.output")]


def test_overlap_between_train_and_eval(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", BROKEN[:2])
    evaluation = write_jsonl(tmp_path / "eval.jsonl", [{"prompt": "x", "response": "y"}, BROKEN[0]])
    overlap = [f for f in findings([train, evaluation]) if f.code == "D002"]
    assert [(f.location.file, f.location.record, f.message) for f in overlap] == [
        (str(evaluation), 1, f"same record as record 0 of {train}")]


def test_samples_are_clean(run_line):
    result = run_line(f"dataforge lint {SAMPLES / 'datasets'} --output-format json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    # the pre-training sample is said to be one, once for the file; nothing else
    assert [(f["code"], f["location"]["file"]) for f in report["findings"]] == \
        [("S007", str(SAMPLES / "datasets" / "pretraining_text.jsonl"))]
    assert (report["summary"]["records"], report["summary"]["files"]) == (24, 11)


def test_broken_samples_fail(run_line):
    result = run_line(f"dataforge lint {SAMPLES / 'broken'}")
    assert result.exit_code == 1
    assert "chatglm3_broken.jsonl:6:57: E001 error: invalid JSON" in result.stdout
    assert "alpaca_broken.json:14:3: S004 error: missing required field 'output' at $.output (record 2)" in result.stdout


@pytest.mark.parametrize("flags, code", [("", 1), ("--exit-zero", 0), ("--fail-on warning", 1),
                                         ("--select R005", 0), ("--select R005 --fail-on warning", 1)])
def test_exit_codes(tmp_path, run_line, flags, code):
    path = write_jsonl(tmp_path / "d.jsonl", [{"conversations": [{"role": "user", "content": "a"},
                                                                 {"role": "user", "content": "b"},
                                                                 {"role": "assistant", "content": "c"}]},
                                              {"conversations": [{"role": "user", "content": "a"}]}])
    assert run_line(f"dataforge lint {path} {flags}").exit_code == code


def test_settings_from_pyproject(tmp_path, run_line, monkeypatch):
    write_jsonl(tmp_path / "d.jsonl", BROKEN)
    (tmp_path / "pyproject.toml").write_text('[tool.dataforge.lint]\nselect = ["L"]\noutput-format = "json"\n')
    monkeypatch.chdir(tmp_path)
    result = run_line("dataforge lint d.jsonl")
    report = json.loads(result.stdout)
    assert sorted(f["code"] for f in report["findings"]) == ["L001", "L002"]
    assert run_line("dataforge lint d.jsonl --select R --output-format text").stdout.startswith("d.jsonl:2:29: R010")


def test_bad_settings_are_a_usage_error(tmp_path, run_line, monkeypatch):
    write_jsonl(tmp_path / "d.jsonl", BROKEN)
    (tmp_path / "pyproject.toml").write_text('[tool.dataforge.lint]\nselekt = ["L"]\n')
    monkeypatch.chdir(tmp_path)
    result = run_line("dataforge lint d.jsonl")
    assert result.exit_code == 2
    assert "unknown setting [tool.dataforge.lint] selekt" in result.stderr


def test_statistics(tmp_path, run_line):
    path = write_jsonl(tmp_path / "d.jsonl", BROKEN)
    out = run_line(f"dataforge lint {path} --statistics").stdout
    assert "       1  L001  loss-not-boolean" in out
    assert "       5  records in format chatglm3" in out


def test_rule_command(run_line):
    result = run_line("dataforge rule l001")
    assert result.exit_code == 0
    assert "L001 loss-not-boolean (error)" in result.stdout
    assert '"loss": "false"' in result.stdout and '"loss": false' in result.stdout
    assert run_line("dataforge rule X999").exit_code == 2
    assert run_line("dataforge rule --list").stdout.count("\n") >= 36


@pytest.mark.parametrize("jobs", [1, 2])
def test_duplicates_after_a_broken_record_name_the_right_record(tmp_path, jobs):
    good = json.dumps(BROKEN[0])
    lines = [good, "{broken", json.dumps(BROKEN[2]), good, good]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    duplicates = [(f.location.line, f.location.record, f.message) for f in findings([path], jobs=jobs)
                  if f.code == "D001"]
    assert duplicates == [(4, 3, "same record as record 0"), (5, 4, "same record as record 0")]


def test_records_before_a_structural_break_are_all_checked(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(BROKEN, indent=2)[:-20])  # the last record is cut off
    linter = Linter(LintOptions())
    got = [(f.code, f.location.record) for f in linter.run([path])]
    assert got == [("R010", 1), ("R002", 2), ("L001", 3), ("L002", 3), ("E001", None)]
    assert linter.summary.records == 4


def test_jobs_default_to_every_core_only_for_enough_json_lines(tmp_path, monkeypatch):
    import os

    from dataforge.lint import engine

    path = write_jsonl(tmp_path / "data.jsonl", BROKEN * 3)
    assert engine.auto_jobs([path]) == 1  # a small file: one process
    monkeypatch.setattr(engine, "AUTO_JOBS_BYTES", 1)
    assert engine.auto_jobs([path]) == len(os.sched_getaffinity(0))
    monkeypatch.setattr(engine, "BLOCK", 64)  # several ranges, so the workers really share the file
    spread = [(f.code, f.location.record, f.location.line) for f in findings([path], jobs=0)]
    assert spread == [(f.code, f.location.record, f.location.line) for f in findings([path], jobs=1)]
    assert len(spread) > 10


def test_the_shipped_samples_lint_clean_together(run_line):
    """What a newcomer runs first: the generated and hand-written samples, as one set."""
    result = run_line(f"dataforge lint {SAMPLES / 'generated'} {SAMPLES / 'datasets'}")
    assert result.exit_code == 0, result.stdout
    assert "0 errors" in result.stdout
