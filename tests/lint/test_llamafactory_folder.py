"""A folder laid out like LLaMA-Factory's data/: a registry, SFT, tool, preference, KTO,
multimodal and pre-training files. lint passes it, saying only what is worth saying."""

from __future__ import annotations

import json


def write(path, records, lines=False):
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) if lines else \
        json.dumps(records, ensure_ascii=False, indent=2)
    path.write_text(text, encoding="utf-8")


def llamafactory_data(folder):
    write(folder / "alpaca_en_demo.json", [{"instruction": "Say hi", "input": "", "output": "Hi!"},
                                           {"instruction": "Add", "input": "2 and 2", "output": "4"}])
    write(folder / "glaive_toolcall_en_demo.json", [{
        "conversations": [
            {"from": "human", "value": "Weather in Paris and Rome?"},
            {"from": "function_call", "value": json.dumps([{"name": "weather", "arguments": {"city": "Paris"}},
                                                            {"name": "weather", "arguments": {"city": "Rome"}}])},
            {"from": "observation", "value": json.dumps(["12C", "18C"])},
            {"from": "gpt", "value": "Paris 12C, Rome 18C."}],
        "tools": json.dumps([{"name": "weather", "description": "Weather", "parameters": {"type": "object"}}])}])
    write(folder / "dpo_en_demo.json", [{
        "conversations": [{"from": "human", "value": "Name a colour."}],
        "chosen": {"from": "gpt", "value": "Blue."}, "rejected": {"from": "gpt", "value": "Seven."}}])
    write(folder / "kto_en_demo.json", [
        {"messages": [{"content": "Capital of France?", "role": "user"}, {"content": "Paris.", "role": "assistant"}],
         "label": True},
        {"messages": [{"content": "Capital of Spain?", "role": "user"}, {"content": "Lisbon.", "role": "assistant"}],
         "label": False}])
    write(folder / "mllm_demo.json", [{
        "messages": [{"content": "<image>Who are they?", "role": "user"},
                     {"content": "Two players.", "role": "assistant"}],
        "images": ["mllm_demo_data/1.jpg"]}])
    write(folder / "c4_demo.jsonl", [{"text": "Some pre-training text."}, {"text": "More of it."}], lines=True)
    registry = {
        "alpaca_en_demo": {"file_name": "alpaca_en_demo.json"},
        "glaive_toolcall_en_demo": {"file_name": "glaive_toolcall_en_demo.json", "formatting": "sharegpt",
                                    "columns": {"messages": "conversations", "tools": "tools"}},
        "dpo_en_demo": {"file_name": "dpo_en_demo.json", "ranking": True, "formatting": "sharegpt",
                        "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected"}},
        "kto_en_demo": {"file_name": "kto_en_demo.json", "formatting": "sharegpt",
                        "columns": {"messages": "messages", "kto_tag": "label"},
                        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                                 "assistant_tag": "assistant"}},
        "mllm_demo": {"file_name": "mllm_demo.json", "formatting": "sharegpt",
                      "columns": {"messages": "messages", "images": "images"},
                      "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                               "assistant_tag": "assistant"}},
        "c4_demo": {"file_name": "c4_demo.jsonl", "columns": {"prompt": "text"}},
        "hub_only": {"hf_hub_url": "someone/dataset"},
    }
    (folder / "dataset_info.json").write_text(json.dumps(registry, indent=2), encoding="utf-8")
    (folder / "README.md").write_text("the data folder\n")
    return folder


def test_the_folder_passes_with_only_justified_warnings(tmp_path, run_line):
    folder = llamafactory_data(tmp_path)
    result = run_line(f"dataforge lint {folder} --output-format json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert [(f["code"], f["location"]["file"].rsplit("/", 1)[-1]) for f in report["findings"]] == \
        [("S007", "c4_demo.jsonl")]  # once for the file, not once per record
    assert report["summary"]["files"] == 6  # dataset_info.json is not one of them


def test_the_registry_given_by_name_stands_for_its_files(tmp_path, run_line):
    folder = llamafactory_data(tmp_path)
    result = run_line(f"dataforge lint {folder / 'dataset_info.json'} --output-format json")
    assert json.loads(result.stdout)["summary"]["files"] == 6


def test_kto_labels_survive_conversion_and_must_be_booleans(tmp_path, run_line):
    folder = llamafactory_data(tmp_path)
    out = tmp_path / "kto.sharegpt.jsonl"
    run_line(f"dataforge convert {folder / 'kto_en_demo.json'} --to chatglm3 -o {out}")
    assert [json.loads(line)["label"] for line in out.read_text().splitlines()] == [True, False]
    bad = tmp_path / "bad.jsonl"
    write(bad, [{"messages": [{"content": "q", "role": "user"}, {"content": "a", "role": "assistant"}],
                 "label": "yes"}], lines=True)
    assert "S005" in run_line(f"dataforge lint {bad}").stdout


def test_media_lists_match_their_placeholders(tmp_path, run_line):
    bad = tmp_path / "mm.jsonl"
    write(bad, [{"messages": [{"content": "<image><image>Compare", "role": "user"},
                              {"content": "Same.", "role": "assistant"}], "images": ["a.jpg"]}], lines=True)
    result = run_line(f"dataforge lint {bad}")
    assert result.exit_code == 1 and "S008" in result.stdout and "1 images for 2 <image>" in result.stdout


def test_pre_training_text_is_not_converted_into_conversations(tmp_path, run_line):
    folder = llamafactory_data(tmp_path)
    result = run_line(f"dataforge convert {folder / 'c4_demo.jsonl'} --to alpaca -o {tmp_path / 'out.jsonl'}")
    assert result.exit_code == 1 and "pre-training text holds no conversation" in result.stderr
    assert (tmp_path / "out.jsonl").read_text() == ""


def test_the_registry_is_checked_against_the_records(tmp_path, run_line):
    """A misspelt formatting is read as alpaca by LLaMA-Factory, which then fails on a ShareGPT file;
    an entry whose file is missing is named too."""
    folder = llamafactory_data(tmp_path)
    registry = json.loads((folder / "dataset_info.json").read_text())
    registry["glaive_toolcall_en_demo"]["formatting"] = "sharegtp"
    registry["gone"] = {"file_name": "gone.json"}
    (folder / "dataset_info.json").write_text(json.dumps(registry))
    result = run_line(f"dataforge lint {folder} --output-format json")
    assert result.exit_code == 1
    s009 = [(f["location"]["file"].rsplit("/", 1)[-1], f["message"]) for f in json.loads(result.stdout)["findings"]
            if f["code"] == "S009"]
    assert ("dataset_info.json", "dataset_info.json: entry 'glaive_toolcall_en_demo' has formatting 'sharegtp'; "
            "LLaMA-Factory reads it as alpaca (known: alpaca, sharegpt, openai)") in s009
    assert ("dataset_info.json", "dataset_info.json: entry 'gone' names 'gone.json', which is not beside it") in s009
    assert ("glaive_toolcall_en_demo.json", "dataset_info.json entry 'glaive_toolcall_en_demo' reads this file as "
            "alpaca, but its records are sharegpt") in s009


def test_an_entry_that_says_openai_layout_for_sharegpt_records(tmp_path, run_line):
    write(tmp_path / "chat.json", [{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}])
    (tmp_path / "dataset_info.json").write_text(json.dumps({"chat": {
        "file_name": "chat.json", "formatting": "sharegpt", "columns": {"messages": "messages"},
        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"}}}))
    result = run_line(f"dataforge lint {tmp_path}")
    assert result.exit_code == 1 and "reads this file as openai, but its records are sharegpt" in result.stdout
