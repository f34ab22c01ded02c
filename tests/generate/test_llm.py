"""Generation through an OpenAI-compatible server: every fault, with the requests it costs."""

import json
import time

import pytest

from dataforge.generate.prompts import extract_records
from tests.generate.conftest import KEY

GOOD = json.dumps({"records": [{"instruction": "How long do I have to return an item?", "input": "",
                                "output": "Seven days from delivery."}]})


def records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def rejects(report):
    path = report.rejects_path
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_a_good_reply(run_job, one_chunk_doc):
    report, server, out = run_job([{"content": GOOD}], [one_chunk_doc])
    assert len(server.requests) == 1 and report.records == 1 and report.failed == 0
    (record,) = records(out)
    assert record["output"] == "Seven days from delivery."
    prov = record["provenance"]
    assert prov["source"] == str(one_chunk_doc) and prov["heading_path"] == ["Returns"]
    assert prov["blocks"] == [1, 1] and prov["model"] == "fake-model" and prov["generator"] == "llm"
    assert prov["prompt_version"] and prov["time"]
    assert server.requests[0]["response_format"]["type"] == "json_schema"


def test_429_waits_for_retry_after(run_job, one_chunk_doc):
    started = time.monotonic()
    report, server, _ = run_job([{"status": 429, "retry_after": 0.6}, {"content": GOOD}], [one_chunk_doc])
    assert len(server.requests) == 2 and report.records == 1 and report.retried == 1
    assert time.monotonic() - started >= 0.6


def test_500_is_retried(run_job, one_chunk_doc):
    report, server, _ = run_job([{"status": 500}, {"status": 503}, {"content": GOOD}], [one_chunk_doc])
    assert len(server.requests) == 3 and report.records == 1


def test_a_server_that_hangs_past_the_timeout(run_job, one_chunk_doc):
    report, server, _ = run_job([{"hang": 2.0}, {"content": GOOD}], [one_chunk_doc], timeout=0.5)
    assert len(server.requests) == 2 and report.records == 1


def test_retries_are_bounded(run_job, one_chunk_doc):
    report, server, _ = run_job([{"status": 500}] * 10, [one_chunk_doc], retries=3)
    assert len(server.requests) == 4 and report.records == 0 and report.failed == 1
    assert "gave up after 4 attempts" in rejects(report)[0]["reason"]


@pytest.mark.parametrize("bad", [
    "Sure! Here is what section [1] says about returns.",  # not JSON, with a bracket in it
    '{"records": [{"instruction": "How long',  # truncated JSON
    json.dumps({"records": [{"question": "How long?", "answer": "Seven days."}]}),  # wrong fields
])
def test_a_bad_reply_is_asked_again_with_what_was_wrong(run_job, one_chunk_doc, bad):
    report, server, out = run_job([{"content": bad}, {"content": GOOD}], [one_chunk_doc])
    assert len(server.requests) == 2 and report.records == 1 and report.retried == 1
    second = server.requests[1]["messages"]
    assert second[-2] == {"role": "assistant", "content": bad}
    assert "cannot be used" in second[-1]["content"]


def test_a_reply_that_stays_bad_is_kept_in_the_rejects(run_job, one_chunk_doc):
    bad = json.dumps({"records": [{"question": "How long?", "answer": "Seven days."}]})
    report, server, out = run_job([{"content": bad}] * 3, [one_chunk_doc], max_reasks=2)
    assert len(server.requests) == 3 and report.records == 0 and report.failed == 1
    (reject,) = rejects(report)
    assert reject["reply"] == bad and "S004" in reject["reason"] and "S006" in reject["reason"]
    assert reject["heading_path"] == ["Returns"]
    assert out.read_text() == ""


def test_a_refusal_is_rejected_without_asking_again(run_job, one_chunk_doc):
    report, server, _ = run_job([{"refusal": "I can't help with that."}], [one_chunk_doc])
    assert len(server.requests) == 1 and report.failed == 1
    assert rejects(report)[0]["reason"] == "the model refused"


def test_structured_output_ladder(run_job, one_chunk_doc, tmp_path):
    report, server, _ = run_job([], [one_chunk_doc, one_chunk_doc], unsupported=("json_schema", "json_object"))
    levels = [(r.get("response_format") or {}).get("type", "plain") for r in server.requests]
    # refused twice, then plain for good: the second chunk goes straight to plain
    assert levels == ["json_schema", "json_object", "plain", "plain"]
    assert report.records == 2 and report.downgrades == ["json_schema -> json_object", "json_object -> plain"]
    assert "JSON Schema" in server.requests[2]["messages"][0]["content"]  # the schema travels in the prompt


def test_reasoning_blocks_and_fences_are_stripped():
    reply = "<think>The user wants [1] record...</think>\nHere you go:\n```json\n" + GOOD + "\n```"
    assert extract_records(reply) == json.loads(GOOD)["records"]
    assert extract_records("see section [1] and [2]") is None


def test_a_rerun_costs_nothing(one_chunk_doc, tmp_path):
    """Replies are cached by (endpoint, model, parameters, prompt): a new run to a new output asks nothing."""
    from dataforge.generate.job import GenerationJob, JobOptions
    from dataforge.generate.llm import Endpoint
    from dataforge.generate.testserver import FakeLLM

    with FakeLLM([{"content": GOOD}]) as server:
        endpoint = Endpoint(server.base_url, "fake-model", KEY)
        first = GenerationJob([one_chunk_doc], tmp_path / "a.jsonl", JobOptions(), endpoint, cache=tmp_path / "c").run()
        second = GenerationJob([one_chunk_doc], tmp_path / "b.jsonl", JobOptions(), endpoint, cache=tmp_path / "c").run()
    assert len(server.requests) == 1 and first.records == second.records == 1 and second.cached == 1
    assert (tmp_path / "a.jsonl").read_text() .count("Seven days") == (tmp_path / "b.jsonl").read_text().count("Seven days")


def test_the_key_is_never_written(run_job, one_chunk_doc, tmp_path):
    run_job([{"content": "not json"}, {"content": GOOD}], [one_chunk_doc])
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix != ".docx":
            assert KEY not in path.read_text(encoding="utf-8", errors="replace"), path
