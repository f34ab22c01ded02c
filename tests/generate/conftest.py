import docx
import pytest

from dataforge.generate.job import GenerationJob, JobOptions
from dataforge.generate.llm import Endpoint
from dataforge.generate.testserver import FakeLLM

KEY = "sk-test-never-written-0123456789"


@pytest.fixture
def one_chunk_doc(tmp_path):
    """A document that makes exactly one chunk, so request counts are exact."""
    d = docx.Document()
    d.add_heading("Returns", 1)
    d.add_paragraph("Items can be returned within seven days of delivery.")
    path = tmp_path / "returns.docx"
    d.save(str(path))
    return path


@pytest.fixture
def run_job(tmp_path):
    """run_job(script, docs, **options) -> (report, server, output path), against a fresh FakeLLM."""

    def run(script, docs, unsupported=(), timeout=5.0, out="out.jsonl", latency=0.0, **options):
        options = {"concurrency": 1, "backoff": 0.01, **options}
        with FakeLLM(script, latency=latency, unsupported=unsupported) as server:
            endpoint = Endpoint(server.base_url, "fake-model", KEY, timeout=timeout)
            job = GenerationJob(docs, tmp_path / out, JobOptions(**options), endpoint, cache=tmp_path / "cache")
            report = job.run()
        return report, server, tmp_path / out

    return run
