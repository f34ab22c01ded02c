"""TRL's preference layouts: explicit prompt {prompt, chosen, rejected}, or implicit prompt
{chosen, rejected} where both replies are whole conversations that share the prompt. Each part
is a string (standard) or a list of {role, content} messages (conversational)."""

from __future__ import annotations

from dataforge.formats.base import Format, Problem, carry_extra, loss_flags_dropped, unheld_parts
from dataforge.formats.trl import ROLES, is_conversational, read_turns, write_turns
from dataforge.model import Message, Role, Sample


class Preference(Format):
    name = "preference"
    title = "Preference pairs (TRL): {prompt?, chosen, rejected}, strings or message lists"
    schema = "preference.schema.json"
    keys = frozenset({"prompt", "chosen", "rejected"})
    roles = ROLES

    def detect(self, raw: dict) -> bool:
        if "prompt" in raw:
            return "chosen" in raw or "rejected" in raw
        # implicit prompt: both replies are conversations, and nothing else claims the record
        return type(raw.get("chosen")) is list and "conversations" not in raw and "messages" not in raw

    def read_detailed(self, raw: dict, problems: list[Problem]) -> Sample | None:
        extra = self.extra_keys(raw, problems)
        explicit = "prompt" in raw
        prompt = read_turns(self, raw, "prompt", Role.USER, problems, required=explicit) if explicit else []
        sides = [read_turns(self, raw, key, Role.ASSISTANT, problems, required=False) if key in raw else None
                 for key in ("chosen", "rejected")]
        if not explicit:  # the prompt is what both conversations share; the rest is each reply
            present = [side for side in sides if side is not None]
            shared = _shared_prefix(*present) if len(present) == 2 else max(len(present[0]) - 1, 0) if present else 0
            prompt = present[0][:shared] if present else []
            sides = [side[shared:] if side is not None else None for side in sides]
        # A missing side is left None: the preference rules report it with its own code.
        chosen, rejected = (_reply(s) for s in sides)
        return Sample.of(prompt or (), chosen=chosen, rejected=rejected, extra=extra)

    def write(self, sample: Sample) -> tuple[dict, list[str]]:
        losses = loss_flags_dropped(sample.messages, self.name)
        losses += unheld_parts(self.name, sample, preference=False)
        conversational = is_conversational(sample)
        record: dict = {"prompt": write_turns(list(sample.messages), conversational)}
        for key in ("chosen", "rejected"):
            reply = getattr(sample, key)
            if reply is None:
                losses.append(f"sample has no {key} reply")
                reply = Message(Role.ASSISTANT, "")
            record[key] = write_turns([reply], conversational)
        carry_extra(record, sample, self.name, losses)
        return record, losses


def _shared_prefix(a: list[Message], b: list[Message]) -> int:
    n = 0
    while n < min(len(a), len(b)) - 1 and (a[n].role, a[n].content) == (b[n].role, b[n].content):
        n += 1
    return n


def _reply(messages: list[Message] | None) -> Message | None:
    """The reply a side stands for: its last message (a side is normally one assistant message)."""
    if not messages:
        return None if messages is None else Message(Role.ASSISTANT, "")
    return messages[-1]


FORMAT = Preference()
