"""Firefly multi-turn data: {conversation: [{human, assistant}, ...]}."""

from __future__ import annotations

from dataforge.formats.base import (
    Format,
    Problem,
    carry_extra,
    item_path,
    loss_flags_dropped,
    not_an_object,
    pair_turns,
    require_list,
    require_str,
    split_system,
    unheld_parts,
    unknown_keys,
)
from dataforge.model import Message, Role, Sample

_TURN_KEYS = frozenset({"human", "assistant"})


class Firefly(Format):
    name = "firefly"
    title = "Firefly: {conversation: [{human, assistant}]}"
    schema = "firefly.schema.json"
    # Firefly's published sets carry these bookkeeping keys next to the conversation.
    keys = frozenset({"conversation", "conversation_id", "category", "dataset"})
    alternation = "strict"

    def detect(self, raw: dict) -> bool:
        return type(raw.get("conversation")) is list

    def read_detailed(self, raw: dict, problems: list[Problem]) -> Sample | None:
        extra = self.extra_keys(raw, problems)
        turns = require_list(raw, "conversation", "$", problems)
        if turns is None:
            return None
        messages: list[Message] = []
        for i, turn in enumerate(turns):
            path = item_path("$.conversation", i)
            if type(turn) is not dict:
                not_an_object(turn, path, problems)
                continue
            unknown_keys(turn, _TURN_KEYS, path, problems)
            messages.append(Message(Role.USER, require_str(turn, "human", path, problems), path=path + ".human"))
            messages.append(Message(Role.ASSISTANT, require_str(turn, "assistant", path, problems),
                                    path=path + ".assistant"))
        known = {k: raw[k] for k in ("conversation_id", "category", "dataset") if k in raw}
        return Sample.of(messages, extra={**known, **(extra or {})} or None)

    def write(self, sample: Sample) -> tuple[dict, list[str]]:
        system, rest, losses = split_system(sample)
        if system is not None:
            losses.append(f"{self.name} holds no system message; it was dropped")
        losses += loss_flags_dropped(rest, self.name)
        turns = [{"human": user.content, "assistant": reply.content}
                 for user, reply in pair_turns(self.name, rest, losses)]
        losses += unheld_parts(self.name, sample)
        record: dict = {"conversation": turns}
        carry_extra(record, sample, self.name, losses)
        return record, losses


FORMAT = Firefly()
