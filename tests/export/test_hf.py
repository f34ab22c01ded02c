"""Hugging Face export: the folder loads with datasets.load_from_disk, the Parquet files with
load_dataset("parquet", ...), and the rows hold the samples in TRL's columns."""

from __future__ import annotations

import json

import pytest

from dataforge.errors import DataforgeError
from dataforge.export import export
from dataforge.model import Role
from tests.conftest import write_jsonl
from tests.export.conftest import DATASETS, arguments, turns

datasets = pytest.importorskip("datasets")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))


def _seen(messages):
    out = []
    for m in messages:
        if m["role"] != "assistant" or m["content"] or not m.get("tool_calls"):
            out.append((Role.OBSERVATION if m["role"] == "tool" else m["role"], m["content"]))
        for call in m.get("tool_calls") or []:
            out.append((Role.TOOL_CALL, {"name": call["function"]["name"],
                                         "arguments": json.loads(call["function"]["arguments"])}))
    return out


def _conversations(shipped):
    files = ("sharegpt.jsonl", "chatglm3_tools.jsonl", "openai.jsonl")
    return [str(DATASETS / f) for f in files], [s for s in shipped if s.meta["file"].endswith(files)]


def test_save_to_disk_folder_loads_with_the_samples(tmp_path, shipped):
    paths, samples = _conversations(shipped)
    result = export(paths, "hf", tmp_path / "hf", name="chat", eval_size=2, seed=1, template="qwen")
    loaded = datasets.load_from_disk(str(tmp_path / "hf"))
    assert set(loaded) == {"train", "test"} and (len(loaded["train"]), len(loaded["test"])) == (len(samples) - 2, 2)
    rows = list(loaded["train"]) + list(loaded["test"])
    by_text = {json.dumps(_seen(r["messages"]), ensure_ascii=False): r for r in rows}
    for sample in samples:
        row = by_text[json.dumps(turns(sample), ensure_ascii=False)]
        if sample.tools is not None:
            assert json.loads(row["tools"]) == [t.get("function", t) for t in arguments(sample.tools)]
    card = (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")
    assert "| train | " in card and "qwen" in card and "sharegpt.jsonl" in card
    assert {o.file for o in result.outputs} >= {"train", "test", "dataset_dict.json"}


def test_parquet_files_load_with_load_dataset(tmp_path, shipped):
    paths, samples = _conversations(shipped)
    export(paths, "hf", tmp_path / "pq", name="chat", options={"parquet": True})
    loaded = datasets.load_dataset("parquet", data_files={"train": str(tmp_path / "pq" / "data" / "train-*.parquet")})
    order = {f: i for i, f in enumerate(paths)}  # the export keeps the order the files were named in
    samples = sorted(samples, key=lambda s: order[s.meta["file"]])
    assert [_seen(r["messages"]) for r in loaded["train"]] == [turns(s) for s in samples]
    card = (tmp_path / "pq" / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "path: data/train-*.parquet" in card


def test_preference_pairs_get_prompt_chosen_rejected(tmp_path, shipped):
    export([str(DATASETS / "preference.jsonl"), str(DATASETS / "sharegpt_preference.jsonl")], "hf", tmp_path / "p")
    rows = list(datasets.load_from_disk(str(tmp_path / "p"))["train"])
    samples = [s for s in shipped if s.is_preference]
    assert len(rows) == len(samples)
    for sample, row in zip(samples, rows):
        assert [(m["role"], m["content"]) for m in row["prompt"]] == [(m.role, m.content) for m in sample.messages]
        assert row["chosen"] == [{"role": "assistant", "content": sample.chosen.content}]
        assert row["rejected"] == [{"role": "assistant", "content": sample.rejected.content}]


def test_kto_samples_get_prompt_completion_label(tmp_path):
    src = write_jsonl(tmp_path / "kto.jsonl", [
        {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "good"}], "label": True},
        {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "bad"}], "label": False}])
    export([str(src)], "hf", tmp_path / "k")
    rows = list(datasets.load_from_disk(str(tmp_path / "k"))["train"])
    assert [(r["prompt"], r["completion"], r["label"]) for r in rows] == [
        ([{"role": "user", "content": "q"}], [{"role": "assistant", "content": "good"}], True),
        ([{"role": "user", "content": "q"}], [{"role": "assistant", "content": "bad"}], False)]


def test_mixed_kinds_are_refused(tmp_path):
    with pytest.raises(DataforgeError, match="one kind of sample"):
        export([str(DATASETS / "alpaca.jsonl"), str(DATASETS / "preference.jsonl")], "hf", tmp_path / "m")
    assert not any((tmp_path / "m").iterdir())
