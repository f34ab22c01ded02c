"""An OpenAI-compatible chat endpoint, used robustly: a structured-output ladder, retries with
backoff and jitter (Retry-After respected), a per-request timeout, and token counts.

The ladder: JSON-schema structured output, then JSON mode with the schema in the prompt, then a
plain prompt with tolerant extraction. A server that answers 400 to a level is asked at the next
one from then on. The key is held here only; it is never logged, journaled or shown.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from dataforge.errors import DataforgeError

LEVELS = ("json_schema", "json_object", "plain")


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    timeout: float = 60.0
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


@dataclass
class Reply:
    text: str
    refusal: str | None
    level: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class GaveUp(Exception):
    """Every retry failed; the chunk is rejected with this reason."""


@dataclass
class LLMClient:
    endpoint: Endpoint
    retries: int = 5
    backoff: float = 1.0  # seconds before the first retry, doubled each time
    max_backoff: float = 30.0
    on_event: Callable[[str, dict], None] = lambda name, data: None
    level: int = 0  # index into LEVELS: lowered for good when the server refuses one
    requests: int = 0

    def __post_init__(self) -> None:
        import openai
        from openai.types.chat import ChatCompletion

        self._openai = openai
        self._completion = ChatCompletion
        self._client = None

    def _connection(self):
        # Made inside the running event loop (asyncio.run gives each job its own); the client's
        # own retries are off: these ones count requests and honour Retry-After.
        if self._client is None:
            self._client = self._openai.AsyncOpenAI(base_url=self.endpoint.base_url, api_key=self.endpoint.api_key,
                                                    timeout=self.endpoint.timeout, max_retries=0)
        return self._client

    async def complete(self, messages: list[dict], schema: dict, schema_messages: list[dict]) -> Reply:
        """Ask once (retrying transient failures); ``schema_messages`` carry the schema in the prompt."""
        openai = self._openai
        attempt = 0
        while True:
            level = LEVELS[self.level]
            body: dict = {"model": self.endpoint.model, "temperature": self.endpoint.temperature,
                          "messages": schema_messages if level != "json_schema" else messages}
            if level == "json_schema":
                body["response_format"] = {"type": "json_schema",
                                           "json_schema": {"name": "records", "schema": schema, "strict": False}}
            elif level == "json_object":
                body["response_format"] = {"type": "json_object"}
            try:
                self.requests += 1
                # The client's generic POST with a body that is already valid JSON: the same
                # request, errors and response types as chat.completions.create, without its
                # typed walk over every parameter, which costs milliseconds per request.
                response = await self._connection().post("/chat/completions", cast_to=self._completion,
                                                         body=body)
            except openai.BadRequestError as exc:
                if self.level < len(LEVELS) - 1:
                    self.level += 1
                    self.on_event("downgrade", {"from": level, "to": LEVELS[self.level]})
                    continue
                raise GaveUp(f"the server refused the request: {_short(exc)}") from None
            except (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError,
                    openai.APIConnectionError) as exc:
                if attempt >= self.retries:
                    raise GaveUp(f"gave up after {attempt + 1} attempts: {_short(exc)}") from None
                delay = min(self.max_backoff, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.0)
                retry_after = _retry_after(exc)
                if retry_after is not None:
                    delay = max(delay, retry_after)
                self.on_event("retry", {"reason": _short(exc), "delay": round(delay, 2)})
                attempt += 1
                await asyncio.sleep(delay)
                continue
            except openai.APIError as exc:
                raise GaveUp(f"the server failed: {_short(exc)}") from None
            if not response.choices:
                raise GaveUp("the server sent no choices")
            message = response.choices[0].message
            usage = response.usage
            return Reply(message.content or "", getattr(message, "refusal", None), level,
                         usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def _retry_after(exc) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _short(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return f"HTTP {status}: {text}" if status else text
