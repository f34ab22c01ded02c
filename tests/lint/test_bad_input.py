"""Whatever bytes arrive, lint ends with findings or a clear usage error: never a traceback."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

GOOD = [{"conversations": [{"role": "user", "content": "退货"}, {"role": "assistant", "content": "七天内"}]}] * 3


def lint_bytes(tmp_path, run_line, data: bytes, suffix: str):
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    return run_line(["dataforge", "lint", str(path)])


def assert_clean_exit(result):
    assert result.exit_code in (0, 1, 2)
    assert "Traceback" not in result.stdout + result.stderr


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".json", ".jsonl"]))
def test_random_bytes(tmp_path, run_line, data, suffix):
    assert_clean_exit(lint_bytes(tmp_path, run_line, data, suffix))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 400), suffix=st.sampled_from([".json", ".jsonl"]))
def test_truncated_files(tmp_path, run_line, cut, suffix):
    text = json.dumps(GOOD, ensure_ascii=False, indent=1) if suffix == ".json" else \
        "\n".join(json.dumps(r, ensure_ascii=False) for r in GOOD)
    data = text.encode()[:cut]
    result = lint_bytes(tmp_path, run_line, data, suffix)
    assert_clean_exit(result)
    if 0 < cut < len(text.encode()) - 1 and suffix == ".json":
        assert result.exit_code == 1  # a cut array is always reported


@pytest.mark.parametrize("data, suffix, code, text", [
    (b"", ".jsonl", 1, "E007 error: the file holds no records"),
    (b"  \n\n", ".json", 1, "E007"),
    ("\n".join(json.dumps(r, ensure_ascii=False) for r in GOOD).encode("gbk"), ".jsonl", 1,
     "E002 error: not valid UTF-8 (byte 0xcd); it decodes as GBK"),
    (json.dumps(GOOD, ensure_ascii=False).encode("utf-16"), ".json", 1, "E002 error: the file is UTF-16, not UTF-8"),
    (b"[" * 5000 + b"]" * 5000, ".json", 1, "nested deeper than 200 levels"),
    (b'{"a": ' * 5000, ".jsonl", 1, "E001"),
    (b"\xef\xbb\xbf" + json.dumps(GOOD[0]).encode(), ".jsonl", 0, "E003 warning"),
    (b"[1, 2]", ".json", 1, "S005 error: a record must be a JSON object"),
    (b"null", ".json", 1, "S005"),
    (b'{"conversations": [{"role": {"a": 1}, "content": "x"}]}', ".jsonl", 1, "S005"),
    (b'{"messages": [{"role": ["user"], "content": "x"}]}', ".jsonl", 1, "S005"),
])
def test_bad_files_are_findings(tmp_path, run_line, data, suffix, code, text):
    result = lint_bytes(tmp_path, run_line, data, suffix)
    assert result.exit_code == code
    assert text in result.stdout


def test_missing_path_is_a_usage_error(tmp_path, run_line):
    result = run_line(f"dataforge lint {tmp_path / 'nope.jsonl'}")
    assert result.exit_code == 2
    assert result.stderr == f"dataforge: error: {tmp_path / 'nope.jsonl'}: no such file or directory\n"


def test_directory_without_datasets_is_a_usage_error(tmp_path, run_line):
    (tmp_path / "notes.txt").write_text("x")
    result = run_line(f"dataforge lint {tmp_path}")
    assert result.exit_code == 2
    assert "no .json or .jsonl files in this directory" in result.stderr


def test_unknown_rule_prefix_and_format_are_usage_errors(tmp_path, run_line):
    path = tmp_path / "d.jsonl"
    path.write_text("{}\n")
    assert run_line(f"dataforge lint {path} --select Q").exit_code == 2
    result = run_line(f"dataforge lint {path} --format nope")
    assert result.exit_code == 2 and "known formats: chatglm3" in result.stderr
