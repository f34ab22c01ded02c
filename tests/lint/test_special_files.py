"""Special inputs: pipes, loops of links, unreadable folders, many files, huge lines, a million
findings. Each ends with a clear message and the right exit code, in bounded memory."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

RECORD = {"instruction": "q", "input": "", "output": "a"}


def write(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_a_pipe_given_by_name_is_refused(tmp_path, run_line):
    pipe = tmp_path / "data.jsonl"
    os.mkfifo(pipe)
    result = run_line(f"dataforge lint {pipe}")  # opening it would wait forever for a writer
    assert result.exit_code == 2 and "not a regular file" in result.stderr


def test_a_pipe_in_a_folder_is_passed_over(tmp_path, run_line):
    write(tmp_path / "d" / "good.jsonl", [RECORD])
    os.mkfifo(tmp_path / "d" / "pipe.jsonl")
    result = run_line(f"dataforge lint {tmp_path / 'd'}")
    assert result.exit_code == 0 and "1 record in 1 file" in result.stdout


def test_links_that_loop_end(tmp_path, run_line):
    write(tmp_path / "d" / "sub" / "good.jsonl", [RECORD])
    (tmp_path / "d" / "sub" / "up").symlink_to(tmp_path / "d")  # a folder link back up
    (tmp_path / "d" / "alias").symlink_to(tmp_path / "d" / "sub")  # a second way to the same folder
    (tmp_path / "d" / "a.jsonl").symlink_to(tmp_path / "d" / "b.jsonl")
    (tmp_path / "d" / "b.jsonl").symlink_to(tmp_path / "d" / "a.jsonl")  # a file link loop: not a file
    result = run_line(f"dataforge lint {tmp_path / 'd'}")
    assert result.exit_code == 0 and "1 record in 1 file" in result.stdout  # each real folder once
    result = run_line(f"dataforge lint {tmp_path / 'd' / 'a.jsonl'}")
    assert result.exit_code == 2 and "a loop of links" in result.stderr


def test_an_unreadable_folder_fails_the_run(tmp_path, run_line, monkeypatch):
    write(tmp_path / "d" / "good.jsonl", [RECORD])
    locked = tmp_path / "d" / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root reads any folder: refuse the listing the way the kernel would
        real = os.scandir

        def scandir(path="."):
            if os.fspath(path) == os.fspath(locked):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real(path)

        monkeypatch.setattr(os, "scandir", scandir)
    locked.chmod(0)
    try:
        result = run_line(f"dataforge lint {tmp_path / 'd'}")
    finally:
        locked.chmod(0o755)
    assert result.exit_code == 2 and f"cannot read folder {locked}: Permission denied" in result.stderr


def test_hidden_folders_are_not_searched(tmp_path, run_line):
    write(tmp_path / "d" / "good.jsonl", [RECORD])
    (tmp_path / "d" / ".dataforge").mkdir()
    (tmp_path / "d" / ".dataforge" / "state.jsonl").write_text("not a dataset\n")
    assert run_line(f"dataforge lint {tmp_path / 'd'}").exit_code == 0


def test_ten_thousand_files(tmp_path, run_line):
    for i in range(10_000):
        (tmp_path / f"f{i:05}.jsonl").write_text(json.dumps({**RECORD, "instruction": f"q{i}"}) + "\n")
    result = run_line(f"dataforge lint {tmp_path}")
    assert result.exit_code == 0 and "10,000 records in 10000 files" in result.stdout


def peak_mib(args) -> tuple[subprocess.CompletedProcess, int]:
    """Run dataforge in a child and report its peak memory (VmHWM: ru_maxrss keeps the parent's)."""
    code = ("import re, sys\nfrom dataforge.cli import main\ncode = main(sys.argv[1:])\n"
            "status = open('/proc/self/status').read()\n"
            "print(int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) // 1024, file=sys.stderr)\n"
            "sys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)
    return done, int(done.stderr.strip().splitlines()[-1])


def test_a_line_of_60_mb_is_read_in_bounded_memory(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({**RECORD, "output": "x" * 60_000_000}) + "\n" + json.dumps(RECORD) + "\n")
    done, peak = peak_mib(["lint", str(path), "--select", "S,E"])
    assert done.returncode == 0 and "2 records" in done.stdout
    assert peak < 60 * 8  # a few copies of the line at most, never a blow-up


def test_reports_stream_with_a_million_findings_in_mind():
    """Each finding is written before the next is asked for: memory does not grow with their number."""
    from dataforge.lint.engine import Summary
    from dataforge.lint.findings import Finding, Location, Severity
    from dataforge.lint.reporters import REPORTERS

    for name in ("json", "sarif", "github", "text"):
        out = io.StringIO()
        written = []

        def findings():
            for i in range(3):
                if i:
                    written.append(len(out.getvalue()))
                yield Finding("S006", Severity.WARNING, f"unknown key k{i}", Location("d.jsonl", i + 1, 1, i, "$.k"),
                              "hint", False)

        if name == "text":
            from dataforge.lint.reporters import text

            text.report(findings(), Summary, out)
        else:
            REPORTERS[name](findings(), Summary, out)
        assert written[0] > 0 and written[1] > written[0], name
        if name in ("json", "sarif"):
            json.loads(out.getvalue())


def test_a_million_findings_in_json_and_sarif_take_bounded_memory(tmp_path):
    path = tmp_path / "warned.jsonl"
    path.write_text("".join(json.dumps({**RECORD, "instruction": f"q{i}", "extra": 1}) + "\n"
                            for i in range(100_000)))
    peaks = {}
    for fmt in ("json", "sarif"):
        done, peaks[fmt] = peak_mib(["lint", str(path), "--output-format", fmt, "--select", "S006", "-j", "1"])
        assert done.returncode == 0
        report = json.loads(done.stdout)
        results = report["findings"] if fmt == "json" else report["runs"][0]["results"]
        assert len(results) == 100_000
    clean, base = peak_mib(["lint", str(path), "--select", "S001", "-j", "1"])
    # A finding held in memory costs over a kilobyte as a dict; 100,000 of them would add 100 MB.
    assert max(peaks.values()) < base + 50, (peaks, base)
