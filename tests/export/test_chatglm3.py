"""ChatGLM3 export: the demo's multi-turn format (tool messages with name, parameters and
observation) and its input-output format, as JSON arrays in train.json and dev.json."""

from __future__ import annotations

import json

from dataforge.export import export
from dataforge.formats import get_format
from tests.export.conftest import DATASETS, turns


def test_multi_turn_reads_back_as_the_samples(tmp_path, shipped):
    files = [DATASETS / "chatglm3_tools.jsonl", DATASETS / "sharegpt.jsonl"]
    result = export([str(f) for f in files], "chatglm3", tmp_path / "glm", eval_size=1, seed=0)
    train = json.loads((tmp_path / "glm" / "train.json").read_text(encoding="utf-8"))
    dev = json.loads((tmp_path / "glm" / "dev.json").read_text(encoding="utf-8"))
    samples = [s for s in shipped if s.meta["file"].endswith(("chatglm3_tools.jsonl", "sharegpt.jsonl"))]
    assert len(train) + len(dev) == len(samples) and len(dev) == 1
    fmt = get_format("chatglm3")
    back = [turns(fmt.read(r, [])) for r in train + dev]
    assert sorted(map(str, back)) == sorted(str(turns(s)) for s in samples)
    for record in train + dev:  # what the demo's reader takes from each message
        for m in record["conversations"]:
            assert m["role"] in ("system", "user", "assistant", "tool")
            if m["role"] == "tool":
                assert {"name", "parameters", "observation"} <= m.keys()
    assert "  val_file: dev.json" in result.config


def test_input_output_holds_one_exchange(tmp_path):
    result = export([str(DATASETS / "chatglm3_io.jsonl"), str(DATASETS / "alpaca.jsonl")], "chatglm3-io",
                    tmp_path / "io")
    records = json.loads((tmp_path / "io" / "train.json").read_text(encoding="utf-8"))
    assert all(set(r) == {"prompt", "response"} for r in records)
    assert records[0] == {"prompt": "类型#上衣*颜色#白色*风格#简约", "response": "这款白色上衣版型简约大方，百搭又显气质。"}
    assert "  val_file: train.json" in result.config  # no eval split: the demo evaluates on train
