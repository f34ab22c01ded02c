"""Generation against the fake OpenAI server: wall time next to the ideal, and repeated requests
after a resume.

    python bench/generate_bench.py [--chunks 320] [--latency 0.25] [--concurrency 16]

The ideal is chunks x latency / concurrency: what a client that only waits on the server would
take. The resume check kills a real `dataforge generate` with SIGKILL halfway, runs it again,
and counts requests for chunks whose answer was already journaled (the goal is zero).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docx

from dataforge.generate.job import GenerationJob, JobOptions
from dataforge.generate.llm import Endpoint
from dataforge.generate.testserver import FakeLLM


def make_document(path: Path, sections: int) -> None:
    d = docx.Document()
    for i in range(sections):
        d.add_heading(f"Policy {i}", 1)
        d.add_paragraph(f"Rule {i}: orders of category {i} can be returned within {i % 30 + 1} days of delivery.")
    d.save(str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=320)
    parser.add_argument("--latency", type=float, default=0.25)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dataforge-bench-"))
    doc = work / "policies.docx"
    make_document(doc, args.chunks)

    marks: dict[str, float] = {}
    # The server runs in a process of its own, as a real one would: in this process it would
    # compete with the client for the interpreter lock and be measured along with it.
    server = subprocess.Popen([sys.executable, "-m", "dataforge.cli", "serve-test-llm", "--latency",
                               str(args.latency)], stdout=subprocess.PIPE, text=True)
    try:
        base_url = server.stdout.readline().strip()
        endpoint = Endpoint(base_url, "fake", "none", timeout=30)
        job = GenerationJob([doc], work / "out.jsonl", JobOptions(concurrency=args.concurrency), endpoint,
                            progress=lambda name, data: marks.setdefault(name, time.perf_counter()),
                            cache=work / "cache")
        report = job.run()
        finished = time.perf_counter()
    finally:
        server.terminate()
    chunks = report.chunks
    wall = finished - marks["start"]  # from the first request on: reading the document is not the server's
    ideal = chunks * args.latency / args.concurrency
    print(f"{chunks} chunks, latency {args.latency}s, concurrency {args.concurrency}")
    print(f"{'ideal (chunks x latency / concurrency)':<42} {ideal:7.2f} s")
    print(f"{'dataforge generate':<42} {wall:7.2f} s   {wall / ideal:.2f}x ideal, "
          f"{report.requests} requests, {report.records} records")

    # Resume after SIGKILL, as a user's crashed run would.
    out = work / "killed.jsonl"
    journal = out.with_name(out.name + ".journal")
    env = {**os.environ, "DATAFORGE_CACHE": str(work / "cache-resume")}
    with FakeLLM(latency=args.latency) as server:
        command = [sys.executable, "-m", "dataforge.cli", "generate", str(doc), "-o", str(out), "--base-url",
                   server.base_url, "--model", "fake", "--concurrency", str(args.concurrency)]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not journal.exists() or journal.read_text(encoding="utf-8").count('"event": "reply"') < chunks // 2:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        answered = {json.loads(line)["chunk"] for line in journal.read_text(encoding="utf-8").splitlines()
                    if '"event": "reply"' in line and line.endswith("}")}
        before = len(server.requests)
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        asked = [r["messages"][1]["content"] for r in server.requests[before:]]
    texts = {c.id: c.text for c in GenerationJob([doc], out, JobOptions()).chunks()}
    repeated = sum(1 for content in asked if any(content.endswith(texts[c]) for c in answered))
    records = sum(1 for _ in out.open(encoding="utf-8"))
    print(f"{'resume after SIGKILL':<42} {len(answered)} chunks answered before the kill, "
          f"{len(asked)} asked after, {repeated} asked twice; {records} records in the end")


if __name__ == "__main__":
    main()
