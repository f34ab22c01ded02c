"""A generation job: every chunk of the sources, through the offline generator or an LLM,
into validated records in the target format, resumable from its journal."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dataforge.docx_source.chunker import Chunk, chunk_blocks
from dataforge.docx_source.reader import read_blocks
from dataforge.errors import DataforgeError
from dataforge.generate import prompts
from dataforge.generate.journal import Journal
from dataforge.generate.llm import MAX_RETRY_AFTER, Endpoint, GaveUp, LLMClient
from dataforge.generate.offline import offline_pairs
from dataforge.generate.records import PROMPT_VERSION, TARGETS, pair_sample, problems_of, provenance, to_record
from dataforge.jsonio.layout import RecordWriter, is_json_lines
from dataforge.jsonio.write import atomic_writer

Progress = Callable[[str, dict], None]


@dataclass(frozen=True)
class JobOptions:
    target: str = "alpaca"
    budget: int = 512  # tokens per chunk
    concurrency: int = 8
    max_reasks: int = 2  # a bad reply is asked again this many times, with what was wrong
    per_chunk: int = 2  # records asked for per chunk
    turns: int = 1
    tools: bool = False
    retries: int = 5
    backoff: float = 1.0
    max_retry_after: float = MAX_RETRY_AFTER  # seconds: a server asking for longer is asked again then
    prices: tuple[float, float] | None = None  # per million prompt / completion tokens, for the tally

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise DataforgeError(f"cannot generate {self.target!r} records", hint="one of: " + ", ".join(TARGETS))
        for name, least in (("budget", 16), ("concurrency", 1), ("per_chunk", 1), ("turns", 1), ("retries", 0),
                            ("max_reasks", 0)):
            value = getattr(self, name)
            if type(value) is not int or value < least:
                raise DataforgeError(f"{name.replace('_', '-')} must be a whole number of at least {least}, "
                                     f"not {value!r}")


@dataclass
class JobReport:
    out: Path
    rejects_path: Path
    chunks: int = 0
    resumed: int = 0  # chunks already finished in the journal
    done: int = 0
    failed: int = 0  # chunks with no record kept
    retried: int = 0  # re-asks after a bad reply, and transport retries
    records: int = 0
    rejects: int = 0
    requests: int = 0
    cached: int = 0  # replies taken from the cache or the journal instead of a request
    prompt_tokens: int = 0
    completion_tokens: int = 0
    downgrades: list[str] = field(default_factory=list)

    def cost(self, prices: tuple[float, float] | None) -> float | None:
        if prices is None:
            return None
        return (self.prompt_tokens * prices[0] + self.completion_tokens * prices[1]) / 1e6


class Cancelled(Exception):
    """The job was cancelled; its journal keeps every chunk that finished, for the next run."""


def cache_dir() -> Path:
    from dataforge.masking.tokenizer import cache_dir as base

    return base() / "replies"


class GenerationJob:
    def __init__(self, sources: list[str | Path], out: str | Path, options: JobOptions = JobOptions(),
                 endpoint: Endpoint | None = None, progress: Progress | None = None, fresh: bool = False,
                 cache: Path | None = None, count=None, force: bool = False, cancel=None):
        self.sources = [Path(s) for s in sources]
        self.out = Path(out)
        self.options = options
        self.endpoint = endpoint
        self.progress = progress or (lambda name, data: None)
        self.journal_path = self.out.with_name(self.out.name + ".journal")
        self.report = JobReport(self.out, self.out.with_name(self.out.name + ".rejects.jsonl"))
        self.cache = cache if cache is not None else cache_dir()
        self._count = count
        self._cancel = cancel  # a threading.Event: set it (from any thread) to stop the job
        self._check_output(fresh or force)
        if fresh and self.journal_path.exists():
            self.journal_path.unlink()

    def _check_output(self, replace: bool) -> None:
        """The output is never a source, and an existing file is replaced only when asked, or when
        it is this job's own output (its journal is beside it)."""
        from dataforge.jsonio.write import check_output

        check_output(self.out, self.sources, replace or self.journal_path.exists())

    @property
    def identity(self) -> dict:
        """What must match for a journal to be resumed (never the API key)."""
        o = self.options
        return {"sources": [str(s) for s in self.sources], "target": o.target, "budget": o.budget,
                "generator": self.endpoint.model if self.endpoint else "offline", "per_chunk": o.per_chunk,
                "turns": o.turns, "tools": o.tools, "prompt_version": PROMPT_VERSION}

    def chunks(self) -> list[Chunk]:
        out: list[Chunk] = []
        names = [s.name for s in self.sources]
        for position, source in enumerate(self.sources):
            chunks = chunk_blocks(read_blocks(source), str(source), self.options.budget, self._count)
            if names.count(source.name) > 1:  # same file name, other folder: ids must still differ
                chunks = [c._replace(salt=f"\0{position}") for c in chunks]
            out.extend(chunks)
        return out

    def run(self) -> JobReport:
        chunks = self.chunks()
        self.report.chunks = len(chunks)
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataforgeError(f"{self.out.parent}: cannot create the output folder ({exc.strerror})") from None
        journal = Journal(self.journal_path, self.identity)
        try:
            # A chunk that kept no record (the server failed, or every reply was bad) is asked
            # again: a re-run is how a user retries after fixing the server.
            finished = {chunk: e for chunk, e in journal.finished().items() if e.get("records")}
            todo = [c for c in chunks if c.id not in finished]
            self.report.resumed = len(chunks) - len(todo)
            client = self._client() if self.endpoint is not None and todo else None
            self.progress("start", {"chunks": len(chunks), "resumed": self.report.resumed})
            if self.endpoint is None:
                for chunk in todo:
                    self._check_cancel()
                    self._offline(chunk, journal)
            elif client is not None:
                asyncio.run(self._llm(todo, journal, client))
            self._write_outputs(chunks, journal.finished())
        finally:
            journal.close()
        return self.report

    def _check_cancel(self) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise Cancelled()

    # Offline ------------------------------------------------------------------------------------

    def _offline(self, chunk: Chunk, journal: Journal) -> None:
        kept, rejected = [], []
        for method, question, answer in offline_pairs(chunk):
            record = to_record(pair_sample(question, answer), self.options.target, provenance(chunk, "offline", method))
            problems = problems_of(record, self.options.target)
            if problems:
                rejected.append({"record": record, "reason": "; ".join(f"{p.code} {p.message}" for p in problems)})
            else:
                kept.append(record)
        self._finish(chunk, journal, kept, rejected)

    def _finish(self, chunk: Chunk, journal: Journal, kept: list, rejected: list) -> None:
        journal.write({"event": "records", "chunk": chunk.id, "records": kept, "rejects": rejected})
        self.report.done += 1
        self.report.failed += not kept
        self.progress("chunk", {"kept": len(kept), "rejected": len(rejected), "failed": not kept})

    # LLM ----------------------------------------------------------------------------------------

    def _client(self) -> LLMClient:
        def on_event(name: str, data: dict) -> None:
            if name == "retry":
                self.report.retried += 1
            elif name == "downgrade":
                self.report.downgrades.append(f"{data['from']} -> {data['to']}")
            self.progress(name, data)

        return LLMClient(self.endpoint, retries=self.options.retries, backoff=self.options.backoff,
                         max_retry_after=self.options.max_retry_after, on_event=on_event)

    async def _llm(self, todo: list[Chunk], journal: Journal, client: LLMClient) -> None:
        gate = asyncio.Semaphore(self.options.concurrency)
        journaled = journal.replies()
        schema = prompts.records_schema(self.options.target)  # the same for every chunk

        async def one(chunk: Chunk) -> None:
            async with gate:
                await self._ask(chunk, client, journal, list(journaled.get(chunk.id, [])), schema)

        async def watch() -> None:
            while not self._cancel.is_set():
                await asyncio.sleep(0.05)

        work = asyncio.ensure_future(asyncio.gather(*(one(c) for c in todo)))
        watcher = asyncio.ensure_future(watch()) if self._cancel is not None else None
        try:
            await asyncio.wait([work] + ([watcher] if watcher else []), return_when=asyncio.FIRST_COMPLETED)
            if not work.done():  # cancelled: requests in flight are dropped and asked again next time
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
                raise Cancelled()
            work.result()
        finally:
            if watcher is not None:
                watcher.cancel()
            await client.close()
            self.report.requests += client.requests

    async def _ask(self, chunk: Chunk, client: LLMClient, journal: Journal, journaled: list[dict],
                   schema: dict) -> None:
        try:
            await self._ask_chunk(chunk, client, journal, journaled, schema)
        except (DataforgeError, OSError):  # the journal cannot be written: stop, keep what is done
            raise
        except Exception as exc:  # a fault of ours must cost one chunk, never the run and its records
            self._finish(chunk, journal, [], [{"reply": None, "reason": f"internal error: {type(exc).__name__}: "
                                                                       f"{self.endpoint.redact(str(exc))[:200]}"}])

    async def _ask_chunk(self, chunk: Chunk, client: LLMClient, journal: Journal, journaled: list[dict],
                         schema: dict) -> None:
        o = self.options
        messages = prompts.build_messages(chunk, o.target, o.per_chunk, o.turns, o.tools)
        with_schema = prompts.build_messages(chunk, o.target, o.per_chunk, o.turns, o.tools, schema)
        origin = provenance(chunk, "llm", "llm", self.endpoint.model)
        kept: list[dict] = []
        rejected: list[dict] = []
        for attempt in range(o.max_reasks + 1):
            try:
                text, refusal, key = await self._reply(chunk, client, journal, journaled, messages, with_schema,
                                                       schema, attempt)
            except GaveUp as exc:
                rejected.append({"reply": None, "reason": str(exc)})
                break
            if refusal:
                rejected.append({"reply": refusal, "reason": "the model refused"})
                break
            # Off the event loop: a hostile reply must not stall the other requests' deadlines.
            kept, problems = await asyncio.to_thread(self._validate, text, origin)
            if not problems:
                if key is not None:  # only replies that made records are kept for later runs
                    self._cache_put(key, {"text": text, "refusal": refusal})
                break
            if attempt == o.max_reasks:
                rejected.append({"reply": text, "reason": "; ".join(problems)})
                break
            self.report.retried += 1
            self.progress("reask", {"chunk": chunk.id, "problems": len(problems)})
            messages = prompts.reask_messages(messages, text, problems)
            with_schema = prompts.reask_messages(with_schema, text, problems)
        self._finish(chunk, journal, kept, rejected)

    async def _reply(self, chunk, client, journal, journaled, messages, with_schema, schema, attempt):
        """The reply for this attempt: from the journal (a resumed run), the cache, or the server."""
        if journaled:
            event = journaled.pop(0)
            self.report.cached += 1
            return event["text"], event.get("refusal"), None
        key = self._cache_key(messages, client.level)
        cached = self._cache_get(key)
        if cached is not None:
            self.report.cached += 1
            text, refusal, key = cached["text"], cached.get("refusal"), None
        else:
            reply = await client.complete(messages, schema, with_schema)
            self.report.prompt_tokens += reply.prompt_tokens
            self.report.completion_tokens += reply.completion_tokens
            text, refusal = reply.text, reply.refusal
        journal.write({"event": "reply", "chunk": chunk.id, "attempt": attempt, "text": text, "refusal": refusal})
        return text, refusal, key

    def _validate(self, text: str, origin: dict) -> tuple[list[dict], list[str]]:
        records = prompts.extract_records(text)
        if records is None:
            return [], ['the reply holds no JSON object with "records"']
        kept, problems = [], []
        for i, record in enumerate(records):
            found = problems_of(record, self.options.target)
            if found:
                problems.extend(f"record {i}: {p.code} at {p.path}: {p.message}" for p in found)
            else:
                kept.append({**record, "provenance": origin})
        return kept, problems

    def _cache_key(self, messages: list[dict], level: int) -> str:
        e = self.endpoint
        key = json.dumps({"base_url": e.base_url, "model": e.model, "temperature": e.temperature, "level": level,
                          "messages": messages}, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(key.encode()).hexdigest()

    def _cache_get(self, key: str) -> dict | None:
        path = self.cache / key[:2] / f"{key}.json"
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            value = json.loads(data)
            if type(value) is dict and type(value.get("text")) is str and type(value.get("refusal", "")) in (str,
                                                                                                            type(None)):
                return value
        except (ValueError, RecursionError):
            pass
        self.progress("warning", {"message": f"dropped an unreadable cached reply: {path}"})
        with contextlib.suppress(OSError):
            path.unlink()
        return None

    def _cache_put(self, key: str, value: dict) -> None:
        folder = self.cache / key[:2]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_writer(folder / f"{key}.json", durable=False) as f:
                f.write(json.dumps(value, ensure_ascii=False).encode())
        except (OSError, DataforgeError):
            pass  # a cache that cannot be written only costs a request next time

    # Output -------------------------------------------------------------------------------------

    def _write_outputs(self, chunks: list[Chunk], finished: dict[str, dict]) -> None:
        """Records in chunk order, rebuilt from the journal: the same whatever the order replies
        came in, and whether or not the run was interrupted."""
        with atomic_writer(self.out) as f:
            writer = RecordWriter(f, is_json_lines(self.out))
            for chunk in chunks:
                for record in finished.get(chunk.id, {}).get("records", []):
                    writer.write(record)
                    self.report.records += 1
            writer.close()
        rejects = [{"chunk": c.id, "source": c.source, "heading_path": list(c.heading_path),
                    "blocks": [c.first_block, c.last_block], **r}
                   for c in chunks for r in finished.get(c.id, {}).get("rejects", [])]
        self.report.rejects = len(rejects)
        if rejects or self.report.rejects_path.exists():
            with atomic_writer(self.report.rejects_path) as f:
                for r in rejects:
                    f.write((json.dumps(r, ensure_ascii=False) + "\n").encode())


def default_output(source: Path, target: str) -> Path:
    return Path(os.getcwd()) / f"{source.stem}.{target}.jsonl"
