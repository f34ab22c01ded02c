"""ChatGLM3's input-output layout: one prompt, one response, no roles."""

from __future__ import annotations

from dataforge.formats.base import Format, Problem, loss_flags_dropped, require_str
from dataforge.model import Message, Role, Sample


class PromptResponse(Format):
    name = "chatglm3-io"
    title = "ChatGLM3 input-output: {prompt, response}"
    schema = "chatglm3-io.schema.json"
    keys = frozenset({"prompt", "response"})

    def detect(self, raw: dict) -> bool:
        return "prompt" in raw and "response" in raw

    def read(self, raw: dict, problems: list[Problem]) -> Sample | None:
        extra = self.extra_keys(raw, problems)
        prompt = require_str(raw, "prompt", "$", problems)
        response = require_str(raw, "response", "$", problems)
        return Sample((Message(Role.USER, prompt, path="$.prompt"),
                       Message(Role.ASSISTANT, response, path="$.response")), extra=extra)

    def write(self, sample: Sample) -> tuple[dict, list[str]]:
        losses = loss_flags_dropped(sample.messages, self.name)
        users = [m for m in sample.messages if m.role == Role.USER]
        replies = [m for m in sample.messages if m.role == Role.ASSISTANT]
        kept = {id(m) for m in users[-1:] + replies[-1:]}
        for m in sample.messages:
            if id(m) not in kept:
                losses.append(f"{self.name} holds one prompt and one response; {m.path} ({m.role}) was dropped")
        if sample.tools is not None:
            losses.append(f"{self.name} holds no tool definitions; tools were dropped")
        if sample.is_preference:
            losses.append(f"{self.name} holds no chosen/rejected pair; only the prompt was written")
        record = {"prompt": users[-1].content if users else "",
                  "response": replies[-1].content if replies else ""}
        if sample.extra:
            record.update(sample.extra)
        return record, losses


FORMAT = PromptResponse()
