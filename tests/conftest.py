"""Shared fixtures: run the CLI like a shell line, and write small dataset files."""

from __future__ import annotations

import io
import json
import shlex
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from dataforge.cli import main

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_line():
    """Run `dataforge ...` in-process: run_line("dataforge lint x.jsonl") -> Result."""

    def run(line: str | list[str]) -> Result:
        argv = shlex.split(line) if isinstance(line, str) else list(line)
        assert argv[0] == "dataforge"
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(argv[1:])
            except SystemExit as exc:  # argparse's own usage errors
                code = exc.code
        return Result(int(code), out.getvalue(), err.getvalue())

    return run


def sections_docx(path: Path, sections: int, text: str = "Rule {i} applies to orders of category {i}.") -> Path:
    """A .docx of `sections` headed sections, one paragraph each: one chunk per section."""
    import docx

    d = docx.Document()
    for i in range(sections):
        d.add_heading(f"Section {i}", 1)
        d.add_paragraph(text.format(i=i))
    d.save(str(path))
    return path


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path
