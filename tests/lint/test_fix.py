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


# --- only the fixed bytes change, and what the user set up around the file survives ---------

HUMAN = '{"conversations": [{"role": "human", "content": "hi", "n": 2.50}, {"role": "gpt", "content": "1e3"}]}'
CLEAN = '{"conversations": [{"role": "user", "content": "ok", "score": 1.0E+2}, {"role": "assistant", "content": "x"}]}'


def fixed_text(text):
    return text.replace('"human"', '"user"').replace('"gpt"', '"assistant"')


def test_crlf_blank_lines_and_number_spellings_are_kept(tmp_path, run_line):
    path = tmp_path / "d.jsonl"
    original = f"{HUMAN}\r\n\r\n{CLEAN}\r\n\r\n  {HUMAN}  \r\n"
    path.write_bytes(original.encode())
    assert "fixed 4 findings" in run_line(f"dataforge lint {path} --fix").stderr
    assert path.read_bytes() == fixed_text(original).encode()  # byte for byte, 2.50 and 1.0E+2 included


def test_a_pretty_printed_array_keeps_its_layout(tmp_path, run_line):
    path = tmp_path / "d.json"
    records = [json.loads(HUMAN), json.loads(CLEAN)]
    original = json.dumps(records, indent=4, ensure_ascii=False).replace("2.5", "2.50")
    path.write_text(original, encoding="utf-8")
    assert "fixed 2 findings" in run_line(f"dataforge lint {path} --fix").stderr
    assert path.read_text(encoding="utf-8") == fixed_text(original)


def test_the_file_mode_is_kept(tmp_path, run_line):
    path = tmp_path / "d.jsonl"
    path.write_text(HUMAN + "\n")
    path.chmod(0o640)
    run_line(f"dataforge lint {path} --fix")
    assert (path.stat().st_mode & 0o777) == 0o640 and '"user"' in path.read_text()


def test_a_symlink_stays_a_link_and_its_target_is_fixed(tmp_path, run_line):
    target = tmp_path / "data" / "real.jsonl"
    target.parent.mkdir()
    target.write_text(HUMAN + "\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    run_line(f"dataforge lint {link} --fix")
    assert link.is_symlink() and '"user"' in target.read_text()
    assert (tmp_path / "link.jsonl.orig").read_text() == HUMAN + "\n"


def test_hard_links_stay_linked(tmp_path, run_line):
    import os

    path = tmp_path / "d.jsonl"
    path.write_text(HUMAN + "\n")
    other = tmp_path / "other-name.jsonl"
    os.link(path, other)
    run_line(f"dataforge lint {path} --fix --no-backup")
    assert path.stat().st_ino == other.stat().st_ino and '"user"' in other.read_text()


def test_an_existing_backup_is_never_overwritten(tmp_path, run_line):
    path = tmp_path / "d.jsonl"
    path.write_text(HUMAN + "\n")
    (tmp_path / "d.jsonl.orig").write_text("the user's own file\n")
    result = run_line(f"dataforge lint {path} --fix")
    assert (tmp_path / "d.jsonl.orig").read_text() == "the user's own file\n"
    assert (tmp_path / "d.jsonl.orig.1").read_text() == HUMAN + "\n"
    assert f"original kept as {tmp_path / 'd.jsonl.orig.1'}" in result.stderr


def test_a_read_only_folder_is_a_message(tmp_path, run_line, monkeypatch):
    import os

    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "d.jsonl"
    path.write_text(HUMAN + "\n")
    if os.geteuid() == 0:  # root writes into read-only folders: refuse the writes the way the kernel would
        import shutil
        import tempfile

        def refused(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(tempfile, "mkstemp", refused)
        monkeypatch.setattr(shutil, "copy2", refused)
    folder.chmod(0o555)
    try:
        result = run_line(f"dataforge lint {path} --fix")
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 1 and "not fixed: cannot write here (Permission denied)" in result.stderr
    assert "Traceback" not in result.stderr and path.read_text() == HUMAN + "\n"


def test_a_broken_array_is_left_alone_with_a_message(tmp_path, run_line):
    path = tmp_path / "d.json"
    original = f"[{HUMAN}, {CLEAN},\n {{\"conversations\": ["
    path.write_text(original)
    result = run_line(f"dataforge lint {path} --fix")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "not fixed: its structure is broken" in result.stderr
    assert path.read_text() == original and not list(tmp_path.glob(".*.tmp"))


def test_an_interrupted_fix_leaves_the_file_whole_and_no_temporary_behind(tmp_path):
    """SIGTERM in the middle of writing: the original stays, the temporary file goes."""
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "big.jsonl"
    line = HUMAN.replace('"hi"', '"' + "x" * 2000 + '"') + "\n"
    path.write_text(line * 40_000)  # 80 MB: long enough to be caught mid-write
    before = path.stat().st_size
    proc = subprocess.Popen([sys.executable, "-m", "dataforge", "lint", str(path), "--fix", "--no-backup"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".big.jsonl.*.tmp")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert path.stat().st_size == before or '"user"' in path.read_text()[:200]  # old file, or the complete new one
    assert not list(tmp_path.glob(".big.jsonl.*.tmp"))
    assert os.path.exists(path)


def test_a_temporary_left_by_a_killed_run_is_removed_by_the_next(tmp_path, run_line):
    path = tmp_path / "d.jsonl"
    path.write_text(HUMAN + "\n")
    stale = tmp_path / ".d.jsonl.999999999.abcd.tmp"  # no such process
    stale.write_text("half a file")
    mine = tmp_path / ".d.jsonl.1.abcd.tmp"  # pid 1 is alive: not ours to remove
    mine.write_text("someone's write")
    run_line(f"dataforge lint {path} --fix")
    assert not stale.exists() and mine.exists()
