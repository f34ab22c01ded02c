"""The canonical sample: what every format reads into and writes from.

Message and Sample are NamedTuples rather than frozen dataclasses: lint builds one Sample per
record and several Messages each, and on this project's machines a NamedTuple is built 2.2x
faster than a frozen slotted dataclass (the difference is a third of the lint budget per record).
They are immutable all the same; edits go through ``_replace``.
"""

from typing import Any, NamedTuple


class Role:
    """The canonical roles. Plain strings, not a StrEnum: lint hashes and compares roles millions
    of times, and a StrEnum member hashes through a Python-level slot, 6x slower than a str."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL_CALL = "tool_call"  # the assistant calling a tool: name + arguments
    OBSERVATION = "observation"  # what the tool returned
    ALL = (SYSTEM, USER, ASSISTANT, TOOL_CALL, OBSERVATION)


# Who is trained when a message carries no `loss` flag (FORMATS.md section 1).
TRAINED_BY_DEFAULT = frozenset({Role.ASSISTANT, Role.TOOL_CALL})
KNOWN_ROLES = frozenset(Role.ALL)
# The two sides of a conversation: prompts come from the user or a tool, replies from the model.
PROMPT_SIDE = frozenset({Role.USER, Role.OBSERVATION})
REPLY_SIDE = frozenset({Role.ASSISTANT, Role.TOOL_CALL})


class Message(NamedTuple):
    """One turn. ``role`` is one of Role's strings, or the raw string of a role nobody knows.

    ``loss`` is kept exactly as found (lint reports a non-boolean); None means the role's default.
    ``path`` is the message's JSONPath inside its record, e.g. ``$.conversations[3]``.
    """

    role: str
    content: str = ""
    loss: Any = None
    name: str | None = None  # tool name, for tool calls and observations
    arguments: Any = None  # tool-call arguments as found (an object, or a JSON string)
    data: Any = None  # an observation's payload when it was not a string
    path: str = "$"

    @property
    def trained(self) -> bool:
        if type(self.loss) is bool:
            return self.loss
        return self.role in TRAINED_BY_DEFAULT


class Sample(NamedTuple):
    """One training example, independent of any file layout.

    ``messages`` holds system messages too, in file order, so rules can say where a system
    message stands. ``chosen``/``rejected`` are set for preference data, whose ``messages`` are
    the prompt. ``extra`` keeps top-level keys the format does not define, so nothing is lost on
    a round trip; ``meta`` holds provenance (source file, record, generation details).
    """

    messages: tuple[Message, ...]
    tools: Any = None  # tool definitions as found: normally a list of objects
    chosen: Message | None = None
    rejected: Message | None = None
    extra: dict | None = None
    meta: dict | None = None

    @property
    def is_preference(self) -> bool:
        return self.chosen is not None or self.rejected is not None


def item_paths(parent: str, count: int = 64) -> tuple[str, ...]:
    """Precomputed JSONPaths of the first array items, for adapters' hot loops."""
    return tuple(f"{parent}[{i}]" for i in range(count))


def jsonpath(parent: str, key: str | int) -> str:
    """Extend a JSONPath by a key or an index, quoting keys that are not plain identifiers."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if key.isidentifier():
        return f"{parent}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{parent}['{escaped}']"
