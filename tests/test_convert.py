"""dataforge convert: every record converted or named, losses named, output written atomically."""

import json

from tests.conftest import SAMPLES, write_jsonl


def test_convert_sharegpt_to_openai_and_back_is_lossless(tmp_path, run_line):
    source = SAMPLES / "datasets" / "sharegpt.jsonl"
    out = tmp_path / "openai.jsonl"
    result = run_line(f"dataforge convert {source} --to openai -o {out}")
    assert result.exit_code == 0, result.stderr
    assert "wrote 2 record(s)" in result.stderr
    assert run_line(f"dataforge lint {out}").exit_code == 0
    back = tmp_path / "back.jsonl"
    assert run_line(f"dataforge convert {out} --to sharegpt -o {back}").exit_code == 0
    assert back.read_text(encoding="utf-8") == source.read_text(encoding="utf-8")


def test_losses_are_named_and_fail(tmp_path, run_line):
    out = tmp_path / "alpaca.json"
    result = run_line(f"dataforge convert {SAMPLES / 'datasets' / 'chatglm3_tools.jsonl'} --to alpaca -o {out}")
    assert result.exit_code == 1
    assert "chatglm3_tools.jsonl:1: record 0: alpaca holds no tool definitions; tools were dropped" in result.stderr
    assert "chatglm3_tools.jsonl:3: record 2: alpaca has no per-message loss flag; $.conversations[1] (assistant) " \
           "had loss=False" in result.stderr
    records = json.loads(out.read_text(encoding="utf-8"))
    assert records[1] == {"instruction": "退款多久到账？", "input": "", "output": "仓库确认收货后 1 到 3 个工作日内原路退回。",
                          "system": "你是一名耐心的客服助手，回答简洁准确。",
                          "history": [["收到的商品有破损，可以退货吗？",
                                       "可以。签收后七天内，商品保持原包装即可申请退货，破损商品运费由我们承担。"]]}


def test_unreadable_records_are_named_not_dropped(tmp_path, run_line):
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": "a", "response": "b"}\n{"prompt": \n{"what": 1}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run_line(f"dataforge convert {source} --to alpaca -o {out}")
    assert result.exit_code == 1
    assert "in.jsonl:2: record 1: not converted: E001 invalid JSON" in result.stderr
    # read as the file's format, as lint reads it: the missing field is named
    assert "in.jsonl:3: record 2: not converted: S004 missing required field 'prompt'" in result.stderr
    assert "wrote 1 record(s)" in result.stderr


def test_failed_conversion_leaves_no_partial_output(tmp_path, run_line):
    source = tmp_path / "in.json"
    source.write_text('[{"prompt": "a", "response": "b"}, {"prompt": ', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    result = run_line(f"dataforge convert {source} --to alpaca -o {out} --force")
    assert result.exit_code == 2
    assert "in.json:1:36: file ends in the middle of a record" in result.stderr
    assert out.read_text() == "previous\n"
    assert list(tmp_path.glob(".out.jsonl.*")) == []


def test_convert_refuses_to_overwrite_its_input(tmp_path, run_line):
    path = write_jsonl(tmp_path / "a.jsonl", [{"prompt": "a", "response": "b"}])
    assert run_line(f"dataforge convert {path} --to alpaca -o {path}").exit_code == 2


def test_the_output_is_never_the_input_and_never_replaced_unasked(tmp_path, run_line):
    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "a", "response": "b"}])
    before = source.read_bytes()
    link = tmp_path / "link.jsonl"
    link.symlink_to(source)
    for out in (source, link, tmp_path / "." / "in.jsonl"):
        result = run_line(f"dataforge convert {source} --to alpaca -o {out} --force")
        assert result.exit_code == 2 and "the output is one of the inputs" in result.stderr
    assert source.read_bytes() == before
    result = run_line(f"dataforge convert {source} --to alpaca -o {tmp_path}")
    assert result.exit_code == 2 and "is a folder" in result.stderr
    theirs = tmp_path / "theirs.jsonl"
    theirs.write_text("keep me\n")
    result = run_line(f"dataforge convert {source} --to alpaca -o {theirs}")
    assert result.exit_code == 2 and "already exists" in result.stderr and theirs.read_text() == "keep me\n"
    assert run_line(f"dataforge convert {source} --to alpaca -o {theirs} --force").exit_code == 0
    assert json.loads(theirs.read_text())["instruction"] == "a"


def test_a_new_output_gets_the_usual_mode_and_a_replaced_one_keeps_its_own(tmp_path, run_line):
    import os

    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "a", "response": "b"}])
    out = tmp_path / "out.jsonl"
    run_line(f"dataforge convert {source} --to alpaca -o {out}")
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's 0600
    out.chmod(0o604)
    run_line(f"dataforge convert {source} --to alpaca -o {out} --force")
    assert out.stat().st_mode & 0o777 == 0o604
