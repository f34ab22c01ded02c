"""split: exact sizes, seeded, stratified by source, and no exact or near repeat on both sides."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from dataforge.errors import DataforgeError
from dataforge.model import Sample
from dataforge.split import eval_size, split_samples
from tests.conftest import write_jsonl
from tests.test_dedup import BASE, _distinct


def _samples(texts, file="a.jsonl"):
    return [Sample(("user", "assistant"), ("q", t), (None, None), ("$", "$"), meta={"file": file, "record": i})
            for i, t in enumerate(texts)]


def test_sizes_are_exact_and_seeded():
    samples = _samples(_distinct(100))
    a = split_samples(samples, 0.1, seed=7)
    assert len(a.eval) == 10 and len(a.train) == 90 and not set(a.eval) & set(a.train)
    assert a.eval == split_samples(samples, 0.1, seed=7).eval
    assert a.eval != split_samples(samples, 0.1, seed=8).eval
    assert len(split_samples(samples, 25).eval) == 25


def test_no_repeat_crosses_the_split():
    texts = _distinct(200, seed=3)
    planted = []
    for i in range(0, 60, 2):  # 30 near pairs and 10 exact pairs, spread over the set
        texts[i + 1] = texts[i].replace(texts[i].split()[5], "changed", 1)
        planted.append((i, i + 1))
    for i in range(100, 120, 2):
        texts[i + 1] = texts[i]
        planted.append((i, i + 1))
    samples = _samples(texts)
    for seed in range(5):
        result = split_samples(samples, 0.3, seed=seed)
        held = set(result.eval)
        assert len(held) == 60
        for a, b in planted:
            assert (a in held) == (b in held), (seed, a, b)
        assert result.clusters_kept_whole == 40


def test_stratified_split_takes_each_source_share():
    samples = _samples(_distinct(80, seed=4), "a.jsonl") + _samples(_distinct(20, seed=5), "b.jsonl")
    result = split_samples(samples, 0.2, seed=1, stratify=True)
    assert Counter(samples[i].meta["file"] for i in result.eval) == {"a.jsonl": 16, "b.jsonl": 4}


def test_sizes_that_leave_a_side_empty_are_refused():
    samples = _samples(_distinct(5))
    with pytest.raises(DataforgeError, match="leaves train empty"):
        split_samples(samples, 5)
    assert eval_size("10%") == 0.1 and eval_size("500") == 500
    with pytest.raises(DataforgeError):
        eval_size("1.5")


def test_a_cluster_too_big_for_eval_is_said(tmp_path):
    samples = _samples([BASE] * 9 + ["another sample with different words entirely"])
    result = split_samples(samples, 3)
    assert len(result.eval) == 1 and "not 3" in result.note


def test_split_command_writes_train_and_eval(tmp_path, run_line):
    records = [{"instruction": t, "input": "", "output": "ok"} for t in _distinct(30, seed=9)]
    records[1] = dict(records[0])  # an exact repeat
    src = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "split"
    result = run_line(f"dataforge split {src} --eval 6 --seed 2 -o {out}")
    assert result.exit_code == 0, result.stderr
    train = [json.loads(x) for x in (out / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    held = [json.loads(x) for x in (out / "eval.jsonl").read_text(encoding="utf-8").splitlines()]
    assert (len(train), len(held)) == (24, 6)
    assert sorted(map(json.dumps, train + held)) == sorted(map(json.dumps, records))
    assert (records[0] in held) == (records[1] in held)
    again = run_line(f"dataforge split {src} --eval 6 --seed 2 -o {out}")
    assert again.exit_code == 2 and "--force" in again.stderr
    assert run_line(f"dataforge split {src} --eval 2.5 -o {out}").exit_code == 2
