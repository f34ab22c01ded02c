"""ChatGLM3's input-output layout: one prompt, one response, no roles."""

from __future__ import annotations

from dataforge.formats.base import Format, Problem, carry_extra, loss_flags_dropped, require_str, unheld_parts
from dataforge.model import Role, Sample

_PATHS = ("$.prompt", "$.response")


class PromptResponse(Format):
    name = "chatglm3-io"
    title = "ChatGLM3 input-output: {prompt, response}"
    schema = "chatglm3-io.schema.json"
    keys = frozenset({"prompt", "response"})

    def detect(self, raw: dict) -> bool:
        return "prompt" in raw and "response" in raw

    def read_detailed(self, raw: dict, problems: list[Problem]) -> Sample | None:
        extra = self.extra_keys(raw, problems)
        prompt = require_str(raw, "prompt", "$", problems)
        response = require_str(raw, "response", "$", problems)
        return Sample((Role.USER, Role.ASSISTANT), (prompt, response), (None, None), _PATHS, extra=extra)

    def write(self, sample: Sample) -> tuple[dict, list[str]]:
        messages = sample.messages
        losses = loss_flags_dropped(messages, self.name)
        last = {role: max((i for i, m in enumerate(messages) if m.role == role), default=None)
                for role in (Role.USER, Role.ASSISTANT)}
        for i, m in enumerate(messages):
            if i not in last.values():
                losses.append(f"{self.name} holds one prompt and one response; {m.path} ({m.role}) was dropped")
        losses += unheld_parts(self.name, sample)
        record = {"prompt": "" if last[Role.USER] is None else messages[last[Role.USER]].content,
                  "response": "" if last[Role.ASSISTANT] is None else messages[last[Role.ASSISTANT]].content}
        carry_extra(record, sample, self.name, losses)
        return record, losses


FORMAT = PromptResponse()
