"""TRL's prompt-completion layout, {prompt, completion}, strings or message lists; with a
boolean `label` per record it is TRL's unpaired preference (KTO)."""

from __future__ import annotations

from dataforge.formats.base import Format, Problem, carry_extra, loss_flags_dropped, unheld_parts
from dataforge.formats.trl import ROLES, read_turns, write_turns
from dataforge.model import Role, Sample


class PromptCompletion(Format):
    name = "prompt-completion"
    title = "Prompt-completion (TRL): {prompt, completion, label?}, strings or message lists"
    schema = "prompt-completion.schema.json"
    keys = frozenset({"prompt", "completion"})
    roles = ROLES

    def detect(self, raw: dict) -> bool:
        return "prompt" in raw and "completion" in raw

    def read_detailed(self, raw: dict, problems: list[Problem]) -> Sample | None:
        extra = self.extra_keys(raw, problems)
        prompt = read_turns(self, raw, "prompt", Role.USER, problems) or []
        completion = read_turns(self, raw, "completion", Role.ASSISTANT, problems) or []
        return Sample.of((*prompt, *completion), extra=extra)

    def write(self, sample: Sample) -> tuple[dict, list[str]]:
        messages = list(sample.messages)
        losses = loss_flags_dropped(messages, self.name)
        losses += unheld_parts(self.name, sample)
        last_prompt = max((i for i, m in enumerate(messages) if m.role != Role.ASSISTANT), default=-1)
        prompt, completion = messages[:last_prompt + 1], messages[last_prompt + 1:]
        conversational = len(prompt) != 1 or prompt[0].role != Role.USER or len(completion) != 1
        record = {"prompt": write_turns(prompt, conversational), "completion": write_turns(completion, conversational)}
        carry_extra(record, sample, self.name, losses)
        return record, losses


FORMAT = PromptCompletion()
