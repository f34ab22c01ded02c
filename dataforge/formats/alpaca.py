"""Alpaca instruction data, with LLaMA-Factory's optional `system` and `history`.

The user turn's canonical content is ``instruction + "\\n" + input`` (what LLaMA-Factory trains
on); the two parts are kept in the message's ``data`` so the writer and the Alpaca prompt
templates, which lay them out separately, get them back exactly.
"""

from __future__ import annotations

from dataforge.formats.base import (
    MISSING,
    WRONG_TYPE,
    Format,
    Problem,
    carry_extra,
    item_path,
    loss_flags_dropped,
    pair_turns,
    require_str,
    split_system,
    type_name,
    unheld_parts,
)
from dataforge.model import Message, Role, Sample


def join_instruction(instruction: str, input_text: str) -> str:
    return f"{instruction}\n{input_text}" if input_text else instruction


class Alpaca(Format):
    name = "alpaca"
    title = "Alpaca: {instruction, input, output, system?, history?}"
    schema = "alpaca.schema.json"
    keys = frozenset({"instruction", "input", "output", "system", "history"})
    alternation = "strict"

    def detect(self, raw: dict) -> bool:
        return "instruction" in raw and "output" in raw

    def read_clean(self, raw: dict) -> Sample | None:
        instruction, output, input_text = raw.get("instruction"), raw.get("output"), raw.get("input", "")
        if type(instruction) is not str or type(output) is not str or type(input_text) is not str \
                or not raw.keys() <= self.keys:
            return None
        turn = (join_instruction(instruction, input_text), output)
        data = ((instruction, input_text), None)
        history = raw.get("history")
        if history is None and "system" not in raw:  # the common record: one turn, nothing else
            # tuple.__new__ with every field: half the time of Sample(...) with a keyword, and
            # this runs once per record of nearly every Alpaca file
            return tuple.__new__(Sample, (_TURN_ROLES, turn, (None, None), _TURN_PATHS, None, None, data,
                                          None, None, None, None, None))
        roles, contents, paths = _TURN_ROLES, turn, _TURN_PATHS
        if history is not None:  # null is no history; anything else must be pairs of strings
            texts = _clean_history(history)
            if texts is None:
                return None
            roles, contents, paths = _HISTORY_ROLES[:len(texts)] + roles, texts + contents, \
                _HISTORY_PATHS[:len(texts)] + paths
        if "system" in raw:
            system = raw["system"]
            if type(system) is not str:
                return None
            roles, contents, paths = (Role.SYSTEM, *roles), (system, *contents), ("$.system", *paths)
        n = len(roles)
        return Sample(roles, contents, (None,) * n, paths, data=(None,) * (n - 2) + data)

    def read_detailed(self, raw: dict, problems: list[Problem]) -> Sample | None:
        extra = self.extra_keys(raw, problems)
        messages: list[Message] = []
        if "system" in raw:
            messages.append(Message(Role.SYSTEM, require_str(raw, "system", "$", problems), path="$.system"))
        history = raw.get("history")
        if history is not None:
            if type(history) is not list:
                problems.append(Problem(WRONG_TYPE, "$.history",
                                        f"history must be an array of [user, assistant] pairs, got {type_name(history)}"))
            else:
                messages.extend(_read_history(history, problems))
        instruction = require_str(raw, "instruction", "$", problems)
        input_text = require_str(raw, "input", "$", problems, optional=True)
        output = require_str(raw, "output", "$", problems)
        messages.append(Message(Role.USER, join_instruction(instruction, input_text),
                                data=(instruction, input_text), path="$.instruction"))
        messages.append(Message(Role.ASSISTANT, output, path="$.output"))
        return Sample.of(messages, extra=extra)

    def write(self, sample: Sample) -> tuple[dict, list[str]]:
        system, rest, losses = split_system(sample)
        losses += loss_flags_dropped(rest, self.name)
        pairs = pair_turns(self.name, rest, losses)
        losses += unheld_parts(self.name, sample)
        record: dict = {}
        if pairs:
            user, reply = pairs[-1]
            instruction, input_text = _split_user(user)
            record = {"instruction": instruction, "input": input_text, "output": reply.content}
        else:
            record = {"instruction": "", "input": "", "output": ""}
        if system is not None:
            record["system"] = system
        if len(pairs) > 1:
            record["history"] = [[u.content, a.content] for u, a in pairs[:-1]]
        carry_extra(record, sample, self.name, losses)
        return record, losses


_TURN_ROLES = (Role.USER, Role.ASSISTANT)
_TURN_PATHS = ("$.instruction", "$.output")
_HISTORY_ROLES = _TURN_ROLES * 32
_HISTORY_PATHS = tuple(item_path(item_path("$.history", i), j) for i in range(32) for j in (0, 1))


def _clean_history(history: object) -> tuple[str, ...] | None:
    """The texts of a history of [user, assistant] string pairs (32 at most), else None."""
    if type(history) is not list or len(history) > 32:
        return None
    texts: list[str] = []
    for pair in history:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str or type(pair[1]) is not str:
            return None
        texts += pair
    return tuple(texts)


def _read_history(history: list, problems: list[Problem]) -> list[Message]:
    messages = []
    for i, pair in enumerate(history):
        path = item_path("$.history", i)
        if type(pair) is not list or len(pair) != 2:
            problems.append(Problem(WRONG_TYPE, path, "each history entry must be a [user, assistant] pair"))
            continue
        for j, (role, text) in enumerate(zip((Role.USER, Role.ASSISTANT), pair)):
            if type(text) is not str:
                problems.append(Problem(MISSING if text is None else WRONG_TYPE, item_path(path, j),
                                        f"history text must be a string, got {type_name(text)}"))
                text = ""
            messages.append(Message(role, text, path=item_path(path, j)))
    return messages


def _split_user(user: Message) -> tuple[str, str]:
    if isinstance(user.data, tuple) and join_instruction(*user.data) == user.content:
        return user.data
    return user.content, ""


FORMAT = Alpaca()
