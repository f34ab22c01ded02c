"""stats: figures counted independently here agree, token figures are preview's encoding, and the
reports are real PNG and HTML files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from dataforge.masking.session import MaskingSession
from dataforge.model import Role
from dataforge.stats import _Spread, file_figures
from dataforge.stats.figures import language
from tests.conftest import REPO, SAMPLES

DATASETS = SAMPLES / "datasets"


def test_counts_match_the_samples(shipped_samples):
    figures = file_figures([str(DATASETS)])
    samples = shipped_samples
    assert figures.samples == len(samples)
    roles = {}
    for s in samples:
        for r in s.roles:
            roles[r] = roles.get(r, 0) + 1
    assert dict(figures.roles) == roles
    assert figures.with_tool_calls == sum(Role.TOOL_CALL in s.roles for s in samples)
    assert figures.turns.tolist() == [s.roles.count(Role.USER) for s in samples]
    chars = [len("".join(s.contents) + "".join(r.content for r in (s.chosen, s.rejected) if r)) for s in samples]
    assert figures.chars.tolist() == chars
    assert figures.kinds == {"supervised": 16, "preference": 3, "pre-training": 3, "KTO": 2}


def test_token_figures_are_the_preview_encoding(shipped_samples):
    masking = MaskingSession.create("qwen", "qwen", None)
    figures = file_figures([str(DATASETS / "sharegpt.jsonl"), str(DATASETS / "openai.jsonl")], masking, "qwen")
    samples = [s for name in ("sharegpt.jsonl", "openai.jsonl") for s in shipped_samples
               if s.meta["file"].endswith("/" + name)]
    encoded = [masking.encode(s)[0] for s in samples]
    assert figures.tokens.lengths.tolist() == [len(e.input_ids) for e in encoded]
    assert figures.tokens.trained.tolist() == [e.trained for e in encoded]
    assert figures.tokens.counted == len(samples)


def test_languages():
    assert language("Hello there") == "English/Latin"
    assert language("退款多久到账？") == "Chinese"
    assert language("ありがとう、東京") == "Japanese"
    assert language("안녕하세요") == "Korean"
    assert language("Größe") == "other"


def test_spread_keeps_evenly_spaced_items():
    spread = _Spread(100)
    for i in range(10_000):
        spread.offer(i)
    items = spread.items()
    assert len(items) == 100
    gaps = np.diff(items)
    assert gaps.min() == gaps.max()


def test_cli_at_80_columns_without_colour_and_reports(tmp_path):
    png, page = tmp_path / "s.png", tmp_path / "s.html"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "dataforge", "stats", str(DATASETS), "--tokenizer", "qwen",
                           "--template", "qwen", "--max-len", "64", "--png", str(png), "--html", str(page)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(map(len, lines)) <= 80 and "\x1b[" not in done.stdout
    assert lines[0].split() == ["samples", "24"]
    assert any(line.startswith("  over max") for line in lines)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = page.read_text(encoding="utf-8")
    assert "<svg" in html and "samples" in html and "over max len" in html


def test_json_output(run_line):
    result = run_line(f"dataforge stats {DATASETS / 'alpaca.jsonl'} --json")
    figures = json.loads(result.stdout)
    assert figures["samples"] == 3 and figures["formats"] == {"alpaca": 3}
    assert set(figures["characters"]) == {"min", "p50", "p90", "p99", "max", "mean"}


def test_worker_processes_give_the_same_figures(run_line):
    one = run_line(f"dataforge stats {DATASETS / 'alpaca.jsonl'} {DATASETS / 'sharegpt.jsonl'} --json -j 1")
    two = run_line(f"dataforge stats {DATASETS / 'alpaca.jsonl'} {DATASETS / 'sharegpt.jsonl'} --json -j 2")
    assert one.exit_code == two.exit_code == 0, one.stderr + two.stderr
    assert json.loads(one.stdout) == json.loads(two.stdout) and json.loads(one.stdout)["samples"] > 3
