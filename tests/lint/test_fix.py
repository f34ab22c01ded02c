"""--fix applies only safe fixes, atomically, and keeps the original."""

import json

from dataforge.formats.base import dumps
from tests.conftest import write_jsonl


def test_fix_jsonl(tmp_path, run_line):
    records = [
        {"conversations": [{"role": "human", "content": "hi"}, {"role": "gpt", "content": "hello"}]},
        {"conversations": [{"role": "user", "content": "ok"}, {"role": "assistant", "content": "fine"}]},
        {"conversations": [{"role": "narrator", "content": "x"}, {"role": "assistant", "content": "y"}]},
    ]
    path = tmp_path / "d.jsonl"
    original = b"\xef\xbb\xbf" + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    path.write_bytes(original)
    result = run_line(f"dataforge lint {path} --fix")
    assert result.exit_code == 1  # R001 (narrator) has no safe fix and remains
    assert f"fixed 3 findings in {path}" in result.stderr
    assert (tmp_path / "d.jsonl.orig").read_bytes() == original
    fixed = path.read_bytes()
    assert not fixed.startswith(b"\xef\xbb\xbf")
    lines = fixed.decode().splitlines()
    assert json.loads(lines[0])["conversations"][0]["role"] == "user"
    assert json.loads(lines[0])["conversations"][1]["role"] == "assistant"
    assert lines[1] == json.dumps(records[1], ensure_ascii=False)  # untouched records keep their bytes
    after = run_line(f"dataforge lint {path}")
    assert [line.split(": ")[1].split()[0] for line in after.stdout.splitlines() if ": R" in line] == ["R001", "R004"]


def test_fix_object_arguments_in_a_json_array(tmp_path, run_line):
    record = {"conversations": [{"from": "human", "value": "w?"},
                                {"from": "function_call", "value": {"name": "f", "arguments": {"city": "北京"}}},
                                {"from": "observation", "value": "3"}, {"from": "gpt", "value": "3 度"}]}
    path = tmp_path / "d.json"
    path.write_text(json.dumps([record, record | {"system": "s"}], ensure_ascii=False, indent=2), encoding="utf-8")
    result = run_line(f"dataforge lint {path} --fix --no-backup")
    assert "fixed 2 findings" in result.stderr
    assert not (tmp_path / "d.json.orig").exists()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data[0]["conversations"][1]["value"] == dumps({"name": "f", "arguments": {"city": "北京"}})
    assert run_line(f"dataforge lint {path}").exit_code == 0


def test_nothing_to_fix_leaves_the_file_alone(tmp_path, run_line):
    path = write_jsonl(tmp_path / "d.jsonl", [{"conversations": [{"role": "user", "content": "a"}]}])
    before = path.read_bytes()
    run_line(f"dataforge lint {path} --fix")
    assert path.read_bytes() == before and not (tmp_path / "d.jsonl.orig").exists()
