"""The embedded generator, from the command line as a newcomer runs it."""

import json

import pytest

from tests.conftest import SAMPLES

GENERATED = SAMPLES / "generated"


def without_time(text):
    records = [json.loads(line) for line in text.splitlines()]
    for r in records:
        r["provenance"].pop("time")
        r["provenance"]["source"] = r["provenance"]["source"].rsplit("/", 1)[-1]
    return records


@pytest.mark.parametrize("doc", ["returns_policy_zh", "onboarding_en"])
@pytest.mark.parametrize("target", ["alpaca", "chatglm3"])
def test_samples_are_what_the_embedded_generator_makes(run_line, tmp_path, doc, target):
    out = tmp_path / f"{doc}.{target}.jsonl"
    result = run_line(f"dataforge generate {SAMPLES / 'docs' / (doc + '.docx')} -o {out} --to {target}")
    assert result.exit_code == 0, result.stderr
    assert without_time(out.read_text(encoding="utf-8")) == without_time(
        (GENERATED / f"{doc}.{target}.jsonl").read_text(encoding="utf-8"))
    assert run_line(f"dataforge lint {out}").exit_code == 0


def test_offline_records_cover_sections_tables_and_faq():
    records = without_time((GENERATED / "returns_policy_zh.alpaca.jsonl").read_text(encoding="utf-8"))
    methods = [r["provenance"]["method"] for r in records]
    assert set(methods) == {"section", "table", "faq"}
    assert all(r["provenance"]["generator"] == "offline" for r in records)
    faq = next(r for r in records if r["provenance"]["method"] == "faq")
    assert faq["instruction"] == "商品有破损，运费由谁承担？" and faq["output"].startswith("因商品质量问题")
    table = [r for r in records if r["provenance"]["method"] == "table"]
    assert table[0]["instruction"] == "支付方式与渠道为“支付宝、余额”时，到账时间是什么？"
    assert table[0]["output"] == "即时到账"


def test_chunks_command(run_line):
    result = run_line(f"dataforge chunks {SAMPLES / 'docs' / 'onboarding_en.docx'} --output-format json")
    chunks = [json.loads(line) for line in result.stdout.splitlines()]
    assert [c["heading_path"][-1] for c in chunks] == [
        "Your First Week", "Tools you will use", "Answering a ticket", "Service Levels", "FAQ"]
    assert all(c["tokens"] <= 512 and c["id"] for c in chunks)


@pytest.mark.parametrize("args, message", [
    ("nope.docx", "no such file"),
    ("{docs}/onboarding_en.docx --model m", "needs both a base URL and a model"),
    ("{docs}/onboarding_en.docx --to sharegpt", "invalid choice"),
])
def test_bad_requests(run_line, tmp_path, args, message):
    result = run_line(f"dataforge generate {args.format(docs=SAMPLES / 'docs')} -o {tmp_path / 'x.jsonl'}")
    assert result.exit_code == 2
    assert message in result.stderr
