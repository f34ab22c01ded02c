"""Every way a server can misbehave ends the run in bounded time, with every chunk accounted for
(records or a reject with its reason), nothing bad in the journal or the cache, and the key in
no file or output."""

import json
import shutil
import subprocess
import sys
import time

import pytest

from dataforge.generate.job import GenerationJob, JobOptions
from dataforge.generate.llm import Endpoint, GaveUp, LLMClient
from dataforge.generate.testserver import FakeLLM
from tests.conftest import sections_docx
from tests.generate.conftest import KEY

RECORD = {"instruction": "How long do I have to return an item?", "input": "", "output": "Seven days from delivery."}
GOOD = json.dumps({"records": [RECORD]})


def completion(message, usage=None):
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "usage": usage}


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def no_key_anywhere(folder, *texts):
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix != ".docx":
            assert KEY not in path.read_text(encoding="utf-8", errors="replace"), path
    for text in texts:
        assert KEY not in text


def journal_is_clean(out):
    """Every journaled reply is text, every kept record a JSON object that lint accepts."""
    from dataforge.generate.records import problems_of

    for event in lines(out.with_name(out.name + ".journal")):
        if event["event"] == "reply":
            assert isinstance(event["text"], str) and event["refusal"] in (None,) or isinstance(event["refusal"], str)
        if event["event"] == "records":
            assert all(problems_of({k: v for k, v in r.items() if k != "provenance"}, "alpaca") == []
                       for r in event["records"])


# Replies with status 200 that are not a usable chat completion. Each is retried like a
# dropped connection (a proxy's error page is usually passing), and named when it persists.
BROKEN_200 = {
    "html page": ({"body": "<html><body>502 Bad Gateway</body></html>", "content_type": "text/html"},
                  "not JSON (text/html"),
    "invalid json": ({"body": '{"choices": [{"message": '}, "not JSON"),
    "not utf-8": ({"body": json.dumps(completion({"role": "assistant", "content": "café"}), ensure_ascii=False),
                   "encoding": "latin-1"}, "not UTF-8"),
    "message null": ({"response": completion(None)}, "has no message"),
    "no choices": ({"response": {"object": "chat.completion", "choices": []}}, "has no choices"),
    "content a number": ({"response": completion({"role": "assistant", "content": 7})}, "content is int"),
    "deeply nested": ({"body": "[" * 100_000 + "]" * 100_000}, "nested too deeply"),
    "a list": ({"response": [1, 2]}, "not a chat completion"),
}


@pytest.mark.parametrize("fault", BROKEN_200, ids=list(BROKEN_200))
def test_a_broken_200_is_retried_and_then_named(run_job, one_chunk_doc, tmp_path, fault):
    action, reason = BROKEN_200[fault]
    report, server, out = run_job([action, {"content": GOOD}], [one_chunk_doc], retries=1)
    assert report.records == 1 and len(server.requests) == 2 and report.retried == 1
    report, server, out = run_job([action] * 2, [one_chunk_doc], retries=1, out="again.jsonl")
    assert report.records == 0 and report.failed == 1 and len(server.requests) == 2
    (reject,) = lines(report.rejects_path)
    assert reason in reject["reason"] and reject["reply"] is None
    assert not list((tmp_path / "cache").rglob("*.json")) or report.cached == 0
    journal_is_clean(out)
    no_key_anywhere(tmp_path)


@pytest.mark.parametrize("response", [
    completion({"role": "assistant", "content": [{"type": "text", "text": GOOD[:20]}, {"type": "text",
                                                                                      "text": GOOD[20:]}]}),
    completion({"role": "assistant", "content": GOOD}, usage={"prompt_tokens": None, "completion_tokens": None}),
    completion({"role": "assistant", "content": GOOD}, usage="lots"),
], ids=["content as parts", "null token counts", "usage a string"])
def test_odd_but_usable_replies_make_records(run_job, one_chunk_doc, response):
    report, server, _ = run_job([{"response": response}], [one_chunk_doc])
    assert report.records == 1 and len(server.requests) == 1 and report.prompt_tokens == 0


def test_a_streamed_reply_is_read(run_job, one_chunk_doc, tmp_path):
    report, server, out = run_job([{"content": GOOD, "stream": True}], [one_chunk_doc])
    assert report.records == 1 and lines(out)[0]["output"] == RECORD["output"]
    no_key_anywhere(tmp_path)


@pytest.mark.parametrize("bad", [{"loss": []}, {"weight": {}}, {"output": ["a"]}, {"instruction": None}])
def test_records_with_wrong_types_are_asked_again_and_never_stored(run_job, one_chunk_doc, tmp_path, bad):
    reply = json.dumps({"records": [RECORD | bad]})
    report, server, out = run_job([{"content": reply}] * 3, [one_chunk_doc], max_reasks=2)
    assert report.records == 0 and report.failed == 1 and len(server.requests) == 3
    assert lines(report.rejects_path)[0]["reply"] == reply
    assert not list((tmp_path / "cache").rglob("*.json"))  # bad replies are never cached
    journal_is_clean(out)
    no_key_anywhere(tmp_path)


def test_a_bracket_bomb_is_rejected_quickly(run_job, one_chunk_doc, tmp_path):
    report, server, _ = run_job([{"content": "[" * 30_000}, {"content": "{" * 30_000 + "}" * 10}], [one_chunk_doc],
                                max_reasks=1)
    assert report.failed == 1 and len(server.requests) == 2
    assert 'no JSON object with "records"' in lines(report.rejects_path)[0]["reason"]
    no_key_anywhere(tmp_path)


def test_a_huge_retry_after_is_capped(run_job, one_chunk_doc, tmp_path):
    started = time.monotonic()
    report, server, _ = run_job([{"status": 429, "retry_after": 3600}, {"content": GOOD}], [one_chunk_doc],
                                max_retry_after=0.2)
    assert report.records == 1 and len(server.requests) == 2
    assert time.monotonic() - started < 60  # an hour if the cap were not applied
    no_key_anywhere(tmp_path)


def test_a_trickling_server_meets_the_deadline(run_job, one_chunk_doc, tmp_path):
    report, server, _ = run_job([{"content": GOOD, "trickle": 0.2}, {"content": GOOD}], [one_chunk_doc],
                                timeout=1.0, retries=1)
    assert report.records == 1 and len(server.requests) == 2 and report.retried == 1
    no_key_anywhere(tmp_path)


def test_a_trickling_server_that_never_finishes_is_named(run_job, one_chunk_doc, tmp_path):
    report, _, _ = run_job([{"content": GOOD, "trickle": 0.2}] * 2, [one_chunk_doc], timeout=0.5, retries=1)
    assert report.failed == 1 and "no complete reply within 0.5 s" in lines(report.rejects_path)[0]["reason"]
    no_key_anywhere(tmp_path)


def test_a_reply_over_the_size_cap_is_refused(one_chunk_doc):
    import asyncio

    async def ask(server):
        client = LLMClient(Endpoint(server.base_url, "m", KEY, timeout=5), max_reply_bytes=1000)
        try:
            return await client.complete([{"role": "user", "content": "hi"}], {}, [])
        finally:
            await client.close()

    with FakeLLM([{"content": "x" * 5000}]) as server:
        with pytest.raises(GaveUp, match="larger than"):
            asyncio.run(ask(server))


def test_a_server_that_refuses_response_format_loses_no_chunk_at_full_concurrency(run_job, tmp_path):
    path = sections_docx(tmp_path / "many.docx", 24, "Paragraph {i} says something of its own.")
    report, server, _ = run_job([], [path], unsupported=("json_schema",), concurrency=8, latency=0.05)
    assert report.records == 24 and report.failed == 0
    assert report.downgrades == ["json_schema -> json_object"]  # one step, however many were in flight
    assert server.most_in_flight > 1


def test_concurrency_is_limited(run_job, tmp_path):
    path = sections_docx(tmp_path / "eight.docx", 8, "Paragraph {i}.")
    report, server, _ = run_job([], [path], latency=0.2, concurrency=3)
    assert report.records == 8 and server.most_in_flight == 3


def test_failed_chunks_are_asked_again_on_the_next_run(tmp_path):
    path = sections_docx(tmp_path / "three.docx", 3, "Paragraph {i}.")
    out = tmp_path / "out.jsonl"
    options = JobOptions(concurrency=1, retries=0, backoff=0.01)
    with FakeLLM([{"content": GOOD}, {"status": 500}, {"status": 503}]) as server:
        first = GenerationJob([path], out, options, Endpoint(server.base_url, "m", KEY), cache=tmp_path / "c").run()
    assert first.records == 1 and first.failed == 2
    with FakeLLM() as server:
        second = GenerationJob([path], out, options, Endpoint(server.base_url, "m", KEY), cache=tmp_path / "c").run()
    assert len(server.requests) == 2  # only the two that failed
    assert second.resumed == 1 and second.records == 3 and second.failed == 0
    assert len(lines(out)) == 3 and not lines(second.rejects_path)


def test_an_unreadable_cache_entry_is_dropped_with_a_warning(one_chunk_doc, tmp_path):
    events = []
    with FakeLLM([{"content": GOOD}, {"content": GOOD}]) as server:
        endpoint = Endpoint(server.base_url, "m", KEY)
        GenerationJob([one_chunk_doc], tmp_path / "a.jsonl", JobOptions(), endpoint, cache=tmp_path / "c").run()
        (entry,) = (tmp_path / "c").rglob("*.json")
        entry.write_text('{"text": 12}')
        report = GenerationJob([one_chunk_doc], tmp_path / "b.jsonl", JobOptions(), endpoint, cache=tmp_path / "c",
                               progress=lambda name, data: events.append((name, data))).run()
    assert report.records == 1 and len(server.requests) == 2
    assert any(name == "warning" and "unreadable cached reply" in data["message"] for name, data in events)
    assert json.loads(entry.read_text())["text"] == GOOD  # replaced by the new good reply


def test_a_damaged_journal_line_is_skipped_and_its_chunk_asked_again(tmp_path):
    path = sections_docx(tmp_path / "two.docx", 2, "Paragraph {i}.")
    out = tmp_path / "out.jsonl"
    with FakeLLM() as server:
        GenerationJob([path], out, JobOptions(concurrency=1), Endpoint(server.base_url, "m", KEY),
                      cache=tmp_path / "c").run()
        journal = out.with_name("out.jsonl.journal")
        events = journal.read_text().splitlines()
        damaged = [e if json.loads(e)["event"] != "records" or i != len(events) - 1 else '{"event": "records", "chunk": 7}'
                   for i, e in enumerate(events)]
        journal.write_text("\n".join(damaged) + "\n")
        shutil.rmtree(tmp_path / "c")
        report = GenerationJob([path], out, JobOptions(concurrency=1), Endpoint(server.base_url, "m", KEY),
                               cache=tmp_path / "c").run()
    assert report.records == 2 and report.resumed == 1


def test_documents_with_the_same_name_keep_their_own_records(run_job, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = sections_docx(tmp_path / "a" / "policy.docx", 1, "Same words.")
    second = sections_docx(tmp_path / "b" / "policy.docx", 1, "Same words.")
    report, server, out = run_job([], [first, second])
    assert report.chunks == 2 and report.records == 2 and len(server.requests) == 2
    assert sorted(r["provenance"]["source"] for r in lines(out)) == sorted([str(first), str(second)])


def test_the_key_quoted_by_the_server_is_redacted(run_job, one_chunk_doc, tmp_path):
    report, _, out = run_job([{"status": 401, "echo_key": True}], [one_chunk_doc])
    (reject,) = lines(report.rejects_path)
    assert "HTTP 401" in reject["reason"] and "[redacted]" in reject["reason"]
    report, _, out = run_job([{"content": f"your key is {KEY}"}, {"content": GOOD}], [one_chunk_doc], out="b.jsonl")
    assert report.records == 1
    no_key_anywhere(tmp_path)


def cli(*args, env=None):
    import os

    return subprocess.run([sys.executable, "-m", "dataforge", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "OPENAI_API_KEY": KEY, **(env or {})}, timeout=120)


def test_the_command_line_never_prints_the_key_and_fails_when_nothing_is_made(one_chunk_doc, tmp_path):
    with FakeLLM([{"status": 401, "echo_key": True}]) as server:
        done = cli("generate", one_chunk_doc, "-o", tmp_path / "out.jsonl", "--base-url", server.base_url,
                   "--model", "m", env={"DATAFORGE_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 1 and "no record was made" in done.stderr
    no_key_anywhere(tmp_path, done.stdout, done.stderr)


@pytest.mark.parametrize("args, message", [
    (["--concurrency", "0"], "--concurrency: must be at least 1"),
    (["--per-chunk", "-1"], "--per-chunk: must be at least 1"),
    (["--timeout", "0"], "--timeout: must be more than 0 seconds"),
    (["--budget", "many"], "--budget: not a whole number"),
])
def test_arguments_are_checked(one_chunk_doc, tmp_path, args, message):
    done = cli("generate", one_chunk_doc, "-o", tmp_path / "out.jsonl", *args)
    assert done.returncode == 2 and message in done.stderr and not (tmp_path / "out.jsonl").exists()


def test_the_output_is_never_a_source_and_never_someone_elses_file(one_chunk_doc, tmp_path):
    before = one_chunk_doc.read_bytes()
    done = cli("generate", one_chunk_doc, "-o", one_chunk_doc)
    assert done.returncode == 2 and "is one of the inputs" in done.stderr
    assert one_chunk_doc.read_bytes() == before
    theirs = tmp_path / "notes.jsonl"
    theirs.write_text("my own notes\n")
    done = cli("generate", one_chunk_doc, "-o", theirs)
    assert done.returncode == 2 and "already exists" in done.stderr and theirs.read_text() == "my own notes\n"
    assert cli("generate", one_chunk_doc, "-o", theirs, "--force").returncode == 0
    assert "instruction" in theirs.read_text()
    assert cli("generate", one_chunk_doc, "-o", theirs).returncode == 0  # its own output now: resumed


def test_a_cancelled_job_stops_and_the_next_run_finishes_it(tmp_path):
    import threading

    from dataforge.generate.job import Cancelled

    path = sections_docx(tmp_path / "many.docx", 12, "Paragraph {i}.")
    out = tmp_path / "out.jsonl"
    cancel = threading.Event()
    finished = []

    def progress(name, data):
        if name == "chunk":
            finished.append(data)
            if len(finished) == 3:
                cancel.set()

    with FakeLLM(latency=0.1) as server:
        endpoint = Endpoint(server.base_url, "m", KEY)
        job = GenerationJob([path], out, JobOptions(concurrency=2), endpoint, cache=tmp_path / "c",
                            progress=progress, cancel=cancel)
        with pytest.raises(Cancelled):
            job.run()
        journaled = sum(1 for e in lines(out.with_name("out.jsonl.journal")) if e["event"] == "records")
        assert 3 <= journaled < 12 and not out.exists()
        report = GenerationJob([path], out, JobOptions(concurrency=2), endpoint, cache=tmp_path / "c").run()
    assert report.resumed == journaled and report.records == 12
