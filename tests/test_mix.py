"""mix: weights, seeds, replacement and provenance."""

from __future__ import annotations

import json
from collections import Counter

from dataforge.mix import draw, parse_source
from tests.conftest import SAMPLES, write_jsonl

GENERATED = SAMPLES / "generated" / "onboarding_en.alpaca.jsonl"


def _lines(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def _sources(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"instruction": f"a{i}", "input": "", "output": "x"} for i in range(10)])
    b = write_jsonl(tmp_path / "b.jsonl", [{"conversations": [{"from": "human", "value": f"b{i}"},
                                                              {"from": "gpt", "value": "y"}]} for i in range(4)])
    return a, b


def test_same_seed_same_bytes_and_weights_counted(tmp_path, run_line):
    a, b = _sources(tmp_path)
    one, two, other = tmp_path / "1.jsonl", tmp_path / "2.jsonl", tmp_path / "3.jsonl"
    assert run_line(f"dataforge mix {a}:0.5 {b}:2 --to sharegpt -o {one} --seed 4").exit_code == 0
    assert run_line(f"dataforge mix {a}:0.5 {b}:2 --to sharegpt -o {two} --seed 4").exit_code == 0
    assert run_line(f"dataforge mix {a}:0.5 {b}:2 --to sharegpt -o {other} --seed 5").exit_code == 0
    assert one.read_bytes() == two.read_bytes() != other.read_bytes()
    records = _lines(one)
    prompts = Counter(r["conversations"][0]["value"] for r in records)
    assert len(records) == 5 + 8
    assert sum(n for p, n in prompts.items() if p.startswith("a")) == 5 and max(prompts.values()) <= 2
    assert all(prompts[f"b{i}"] == 2 for i in range(4))  # weight 2: every record twice
    assert all(n == 1 for p, n in prompts.items() if p.startswith("a"))  # a half, without replacement


def test_provenance_names_the_source_and_keeps_generation_details(tmp_path, run_line):
    a, _ = _sources(tmp_path)
    out = tmp_path / "mixed.jsonl"
    result = run_line(f"dataforge mix {a} {GENERATED} --to openai -o {out} --no-shuffle")
    assert result.exit_code == 0, result.stderr
    records = _lines(out)
    assert records[0]["provenance"] == {"source": {"file": str(a), "record": 0, "line": 1, "format": "alpaca"}}
    generated = _lines(GENERATED)[0]["provenance"]
    assert records[10]["provenance"] == {**generated, "source": {"file": str(GENERATED), "record": 0, "line": 1,
                                                                  "format": "alpaca"}}


def test_draws():
    import numpy as np

    rng = np.random.default_rng(0)
    assert draw(4, 1, rng, False) == [0, 1, 2, 3]
    assert sorted(Counter(draw(4, 2.5, rng, False)).values()) == [2, 2, 3, 3]
    assert len(draw(10, 1.0, rng, True)) == 10
    assert draw(0, 3, rng, False) == []
    assert parse_source("x.jsonl:0.25").weight == 0.25
    assert parse_source("C:/data/x.jsonl").path == "C:/data/x.jsonl"


def test_bad_weight_and_errors(tmp_path, run_line):
    a, _ = _sources(tmp_path)
    assert run_line(f"dataforge mix {a}:-1 --to alpaca -o {tmp_path / 'o.jsonl'}").exit_code == 2
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"instruction": 1, "input": "", "output": "x"}])
    result = run_line(f"dataforge mix {a} {bad} --to alpaca -o {tmp_path / 'o.jsonl'}")
    assert result.exit_code == 1 and "S005" in result.stdout and not (tmp_path / "o.jsonl").exists()
