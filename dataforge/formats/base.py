"""The contract of a format adapter, and the helpers adapters share to report what they meet.

An adapter reads one raw record (already parsed JSON) into a Sample and writes a Sample back.
While reading it reports what only the format knows as ``Problem`` values carrying lint rule
codes: S codes for the record's shape, R001/R010 for role names outside the format's
vocabulary, T codes for tool payloads a format stores in its own way. lint owns those rules'
severity and documentation; adapters only say what they saw and where.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

import orjson

from dataforge.model import Message, Sample, jsonpath
from dataforge.speedups import compiled

_EXTRA = Sample._fields.index("extra")


@lru_cache(maxsize=1024)
def _top_path(key: str) -> str:
    return jsonpath("$", key)  # the same few keys repeat on every record

# The codes adapters may report (lint/rules/shape.py and tools.py document them).
MISSING = "S004"
WRONG_TYPE = "S005"
UNKNOWN_KEY = "S006"
BAD_TOOLS = "T001"
ARGUMENTS_NOT_OBJECT = "T004"
ARGUMENTS_NOT_STRING = "T007"
UNKNOWN_ROLE = "R001"
#: where a generated record came from; every format keeps it, trainers ignore it
PROVENANCE = "provenance"
#: Keys any record may carry for its keeper's bookkeeping, which trainers ignore: dataforge's
#: `provenance`, and the `id` that FastChat's ShareGPT files and many others give each record.
#: They are kept (in Sample.extra, written back on conversion) and never reported as unknown;
#: the shipped schemas accept them too.
BOOKKEEPING = frozenset({PROVENANCE, "id", "label", "images", "videos", "audios"})
#: KTO's unpaired preference (TRL's and LLaMA-Factory's kto_tag): a boolean `label` per record,
#: true for a desirable reply, false for one to learn away from. Carried like bookkeeping, but it
#: must be a boolean, and convert keeps it, so no undesirable reply becomes a plain SFT target.
LABEL = "label"
#: Multimodal records (LLaMA-Factory's mllm data, TRL's vision sets): lists of media files, one
#: per placeholder (<image>, <video>, <audio>) in the messages' text. Carried like bookkeeping;
#: the count is checked (S008).
MEDIA = {"images": "<image>", "videos": "<video>", "audios": "<audio>"}
ROLE_ALIAS = "R010"


class Problem(NamedTuple):
    code: str
    path: str
    message: str


_TYPE_NAMES = {str: "a string", list: "an array", dict: "an object", bool: "a boolean",
               int: "a number", float: "a number", type(None): "null"}


def type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


@lru_cache(maxsize=4096)
def item_path(parent: str, index: int) -> str:
    """JSONPaths of array items, cached: the same few hundred are built for every record."""
    return f"{parent}[{index}]"


class Format:
    """One on-disk layout. Subclasses set the class attributes and implement detect, read_detailed
    and write (and read_clean where a quick path pays)."""

    name: str  # what users type after --format / --to
    title: str  # one line for `dataforge formats`
    schema: str  # file name under schemas/
    #: top-level keys the format defines; others are kept in Sample.extra and reported as unknown
    keys: frozenset[str]
    #: "strict": replies and prompts must alternate (LLaMA-Factory); "loose": only repeats are odd
    alternation: str = "loose"
    #: this format's role names -> canonical roles
    roles: dict[str, str] = {}
    #: a role spelt in another format's vocabulary -> this format's spelling (fixed by --fix)
    role_aliases: dict[str, str] = {}
    #: `tools` may be any JSON value (ChatGLM3 puts it into the system prompt as it is); else it
    #: is a list of tool definitions, each with a name
    tools_any_json: bool = False
    #: a tool call carries its own result (ChatGLM3's `tool` message holds `observation`), so a
    #: conversation cannot end on a call waiting for one
    call_carries_observation: bool = False
    #: one observation message answers every call of a parallel group (LLaMA-Factory); else each
    #: call has its own result message (OpenAI's tool_call_id)
    one_observation_per_group: bool = False
    #: the key of per-message trained flags in this format (`loss`; OpenAI's `weight`)
    loss_key: str = "loss"
    #: holds conversations (roles to mask by); pre-training text does not, and is not judged by the
    #: conversation rules
    conversational: bool = True

    def detect(self, raw: dict) -> bool:
        """Cheap test whether a record looks like this format (key names only, no validation)."""
        raise NotImplementedError

    def read(self, raw: dict, problems: list[Problem]) -> Sample | None:
        """Build the Sample, appending any shape problem; None when nothing usable remains."""
        sample = self.read_quick(raw)
        return sample if sample is not None else self.read_detailed(raw, problems)

    def read_quick(self, raw: dict, problems: list[Problem] | None = None) -> Sample | None:
        """``read_clean``, also for a record with keys beyond the format's: bookkeeping keys, and,
        when ``problems`` is given, unknown keys (each reported, S006). Both are kept in extra.

        A file with an extra key on every record (FastChat's `id`, a source column) would
        otherwise take the detailed reader for every record, at many times the cost."""
        keys = self.keys
        if raw.keys() <= keys:
            return self.read_clean(raw)
        extra = {k: v for k, v in raw.items() if k not in keys}
        if type(extra.get(LABEL, True)) is not bool:
            return None
        unknown = [k for k in extra if k not in BOOKKEEPING]
        if unknown and problems is None:
            return None
        sample = self.read_clean({k: v for k, v in raw.items() if k in keys})
        if sample is None:
            return None
        for key in unknown:
            problems.append(Problem(UNKNOWN_KEY, _top_path(key), f"unknown key {key!r} for format {self.name}"))
        # tuple.__new__ rather than _replace (a Python-level call): this runs once per record of
        # a file with an extra key on every record
        return tuple.__new__(Sample, (*sample[:_EXTRA], extra, *sample[_EXTRA + 1:]))

    def read_clean(self, raw: dict) -> Sample | None:
        """The Sample of a record that is plainly this format with nothing to report, else None.

        The quick path for bulk readers such as lint: a Sample here promises that ``detect``
        says yes and ``read_detailed`` gives this Sample with no problem (tests hold formats to
        it); None promises nothing, so ask ``read_detailed``. Formats without a quick path
        return None.
        """
        return None

    def read_detailed(self, raw: dict, problems: list[Problem]) -> Sample | None:
        """``read`` the long way, naming every problem; what each format implements."""
        raise NotImplementedError

    def write(self, sample: Sample) -> tuple[dict, list[str]]:
        """The record for ``sample``, and a sentence for each part this format cannot hold."""
        raise NotImplementedError

    # Helpers for subclasses -------------------------------------------------------------------

    def message_role(self, m: object, allowed: frozenset[str], path: str, problems: list[Problem]) -> str | None:
        """The canonical role of message ``m`` at ``path`` (an object of ``allowed`` keys with its
        role under "role"), reporting what is wrong: not an object, unknown keys, a role missing,
        of the wrong type or unknown. None: the message has no role to be read by."""
        if type(m) is not dict:
            not_an_object(m, path, problems)
            return None
        unknown_keys(m, allowed, path, problems)
        name = role_field(m, "role", path, problems)
        return None if name is None else self.role_of(name, path + ".role", problems)

    def role_of(self, name: str, path: str, problems: list[Problem]) -> str:
        """The canonical role for a role name found at ``path`` (the role field's path).

        A name from another format's vocabulary (R010) is understood as what it stands for, so
        the order rules can still judge the conversation; a name nobody knows (R001) is kept.
        """
        role = self.roles.get(name)
        if role is not None:
            return role
        alias = self.role_aliases.get(name)
        if alias is not None:
            problems.append(Problem(ROLE_ALIAS, path, f"role {name!r} means {alias!r} in {self.name}"))
            return self.roles[alias]
        problems.append(Problem(UNKNOWN_ROLE, path, f"unknown role {name!r} for format {self.name}"
                                f" (its roles: {', '.join(self.roles)})"))
        return name

    def extra_keys(self, raw: dict, problems: list[Problem]) -> dict | None:
        """Top-level keys the format does not define: kept, and reported once each (except the
        BOOKKEEPING keys, which every format carries along untrained)."""
        if raw.keys() <= self.keys:
            return None
        extra = {k: v for k, v in raw.items() if k not in self.keys}
        if LABEL in extra and type(extra[LABEL]) is not bool:
            problems.append(Problem(WRONG_TYPE, "$.label", f"a KTO label must be true or false, got "
                                                           f"{type_name(extra[LABEL])}"))
        for key in extra:
            if key not in BOOKKEEPING:
                problems.append(Problem(UNKNOWN_KEY, jsonpath("$", key),
                                        f"unknown key {key!r} for format {self.name}"))
        return extra


_STR = repeat(str)  # endless; lets all(map(isinstance, values, _STR)) test types in C
_FLAG_TYPES = frozenset({bool, type(None)})


class PlainLayout:
    """How a conversation format writes a plain text message, for ``plain_columns``.

    Plain means exactly a role key and a content key (and, where the format has one, a boolean
    `loss`), a role in ``roles``, and string content.
    """

    max_messages = 64  # longer conversations are rare; the detailed reader takes them

    def __init__(self, role_key: str, content_key: str, roles: dict[str, str], parent: str,
                 loss_key: str | None = None):
        self.role_key, self.content_key, self.loss_key = role_key, content_key, loss_key
        self.role = itemgetter(role_key)
        self.content = itemgetter(content_key)
        self.loss = repeat(loss_key) if loss_key else None  # map(dict.get, messages, loss) in C
        self.roles = roles
        self.paths = tuple(f"{parent}[{i}]" for i in range(self.max_messages))


def plain_columns(messages: list, layout: PlainLayout):
    """(roles, contents, losses, paths) when every message is a plain text message, else None.

    This is the common case, taken without a Python loop per message: by the compiled speedups
    when they are built, else by ``_plain_columns_py``. Anything else (a tool message, a wrong
    type, an unknown key or role, a very long conversation) returns None, and the adapter's
    detailed reader, which reports problems, takes over.
    """
    columns = _columns(messages, layout.role_key, layout.content_key, layout.loss_key, layout.roles,
                       layout.max_messages) if _columns else _plain_columns_py(messages, layout)
    if columns is None:
        return None
    return (*columns, layout.paths[:len(messages)])


def _plain_columns_py(messages: list, layout: PlainLayout):
    """(roles, contents, losses) of plain messages, or None: C-level operations over the whole list."""
    n = len(messages)
    if n > layout.max_messages:
        return None
    try:
        names = tuple(map(layout.role, messages))
        contents = tuple(map(layout.content, messages))
        keys = sum(map(len, messages))
    except (KeyError, TypeError, IndexError):
        return None
    if layout.loss is None:
        losses = (None,) * n
    else:
        losses = tuple(map(dict.get, messages, layout.loss))
        flagged = n - losses.count(None)
        # a flag must be a boolean here (1 == True, so count() cannot tell); others are reported
        if flagged and not {type(flag) for flag in losses} <= _FLAG_TYPES:
            return None
        keys -= flagged
    # Counting keys proves there is no unknown one: two keys per message besides its loss flag.
    # Role names are checked to be strings before they are looked up (an object is unhashable).
    if keys != 2 * n or not all(map(isinstance, names, _STR)) or not all(map(layout.roles.__contains__, names)) \
            or not all(map(isinstance, contents, _STR)):
        return None
    return tuple(map(layout.roles.__getitem__, names)), contents, losses


_columns = compiled.plain_columns if compiled is not None else None


def require_str(obj: dict, key: str, path: str, problems: list[Problem],
                optional: bool = False) -> str:
    """The string at ``obj[key]``, or "" after reporting it missing or of the wrong type."""
    value = obj.get(key)
    if type(value) is str:
        return value
    if value is None:
        if key not in obj and not optional:
            problems.append(Problem(MISSING, jsonpath(path, key), f"missing required field {key!r}"))
        elif key in obj:
            problems.append(Problem(WRONG_TYPE, jsonpath(path, key),
                                    f"{key!r} must be a string, got null"))
        return ""
    problems.append(Problem(WRONG_TYPE, jsonpath(path, key),
                            f"{key!r} must be a string, got {type_name(value)}"))
    return ""


def require_list(obj: dict, key: str, path: str, problems: list[Problem]) -> list | None:
    value = obj.get(key)
    if type(value) is list:
        return value
    if key not in obj:
        problems.append(Problem(MISSING, jsonpath(path, key), f"missing required field {key!r}"))
    else:
        problems.append(Problem(WRONG_TYPE, jsonpath(path, key),
                                f"{key!r} must be an array, got {type_name(value)}"))
    return None


def unknown_keys(obj: dict, allowed: frozenset[str], path: str, problems: list[Problem]) -> None:
    if obj.keys() <= allowed:
        return
    for key in obj:
        if key not in allowed:
            problems.append(Problem(UNKNOWN_KEY, jsonpath(path, key), f"unknown key {key!r}"))


def not_an_object(value: Any, path: str, problems: list[Problem]) -> None:
    problems.append(Problem(WRONG_TYPE, path, f"expected an object, got {type_name(value)}"))


def parse_json_string(text: str) -> tuple[bool, Any]:
    """(True, value) when ``text`` holds JSON; formats store tools and arguments that way."""
    try:
        return True, orjson.loads(text)
    except orjson.JSONDecodeError:
        return False, None


def _json_writer() -> Callable[[Any], str]:
    """``json.dumps(value, ensure_ascii=False)``, three times faster on small values.

    Observations that are objects are rendered once per record read, so this is on lint's hot
    path: json.dumps builds a JSONEncoder (in Python) on every call with a keyword argument, and
    JSONEncoder.encode builds a C encoder on every call. This builds the C encoder once, with
    the settings json.dumps uses, minus the circular-reference check (values that come from
    parsing JSON cannot be circular; a circular one raises RecursionError instead).
    """
    from json.encoder import c_make_encoder, encode_basestring

    if c_make_encoder is None:  # a Python built without the _json accelerator
        return json.JSONEncoder(ensure_ascii=False).encode

    def refuse(value: Any) -> Any:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    encode = c_make_encoder(None, refuse, encode_basestring, None, ": ", ", ", False, False, True)
    join = "".join
    return lambda value: join(encode(value, 0))


#: JSON text as the formats' reference tools write it: ``json.dumps(value, ensure_ascii=False)``
#: (ChatGLM3's demo writes a non-string observation that way), so tool arguments and observations
#: round-trip byte for byte.
dumps: Callable[[Any], str] = _json_writer()


def observation_text(payload: Any) -> str:
    """Observations that are not strings are shown as JSON, as ChatGLM3's demo feeds them to the model."""
    return payload if type(payload) is str else dumps(payload)


def split_system(sample: Sample) -> tuple[str | None, list[Message], list[str]]:
    """A leading system message apart from the rest, for formats that store it in its own field.

    A system message anywhere else cannot be held by such a format: that is reported.
    """
    messages = list(sample.messages)
    system = None
    losses: list[str] = []
    if messages and messages[0].role == "system":
        system = messages.pop(0).content
    rest = []
    for m in messages:
        if m.role == "system":
            losses.append(f"system message at {m.path} is not at the start and was dropped")
        else:
            rest.append(m)
    return system, rest, losses


def role_field(message: dict, key: str, path: str, problems: list[Problem]) -> str | None:
    """The role name stored under ``key`` ("role", "from"), or None after reporting why not."""
    name = message.get(key)
    if type(name) is str:
        return name
    problems.append(Problem(MISSING if name is None else WRONG_TYPE, f"{path}.{key}",
                            f"message has no {key!r}" if name is None else
                            f"{key!r} must be a string, got {type_name(name)}"))
    return None


def pair_turns(fmt: str, messages: list[Message], losses: list[str]) -> list[tuple[Message, Message]]:
    """(user, assistant) pairs, for formats that hold nothing else; what is left over is a loss."""
    pairs: list[tuple[Message, Message]] = []
    pending: Message | None = None
    for m in messages:
        if m.role == "user" and pending is None:
            pending = m
        elif m.role == "assistant" and pending is not None:
            pairs.append((pending, m))
            pending = None
        else:
            losses.append(f"{fmt} holds user/assistant pairs only; {m.path} ({m.role}) was dropped")
    if pending is not None:
        losses.append(f"user turn at {pending.path} has no answer and was dropped")
    return pairs


def unheld_parts(fmt: str, sample: Sample, tools: bool = True, preference: bool = True) -> list[str]:
    """Losses for the sample-level parts a format has no place for."""
    losses = []
    if tools and sample.tools is not None:
        losses.append(f"{fmt} holds no tool definitions; tools were dropped")
    if preference and sample.is_preference:
        losses.append(f"{fmt} holds no chosen/rejected pair; only the prompt was written")
    return losses


def bare_tools(tools: Any) -> Any:
    """Tool definitions without OpenAI's {"type": "function", "function": {...}} wrapper, as
    LLaMA-Factory and ChatGLM3 list them; anything else as it is."""
    if type(tools) is list and any(type(t) is dict and t.get("type") == "function" and type(t.get("function")) is dict
                                   for t in tools):
        return [t["function"] if type(t) is dict and t.get("type") == "function" and type(t.get("function")) is dict
                else t for t in tools]
    return tools


#: Keys one format defines that mean nothing to the others: carried in Sample.extra so a
#: conversion back to their format keeps them, written only there.
FORMAT_OWNED = {"parallel_tool_calls": "openai"}


def carry_extra(record: dict, sample: Sample, fmt: str, losses: list[str]) -> None:
    """Write the sample's extra keys into ``record``; a key another format owns is named instead."""
    for key, value in (sample.extra or {}).items():
        owner = FORMAT_OWNED.get(key)
        if owner is not None and owner != fmt:
            losses.append(f"{fmt} has no {key!r} ({owner}'s); it was dropped")
        else:
            record[key] = value


def loss_flags_dropped(messages: list[Message] | tuple[Message, ...], fmt: str) -> list[str]:
    """Formats without per-message loss flags can hold a flag only when it equals the default."""
    return [f"{fmt} has no per-message loss flag; {m.path} ({m.role}) had loss={m.loss!r}"
            for m in messages if m.loss is not None and m.loss != m._replace(loss=None).trained]
