"""LLaMA-Factory export, read back the way LLaMA-Factory reads dataset_info.json.

`lf_read` restates LLaMA-Factory's own reading (its dataset_info.json semantics and its Alpaca and
ShareGPT converters, as documented): column and tag defaults per formatting, a leading system
message taken out, role tags that must alternate user/observation with assistant/function, an
even count for SFT and an odd prompt for ranking, kto_tag, and pre-training text read from the
prompt column. The exported samples must come back as the samples that went in.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from dataforge.errors import DataforgeError
from dataforge.export import export
from dataforge.export.llamafactory import merge_entries
from dataforge.model import Role
from tests.conftest import REPO, write_jsonl
from tests.export.conftest import DATASETS, arguments, turns

ALPACA_COLUMNS = {"prompt": "instruction", "query": "input", "response": "output", "history": None,
                  "system": None, "tools": None, "kto_tag": None, "chosen": None, "rejected": None}
SHAREGPT_COLUMNS = {"messages": "conversations", "system": None, "tools": None, "kto_tag": None,
                    "chosen": None, "rejected": None}
SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                 "observation_tag": "observation", "function_tag": "function_call", "system_tag": None}


def lf_read(folder, name):
    """[{"_prompt", "_response", "_system", "_tools"}] as LLaMA-Factory makes them (None: a row
    it drops as broken)."""
    info = json.loads((folder / "dataset_info.json").read_text(encoding="utf-8"))[name]
    formatting = info.get("formatting", "alpaca")
    if formatting not in ("alpaca", "sharegpt"):
        formatting = "alpaca"
    columns = {**(ALPACA_COLUMNS if formatting == "alpaca" else SHAREGPT_COLUMNS), **info.get("columns", {})}
    tags = {**SHAREGPT_TAGS, **info.get("tags", {})}
    ranking = info.get("ranking", False)
    rows = [json.loads(line) for line in (folder / info["file_name"]).read_text(encoding="utf-8").splitlines()]
    convert = _alpaca if formatting == "alpaca" else _sharegpt
    return [convert(row, columns, tags, ranking) for row in rows]


def _alpaca(row, columns, tags, ranking):
    prompt = []
    if columns["history"] and isinstance(row.get(columns["history"]), list):
        for old_prompt, old_response in row[columns["history"]]:
            prompt += [{"role": "user", "content": old_prompt}, {"role": "assistant", "content": old_response}]
    query = [row[columns[k]] for k in ("prompt", "query") if columns[k] and row.get(columns[k])]
    prompt.append({"role": "user", "content": "\n".join(query)})
    response = row.get(columns["response"]) if columns["response"] else None
    response = [{"role": "assistant", "content": response}] if isinstance(response, str) else []
    return {"_prompt": prompt, "_response": response,
            "_system": row.get(columns["system"], "") if columns["system"] else "",
            "_tools": row.get(columns["tools"], "") if columns["tools"] else ""}


def _sharegpt(row, columns, tags, ranking):
    mapping = {tags["user_tag"]: "user", tags["assistant_tag"]: "assistant", tags["observation_tag"]: "observation",
               tags["function_tag"]: "function", tags["system_tag"]: "system"}
    odd, even = (tags["user_tag"], tags["observation_tag"]), (tags["assistant_tag"], tags["function_tag"])
    messages = row[columns["messages"]]
    if tags["system_tag"] and messages and messages[0][tags["role_tag"]] == tags["system_tag"]:
        system, messages = messages[0][tags["content_tag"]], messages[1:]
    else:
        system = row.get(columns["system"], "") if columns["system"] else ""
    aligned = []
    for i, m in enumerate(messages):
        if m[tags["role_tag"]] not in (odd, even)[i % 2]:
            return None  # "Invalid role tag": LLaMA-Factory drops the row
        aligned.append({"role": mapping[m[tags["role_tag"]]], "content": m[tags["content_tag"]]})
    if (not ranking and len(aligned) % 2) or (ranking and len(aligned) % 2 == 0):
        return None  # "Invalid message count"
    kto = columns["kto_tag"]
    if kto and isinstance(row.get(kto), bool):
        prompt, response = aligned[:-1], aligned[-1:]
        empty = [{"role": "assistant", "content": ""}]
        response = response + empty if row[kto] else empty + response
    elif ranking:
        chosen, rejected = row[columns["chosen"]], row[columns["rejected"]]
        prompt = aligned
        response = [{"role": mapping[x[tags["role_tag"]]], "content": x[tags["content_tag"]]}
                    for x in (chosen, rejected)]
    else:
        prompt, response = aligned[:-1], aligned[-1:]
    return {"_prompt": prompt, "_response": response, "_system": system,
            "_tools": row.get(columns["tools"], "") if columns["tools"] else ""}


def expected(sample):
    """A sample as LLaMA-Factory should see it: the system apart, tool calls as function turns."""
    system = ""
    rows = []
    for role, content in turns(sample):
        if role == Role.SYSTEM:
            system = content
        elif role == Role.TOOL_CALL:
            rows.append({"role": "function", "content": content})
        else:
            rows.append({"role": role, "content": content})
    return system, rows


def _function(content):
    """A function turn's content as an object ({name, arguments} with arguments parsed)."""
    value = json.loads(content)
    return {"name": value["name"], "arguments": arguments(value["arguments"])}


def _seen(row):
    seen = []
    for m in row["_prompt"] + row["_response"]:
        seen.append({"role": m["role"], "content": _function(m["content"]) if m["role"] == "function" else m["content"]})
    return seen


def test_every_kind_reads_back_as_the_samples_that_went_in(tmp_path, shipped):
    out = tmp_path / "data"
    result = export([str(DATASETS)], "llamafactory", out, name="shop")
    entries = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert set(entries) == {"shop_sft", "shop_dpo", "shop_kto", "shop_pt"}
    by_kind = {"sft": [], "dpo": [], "kto": [], "pt": []}
    from dataforge.export.llamafactory import kind

    for s in shipped:
        by_kind[kind(s)].append(s)
    for k, samples in by_kind.items():
        rows = lf_read(out, f"shop_{k}")
        assert len(rows) == len(samples) > 0
        for sample, row in zip(samples, rows):
            assert row is not None, f"LLaMA-Factory would drop {sample.meta}"
            system, messages = expected(sample)
            if k == "pt":
                assert row["_prompt"] == [{"role": "user", "content": sample.contents[0]}]
                continue
            assert row["_system"] == system
            seen = _seen(row)
            if k == "dpo":
                assert seen[:-2] == messages
                assert [m["content"] for m in seen[-2:]] == [sample.chosen.content, sample.rejected.content]
            elif k == "kto":
                label = sample.extra["label"]
                empty = {"role": "assistant", "content": ""}
                assert seen == messages + [empty] if label else seen == messages[:-1] + [empty, messages[-1]]
            else:
                assert seen == messages
            tools = row["_tools"]
            if sample.tools is not None:
                assert json.loads(tools) == [t.get("function", t) for t in arguments(sample.tools)]
    assert result.config[:4] == ["# sft", "stage: sft", f"dataset_dir: {out.resolve()}", "dataset: shop_sft"]


def test_alpaca_stays_alpaca_and_reads_back(tmp_path, shipped):
    out = tmp_path / "data"
    export([str(DATASETS / "alpaca.jsonl")], "llamafactory", out, name="instr")
    entry = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))["instr"]
    assert entry["formatting"] == "alpaca"
    samples = [s for s in shipped if s.meta["format"] == "alpaca"]
    for sample, row in zip(samples, lf_read(out, "instr"), strict=True):
        system, messages = expected(sample)
        assert row["_system"] == system
        # Alpaca joins instruction and input with a newline, as dataforge reads them
        assert _seen(row) == messages


def test_eval_split_gets_its_own_entry(tmp_path):
    records = [{"instruction": f"question number {i} about topic {i * 7}", "input": "", "output": f"answer {i}"}
               for i in range(20)]
    src = write_jsonl(tmp_path / "qa.jsonl", records)
    result = export([str(src)], "llamafactory", tmp_path / "data", eval_size=0.25, seed=3)
    entries = json.loads((tmp_path / "data" / "dataset_info.json").read_text(encoding="utf-8"))
    assert list(entries) == ["qa", "qa_eval"]
    train, held = lf_read(tmp_path / "data", "qa"), lf_read(tmp_path / "data", "qa_eval")
    assert (len(train), len(held)) == (15, 5)
    assert not {r["_prompt"][-1]["content"] for r in train} & {r["_prompt"][-1]["content"] for r in held}
    assert "eval_dataset: qa_eval" in result.config


EXISTING = """{
\t"identity": {"file_name": "identity.json"},
  "alpaca_en_demo":   {
      "file_name": "alpaca_en_demo.json", "note": "caf\\u00e9 1.0e3", "n": 1.50
  },
  "mllm_demo": {
    "file_name": "mllm_demo.json",
    "formatting": "sharegpt",
    "columns": {"messages": "messages", "images": "images"},
    "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"}
  }
}
"""


def test_merge_keeps_every_other_entry_byte_for_byte():
    merged = merge_entries(EXISTING, {"new": {"file_name": "new.jsonl", "formatting": "sharegpt"}})
    assert merged.startswith(EXISTING[:EXISTING.rindex("}\n  }") + 4])  # everything up to the last entry's end
    assert json.loads(merged)["new"] == {"file_name": "new.jsonl", "formatting": "sharegpt"}
    assert list(json.loads(merged)) == ["identity", "alpaca_en_demo", "mllm_demo", "new"]
    assert merged.endswith("}\n")


def test_merge_replaces_only_the_named_entry():
    with pytest.raises(DataforgeError, match="already has an entry 'alpaca_en_demo'"):
        merge_entries(EXISTING, {"alpaca_en_demo": {"file_name": "x.jsonl"}})
    merged = merge_entries(EXISTING, {"alpaca_en_demo": {"file_name": "x.jsonl"}}, replace=True)
    start = EXISTING.index('{\n      "file_name": "alpaca_en_demo.json"')
    end = EXISTING.index("}", start) + 1
    # indented as the file's first entry is (a tab here), one step per level
    assert merged == EXISTING[:start] + '{\n\t\t"file_name": "x.jsonl"\n\t}' + EXISTING[end:]


def test_merge_into_empty_object_and_broken_file():
    assert json.loads(merge_entries("{}", {"a": {"file_name": "a.jsonl"}})) == {"a": {"file_name": "a.jsonl"}}
    with pytest.raises(DataforgeError, match="not valid JSON"):
        merge_entries('{"a": ', {"b": {}})


def test_export_into_a_llamafactory_data_folder(tmp_path, run_line):
    data = tmp_path / "data"
    data.mkdir()
    (data / "dataset_info.json").write_text(EXISTING, encoding="utf-8")
    (data / "identity.json").write_text("[]", encoding="utf-8")
    result = run_line(f"dataforge export {DATASETS / 'sharegpt.jsonl'} --to llamafactory -o {data} --name chat "
                      f"--template qwen")
    assert result.exit_code == 0, result.stderr
    text = (data / "dataset_info.json").read_text(encoding="utf-8")
    assert text.startswith(EXISTING[:EXISTING.rindex("}\n  }") + 4])
    assert "dataset: chat" in result.stdout and "template: qwen" in result.stdout
    assert (data / "identity.json").read_text() == "[]"
    again = run_line(f"dataforge export {DATASETS / 'sharegpt.jsonl'} --to llamafactory -o {data} --name chat")
    assert again.exit_code == 2 and "exists" in again.stderr
    assert (data / "dataset_info.json").read_text(encoding="utf-8") == text
    assert run_line(f"dataforge export {DATASETS / 'sharegpt.jsonl'} --to llamafactory -o {data} --name chat "
                    "--force").exit_code == 0
    assert (data / "dataset_info.json").read_text(encoding="utf-8") == text


def test_a_set_with_errors_is_refused_with_its_findings(tmp_path, run_line):
    src = write_jsonl(tmp_path / "bad.jsonl", [{"instruction": "a", "input": "", "output": "b"},
                                               {"instruction": "c", "input": "", "output": 3}])
    out = tmp_path / "out"
    result = run_line(f"dataforge export {src} --to llamafactory -o {out}")
    assert result.exit_code == 1
    assert "bad.jsonl:2:" in result.stdout and "S005" in result.stdout
    assert "nothing was written" in result.stderr
    assert not out.exists() or not any(out.iterdir())
    skipped = run_line(f"dataforge export {src} --to llamafactory -o {out} --skip-bad")
    assert skipped.exit_code == 0, skipped.stderr
    assert "1 record(s) left out" in skipped.stderr and "bad.jsonl:2: record 1" in skipped.stderr
    manifest = json.loads((out / "bad.manifest.json").read_text(encoding="utf-8"))
    assert manifest["skipped"][0]["record"] == 1 and manifest["outputs"][0]["records"] == 1


def test_manifest_names_inputs_outputs_and_losses(tmp_path):
    import hashlib

    out = tmp_path / "out"
    export([str(DATASETS / "chatglm3_tools.jsonl")], "llamafactory", out, name="tools")
    manifest = json.loads((out / "tools.manifest.json").read_text(encoding="utf-8"))
    data = (out / "tools.jsonl").read_bytes()
    assert manifest["outputs"] == [{"file": "tools.jsonl", "split": "train", "records": 3,
                                    "sha256": hashlib.sha256(data).hexdigest(), "entry": "tools"}]
    assert manifest["inputs"][0]["sha256"] == hashlib.sha256((DATASETS / "chatglm3_tools.jsonl").read_bytes()).hexdigest()
    assert manifest["lost"]["records"] == 1
    assert "sharegpt has no per-message loss flag; $… (assistant) had loss=False" in manifest["lost"]["by_message"]
    assert manifest["dataforge"]


def test_killed_export_leaves_nothing_half_written(tmp_path):
    records = [{"instruction": f"question {i} " + "word " * 50, "input": "", "output": f"answer {i}"}
               for i in range(60_000)]
    src = write_jsonl(tmp_path / "big.jsonl", records)
    out = tmp_path / "out"
    out.mkdir()
    (out / "dataset_info.json").write_text(EXISTING, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "dataforge", "export", str(src), "--to", "llamafactory",
                             "-o", str(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    stage = None
    while time.monotonic() < deadline and proc.poll() is None:  # kill it while it writes its staging folder
        stage = next((p for p in out.iterdir() if p.name.startswith(".dataforge-export.")), None)
        if stage is not None and any(stage.iterdir()):
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the export finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert visible == ["dataset_info.json"]
    assert (out / "dataset_info.json").read_text(encoding="utf-8") == EXISTING
    export([str(DATASETS / "alpaca.jsonl")], "llamafactory", out, name="small")
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # the dead run's staging folder is gone
