"""The canonical sample: what every format reads into and writes from.

Message and Sample are NamedTuples rather than frozen dataclasses: lint builds one Sample per
record, and on this project's machines a NamedTuple is built 2.2x faster than a frozen slotted
dataclass. They are immutable all the same; edits go through ``_replace``.
"""

from __future__ import annotations

from collections.abc import Iterable
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


# Who is trained when a message carries no `loss` flag: ChatGLM3's data format trains every role
# but system and user by default.
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
    """One training example, independent of any file layout, stored by column.

    Each message attribute is a tuple with one entry per message (``roles[i]``, ``contents[i]``
    ...); ``messages`` gives them as Message values. Columns let the lint rules judge a whole
    conversation with C-level operations (``"" in contents``, a cached verdict per ``roles``
    tuple), which is what keeps lint inside a few microseconds per record. ``names``,
    ``arguments`` and ``data`` are None when no message carries one.

    System messages are in the columns too, in file order, so rules can say where one stands.
    ``chosen``/``rejected`` are set for preference data, whose messages are the prompt. ``extra``
    keeps top-level keys the format does not define, so nothing is lost on a round trip; ``meta``
    holds provenance (source file, record, generation details).
    """

    roles: tuple[str, ...]
    contents: tuple[str, ...]
    losses: tuple[Any, ...]  # as found: None means the role's default
    paths: tuple[str, ...]
    names: tuple[str | None, ...] | None = None
    arguments: tuple[Any, ...] | None = None
    data: tuple[Any, ...] | None = None
    tools: Any = None  # tool definitions as found: normally a list of objects
    chosen: Message | None = None
    rejected: Message | None = None
    extra: dict | None = None
    meta: dict | None = None

    @classmethod
    def of(cls, messages: Iterable[Message], **fields: Any) -> Sample:
        """A Sample from Message values (and any of the non-column fields)."""
        messages = tuple(messages)
        if not messages:
            return cls((), (), (), (), **fields)
        roles, contents, losses, names, arguments, data, paths = zip(*messages)
        return cls(roles, contents, losses, paths,
                   names if any(n is not None for n in names) else None,
                   arguments if any(a is not None for a in arguments) else None,
                   data if any(d is not None for d in data) else None, **fields)

    @property
    def messages(self) -> tuple[Message, ...]:
        n = len(self.roles)
        none = (None,) * n
        return tuple(map(Message, self.roles, self.contents, self.losses, self.names or none,
                         self.arguments or none, self.data or none, self.paths))

    @property
    def is_preference(self) -> bool:
        return self.chosen is not None or self.rejected is not None



def jsonpath(parent: str, key: str | int) -> str:
    """Extend a JSONPath by a key or an index, quoting keys that are not plain identifiers."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if key.isidentifier():
        return f"{parent}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{parent}['{escaped}']"
