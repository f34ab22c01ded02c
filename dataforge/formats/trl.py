"""What TRL's layouts share: a prompt or a reply is a string (standard) or a list of
{role, content} messages (conversational)."""

from __future__ import annotations

from typing import Any

from dataforge.formats.base import Format, Problem, item_path, require_str
from dataforge.model import Message, Role, Sample

_MESSAGE_KEYS = frozenset({"role", "content"})
ROLES = {"system": Role.SYSTEM, "user": Role.USER, "assistant": Role.ASSISTANT}


def read_turns(fmt: Format, raw: dict, key: str, default_role: str, problems: list[Problem],
               required: bool = True) -> list[Message] | None:
    """The messages under ``key``: one message of ``default_role`` for a string, each message
    for a list; None (after reporting) when the field is missing or of another type."""
    value = raw.get(key)
    path = f"$.{key}"
    if type(value) is str:
        return [Message(default_role, value, path=path)]
    if type(value) is list:
        out = []
        for i, m in enumerate(value):
            mpath = item_path(path, i)
            role = fmt.message_role(m, _MESSAGE_KEYS, mpath, problems)
            if role is None:
                continue
            out.append(Message(role, require_str(m, "content", mpath, problems), path=mpath))
        return out
    if key in raw or required:
        require_str(raw, key, "$", problems)  # names the field as missing, or of the wrong type
    return None


def write_turns(messages: list[Message], conversational: bool) -> Any:
    if not conversational and len(messages) == 1:
        return messages[0].content
    return [{"role": m.role, "content": m.content} for m in messages]


def is_conversational(sample: Sample) -> bool:
    """Written as message lists when a string would lose something: several prompt messages."""
    return len(sample.messages) != 1 or sample.messages[0].role != Role.USER
