"""A generation killed with SIGKILL resumes where it stopped: no answered chunk is asked again,
and the output equals that of a run that was never interrupted."""

import json
import os
import signal
import subprocess
import sys
import time

from dataforge.generate.job import GenerationJob, JobOptions
from dataforge.generate.testserver import FakeLLM
from tests.conftest import SAMPLES
from tests.generate.conftest import KEY

DOCS = [str(SAMPLES / "docs" / "returns_policy_zh.docx"), str(SAMPLES / "docs" / "onboarding_en.docx")]


def command(out, base_url):
    return [sys.executable, "-m", "dataforge.cli", "generate", *DOCS, "-o", str(out), "--base-url", base_url,
            "--model", "fake", "--budget", "40", "--concurrency", "2", "--to", "chatglm3"]


def env(cache):
    return {**os.environ, "DATAFORGE_CACHE": str(cache), "DATAFORGE_API_KEY": KEY}


def events(journal, name):
    if not journal.exists():
        return []
    out = []
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == name:
            out.append(event)
    return out


def without_time(path):
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for r in records:
        r["provenance"].pop("time")
    return records


def test_kill_9_and_resume(tmp_path):
    out = tmp_path / "killed.jsonl"
    journal = tmp_path / "killed.jsonl.journal"
    chunks = GenerationJob(DOCS, out, JobOptions(budget=40)).chunks()
    assert len(chunks) >= 12
    with FakeLLM(latency=0.2) as server:
        process = subprocess.Popen(command(out, server.base_url), env=env(tmp_path / "cache"),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(events(journal, "records")) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert not out.exists()  # the output is only written at the end
        answered = {e["chunk"] for e in events(journal, "reply")}
        finished = {e["chunk"] for e in events(journal, "records")}
        assert 4 <= len(finished) <= len(answered) < len(chunks)
        before = len(server.requests)
        resumed = subprocess.run(command(out, server.base_url), env=env(tmp_path / "cache2"),
                                 capture_output=True, text=True, timeout=120)
        assert resumed.returncode == 0, resumed.stderr
        asked_again = [r["messages"][1]["content"] for r in server.requests[before:]]
    excerpt = {c.id: f"Document: {c.source}\nSection: {c.path_text or '(none)'}\n\n{c.text}" for c in chunks}
    assert not set(asked_again) & {excerpt[c] for c in answered}
    assert len(asked_again) == len(chunks) - len(answered)
    assert f"({len(finished)} resumed from the journal)" in resumed.stderr

    whole = tmp_path / "whole.jsonl"
    with FakeLLM() as server:
        subprocess.run(command(whole, server.base_url), env=env(tmp_path / "cache3"), check=True,
                       capture_output=True, timeout=120)
    assert without_time(out) == without_time(whole)
    assert len(without_time(whole)) == len(chunks)
