"""Preference pairs with an explicit prompt: {prompt, chosen, rejected}, all strings (TRL)."""

from __future__ import annotations

from dataforge.formats.base import Format, Problem, carry_extra, loss_flags_dropped, require_str, unheld_parts
from dataforge.model import Message, Role, Sample


class Preference(Format):
    name = "preference"
    title = "Preference pairs: {prompt, chosen, rejected}"
    schema = "preference.schema.json"
    keys = frozenset({"prompt", "chosen", "rejected"})

    def detect(self, raw: dict) -> bool:
        return "prompt" in raw and ("chosen" in raw or "rejected" in raw)

    def read_detailed(self, raw: dict, problems: list[Problem]) -> Sample | None:
        extra = self.extra_keys(raw, problems)
        prompt = Message(Role.USER, require_str(raw, "prompt", "$", problems), path="$.prompt")
        # A missing side is left None: the preference rules report it with its own code.
        chosen, rejected = (
            Message(Role.ASSISTANT, require_str(raw, key, "$", problems), path=f"$.{key}")
            if key in raw else None
            for key in ("chosen", "rejected"))
        return Sample.of((prompt,), chosen=chosen, rejected=rejected, extra=extra)

    def write(self, sample: Sample) -> tuple[dict, list[str]]:
        losses = loss_flags_dropped(sample.messages, self.name)
        prompt = [m for m in sample.messages if m.role == Role.USER][-1:]
        for m in sample.messages:
            if m not in prompt:
                losses.append(f"{self.name} holds a single prompt; {m.path} ({m.role}) was dropped")
        losses += unheld_parts(self.name, sample, preference=False)
        record = {"prompt": prompt[0].content if prompt else ""}
        for key in ("chosen", "rejected"):
            reply = getattr(sample, key)
            if reply is None:
                losses.append(f"sample has no {key} reply")
            record[key] = reply.content if reply is not None else ""
        carry_extra(record, sample, self.name, losses)
        return record, losses


FORMAT = Preference()
