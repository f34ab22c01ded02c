"""An OpenAI-compatible chat endpoint, used robustly: a structured-output ladder, retries with
backoff and jitter (Retry-After respected up to a cap), a deadline per request, and token counts.

The ladder: JSON-schema structured output, then JSON mode with the schema in the prompt, then a
plain prompt with tolerant extraction. A server that answers 400 to a level is asked at the next
one from then on; requests already in flight at the refused level follow without another step.

Requests go through the openai client's streaming-response interface, read here piece by piece,
because a robust run needs what its parsed replies do not give: a deadline for the whole request
(the client's timeout is per read, so a server that trickles bytes would hold a run forever), a
cap on the bytes read, and a reply that is checked here, field by field, before anything trusts
it. Every reply ends as a ``Reply`` or as ``GaveUp`` with a reason; nothing else escapes.

The key is held here only. It, and any Authorization value, is redacted from every message this
module makes, so a server that quotes it in an error cannot put it into a journal or a log.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from dataforge.errors import DataforgeError

LEVELS = ("json_schema", "json_object", "plain")
MAX_REPLY_BYTES = 8 * 1024 * 1024  # a reply of records is kilobytes; more is a fault, not data
MAX_RETRY_AFTER = 120.0  # seconds: a longer Retry-After is waited this long, then asked again
_RETRYABLE = {408, 409, 425, 429}


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    timeout: float = 60.0  # seconds for the whole request: connect, send, wait and read
    temperature: float = 0.7

    @classmethod
    def from_settings(cls, base_url: str | None, model: str | None, api_key_env: str | None, timeout: float,
                      settings: dict) -> Endpoint | None:
        """Flags first, then environment variables, then [tool.dataforge.generate] settings."""
        base_url = base_url or os.environ.get("DATAFORGE_BASE_URL") or settings.get("base-url")
        model = model or os.environ.get("DATAFORGE_MODEL") or settings.get("model")
        if not base_url and not model:
            return None
        if not base_url or not model:
            raise DataforgeError("an LLM endpoint needs both a base URL and a model",
                                 hint="--base-url http://localhost:8000/v1 --model NAME (or DATAFORGE_BASE_URL/"
                                      "DATAFORGE_MODEL)")
        env = api_key_env or settings.get("api-key-env") or "OPENAI_API_KEY"
        key = os.environ.get("DATAFORGE_API_KEY") or os.environ.get(env) or settings.get("api-key") or "none"
        return cls(base_url, model, key, timeout)

    def redact(self, text: str) -> str:
        """``text`` with the key, and the Authorization value made from it, replaced."""
        for secret in (f"Bearer {self.api_key}", self.api_key):
            if len(secret) >= 4 and secret != "none":
                text = text.replace(secret, "[redacted]")
        return text


@dataclass
class Reply:
    text: str
    refusal: str | None
    level: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class GaveUp(Exception):
    """Every retry failed, or the server's answer cannot be used; the chunk is rejected with this reason."""


class _Transient(Exception):
    """Worth asking again after a pause: a timeout, a dropped connection, 429, 5xx, a garbled reply."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass
class LLMClient:
    endpoint: Endpoint
    retries: int = 5
    backoff: float = 1.0  # seconds before the first retry, doubled each time
    max_backoff: float = 30.0
    max_retry_after: float = MAX_RETRY_AFTER
    max_reply_bytes: int = MAX_REPLY_BYTES
    on_event: Callable[[str, dict], None] = lambda name, data: None
    level: int = 0  # index into LEVELS: lowered for good when the server refuses one
    requests: int = 0

    def __post_init__(self) -> None:
        import openai

        self._openai = openai
        self._client = None

    def _connection(self):
        # Made inside the running event loop (asyncio.run gives each job its own); the client's
        # own retries are off: these ones count requests and cap Retry-After.
        if self._client is None:
            self._client = self._openai.AsyncOpenAI(base_url=self.endpoint.base_url, api_key=self.endpoint.api_key,
                                                    timeout=self.endpoint.timeout, max_retries=0)
        return self._client

    async def complete(self, messages: list[dict], schema: dict, schema_messages: list[dict]) -> Reply:
        """Ask once (retrying transient failures); ``schema_messages`` carry the schema in the prompt."""
        attempt = 0
        while True:
            asked = self.level
            level = LEVELS[asked]
            body: dict = {"model": self.endpoint.model, "temperature": self.endpoint.temperature,
                          "messages": schema_messages if level != "json_schema" else messages}
            if level == "json_schema":
                body["response_format"] = {"type": "json_schema",
                                           "json_schema": {"name": "records", "schema": schema, "strict": False}}
            elif level == "json_object":
                body["response_format"] = {"type": "json_object"}
            self.requests += 1
            try:
                return await self._ask(body, level)
            except _Refused as exc:
                if asked < self.level:  # another request already stepped down: follow it
                    continue
                if self.level < len(LEVELS) - 1:
                    self.level = asked + 1
                    self.on_event("downgrade", {"from": level, "to": LEVELS[self.level]})
                    continue
                raise GaveUp(f"the server refused the request: {exc}") from None
            except _Transient as exc:
                if attempt >= self.retries:
                    raise GaveUp(f"gave up after {attempt + 1} attempts: {exc}") from None
                delay = min(self.max_backoff, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.0)
                if exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, self.max_retry_after))
                self.on_event("retry", {"reason": str(exc), "delay": round(delay, 2)})
                attempt += 1
                await asyncio.sleep(delay)

    async def _ask(self, body: dict, level: str) -> Reply:
        openai = self._openai
        deadline = self.endpoint.timeout
        try:
            status, headers, data = await asyncio.wait_for(self._post(body), deadline)
        except asyncio.TimeoutError:
            raise _Transient(f"no complete reply within {deadline:g} s") from None
        except _TooLarge:
            raise GaveUp(f"the reply is larger than {self.max_reply_bytes // 2**20} MB") from None
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise _Transient(self.endpoint.redact(f"{type(exc).__name__}: {exc}"[:200])) from None
        except openai.OpenAIError as exc:
            raise GaveUp(self.endpoint.redact(f"{type(exc).__name__}: {exc}"[:200])) from None
        if status != 200:
            message = self.endpoint.redact(f"HTTP {status}: {_error_message(data)}")
            if status in _RETRYABLE or status >= 500:
                raise _Transient(message, _retry_after(headers.get("retry-after")))
            if status in (400, 422):
                raise _Refused(message)
            raise GaveUp(message)
        # Parsing a few megabytes of hostile JSON takes time: off the event loop, so other
        # requests' deadlines keep running.
        parsed = await asyncio.to_thread(parse_reply, data, headers.get("content-type", ""))
        if isinstance(parsed, str):
            raise _Transient(self.endpoint.redact(parsed))
        text, refusal, prompt_tokens, completion_tokens = parsed
        return Reply(self.endpoint.redact(text), refusal and self.endpoint.redact(refusal), level,
                     prompt_tokens, completion_tokens)

    async def _post(self, body: dict) -> tuple[int, dict, bytes]:
        """(status, headers with lower-case names, body) of one request, read up to the cap."""
        create = self._connection().chat.completions.with_streaming_response.create
        try:
            async with create(**body) as response:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_reply_bytes:
                    raise _TooLarge()
                data = bytearray()
                async for piece in response.iter_bytes():
                    data += piece
                    if len(data) > self.max_reply_bytes:
                        raise _TooLarge()
                return response.status_code, _lower(response.headers), bytes(data)
        except self._openai.APIStatusError as exc:  # the client raises on any status but 2xx
            try:
                text = exc.response.text
            except Exception:  # noqa: BLE001 - a body the client did not read: its message says enough
                text = exc.message
            return exc.status_code, _lower(exc.response.headers), text.encode("utf-8", "replace")[:self.max_reply_bytes]

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def _lower(headers) -> dict:
    return {k.lower(): v for k, v in headers.items()}


class _Refused(Exception):
    """400/422: the server does not take this request (often its response_format)."""


class _TooLarge(Exception):
    pass


def parse_reply(data: bytes, content_type: str) -> tuple[str, str | None, int, int] | str:
    """(text, refusal, prompt tokens, completion tokens) from a 200 reply's body, or why it cannot
    be used. Plain chat completions and streamed (server-sent events) replies are both read."""
    try:
        body = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the reply is not UTF-8 (byte {exc.start})"
    if "text/event-stream" in content_type or body.lstrip().startswith("data:"):
        return _parse_stream(body)
    value = _json(body)
    if isinstance(value, str):
        kind = content_type.split(";")[0].strip() or "no content type"
        return f"the reply is not JSON ({kind}; {value}): {_excerpt(body)}"
    if not isinstance(value, dict):
        return f"the reply is {type(value).__name__}, not a chat completion object"
    choices = value.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return "the reply has no choices" + (f" (error: {_error_message(data)})" if "error" in value else "")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        return "the reply's first choice has no message"
    text = _text_of(message.get("content"))
    if text is None:
        return f"the reply's content is {type(message.get('content')).__name__}, not text"
    refusal = message.get("refusal")
    if refusal is not None and not isinstance(refusal, str):
        refusal = json.dumps(refusal, ensure_ascii=False)[:500]
    usage = value.get("usage") if isinstance(value.get("usage"), dict) else {}
    return text, refusal or None, _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))


def _parse_stream(body: str) -> tuple[str, str | None, int, int] | str:
    """A streamed reply: ``data: {...}`` events with ``choices[0].delta.content`` pieces."""
    pieces: list[str] = []
    refusal: list[str] = []
    usage: dict = {}
    for line in body.splitlines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            break
        event = _json(payload)
        if not isinstance(event, dict):
            return f"a streamed event is not a JSON object: {_excerpt(payload)}"
        if isinstance(event.get("usage"), dict):
            usage = event["usage"]
        for choice in event.get("choices") or ():
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if isinstance(delta, dict):
                text = _text_of(delta.get("content"))
                pieces.append(text or "")
                if isinstance(delta.get("refusal"), str):
                    refusal.append(delta["refusal"])
    if not pieces and not refusal:
        return "the streamed reply carried no content"
    return ("".join(pieces), "".join(refusal) or None, _count(usage.get("prompt_tokens")),
            _count(usage.get("completion_tokens")))


def _json(text: str):
    """The JSON value of ``text``, or a string saying why there is none (depth bombs included)."""
    try:
        return json.loads(text)
    except RecursionError:
        return "nested too deeply"
    except ValueError as exc:
        return str(exc).split(":")[0]


def _text_of(content) -> str | None:
    """Content as text: a string, null (nothing), or a list of parts whose text is joined."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text") for p in content if isinstance(p, dict)]
        if all(isinstance(t, str) for t in texts) and texts:
            return "".join(texts)
    return None


def _count(value) -> int:
    return value if type(value) is int and value >= 0 else 0


def _error_message(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    value = _json(text)
    if isinstance(value, dict):
        error = value.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        if isinstance(message, str):
            return message[:200]
    return _excerpt(text)


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return repr(text[:80] + ("..." if len(text) > 80 else ""))


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 and seconds == seconds else None
