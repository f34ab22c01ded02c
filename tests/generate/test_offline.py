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


# One format per document: the same records in two formats side by side would be, rightly,
# records shared between files (D002) when the folder is linted as one set.
@pytest.mark.parametrize("doc, target", [("returns_policy_zh", "chatglm3"), ("onboarding_en", "alpaca")])
def test_samples_are_what_the_embedded_generator_makes(run_line, tmp_path, doc, target):
    out = tmp_path / f"{doc}.{target}.jsonl"
    result = run_line(f"dataforge generate {SAMPLES / 'docs' / (doc + '.docx')} -o {out} --to {target}")
    assert result.exit_code == 0, result.stderr
    assert without_time(out.read_text(encoding="utf-8")) == without_time(
        (GENERATED / f"{doc}.{target}.jsonl").read_text(encoding="utf-8"))
    assert run_line(f"dataforge lint {out}").exit_code == 0


def test_offline_records_cover_sections_tables_and_faq():
    records = without_time((GENERATED / "returns_policy_zh.chatglm3.jsonl").read_text(encoding="utf-8"))
    methods = [r["provenance"]["method"] for r in records]
    assert set(methods) == {"section", "table", "faq"}
    assert all(r["provenance"]["generator"] == "offline" for r in records)

    def pair(record):
        user, reply = record["conversations"]
        return user["content"], reply["content"]

    question, answer = pair(next(r for r in records if r["provenance"]["method"] == "faq"))
    assert question == "商品有破损，运费由谁承担？" and answer.startswith("因商品质量问题")
    table = [pair(r) for r in records if r["provenance"]["method"] == "table"]
    assert table[0] == ("支付方式与渠道为“支付宝、余额”时，到账时间是什么？", "即时到账")


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
