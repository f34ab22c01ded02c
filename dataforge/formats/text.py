"""Pre-training text: {text}. Not fine-tuning data: there are no roles to mask by.

Such files sit beside SFT data in many folders (LLaMA-Factory's data/ ships some). lint says so
once per file (S007) instead of a finding per record, convert does not turn them into
conversations, and masking trains every token, as continued pre-training does.
"""

from __future__ import annotations

from dataforge.formats.base import Format, Problem, carry_extra, require_str, unheld_parts
from dataforge.model import Role, Sample

_OTHER_LAYOUTS = frozenset({"messages", "conversations", "conversation", "instruction", "prompt", "chosen"})


class Text(Format):
    name = "text"
    title = "Pre-training text: {text} (not fine-tuning data: read, counted, never converted)"
    schema = "text.schema.json"
    keys = frozenset({"text"})
    conversational = False

    def detect(self, raw: dict) -> bool:
        return "text" in raw and raw.keys().isdisjoint(_OTHER_LAYOUTS)

    def read_clean(self, raw: dict) -> Sample | None:
        text = raw.get("text")
        if type(text) is str and len(raw) == 1:
            return Sample((Role.ASSISTANT,), (text,), (None,), ("$.text",))
        return None

    def read_detailed(self, raw: dict, problems: list[Problem]) -> Sample | None:
        extra = self.extra_keys(raw, problems)
        return Sample((Role.ASSISTANT,), (require_str(raw, "text", "$", problems),), (None,), ("$.text",),
                      extra=extra)

    def write(self, sample: Sample) -> tuple[dict, list[str]]:
        messages = [m for m in sample.messages if m.role != Role.TOOL_CALL]
        losses = ["pre-training text has no roles: the messages were joined with blank lines"] \
            if len(messages) > 1 else []
        losses += [f"pre-training text holds no tool calls; {m.path} ({m.name}) was dropped"
                   for m in sample.messages if m.role == Role.TOOL_CALL]
        losses += unheld_parts(self.name, sample)
        record = {"text": "\n\n".join(m.content for m in messages)}
        carry_extra(record, sample, self.name, losses)
        return record, losses


FORMAT = Text()
