"""ShareGPT in LLaMA-Factory's layout: {conversations: [{from, value}], system?, tools?}.

`function_call` values and `tools` are JSON *strings* in this layout. The preference variant
adds `chosen` and `rejected` replies after a prompt conversation that ends with the user.
"""

from __future__ import annotations

from dataforge.formats.base import (
    ARGUMENTS_NOT_STRING,
    BAD_TOOLS,
    WRONG_TYPE,
    Format,
    PlainLayout,
    Problem,
    bare_tools,
    carry_extra,
    dumps,
    item_path,
    loss_flags_dropped,
    not_an_object,
    parse_json_string,
    plain_columns,
    require_list,
    require_str,
    role_field,
    split_system,
    type_name,
    unknown_keys,
)
from dataforge.model import Message, Role, Sample

_MESSAGE_KEYS = frozenset({"from", "value"})
_ROLES = {"human": Role.USER, "gpt": Role.ASSISTANT, "system": Role.SYSTEM,
          "function_call": Role.TOOL_CALL, "observation": Role.OBSERVATION}
_TAGS = {role: tag for tag, role in _ROLES.items()}
# What the column fast path takes: text messages only, and a system prompt; no tools to read.
_PLAIN = PlainLayout("from", "value", {"human": Role.USER, "gpt": Role.ASSISTANT, "observation": Role.OBSERVATION},
                     "$.conversations")
_PLAIN_KEYS = frozenset({"conversations", "system"})
_ALIASES = {"user": "human", "assistant": "gpt", "bot": "gpt", "tool": "observation",
            "function": "function_call", "tool_call": "function_call"}


class ShareGPT(Format):
    name = "sharegpt"
    title = "ShareGPT (LLaMA-Factory): {conversations: [{from, value}], system?, tools?}"
    schema = "sharegpt.schema.json"
    keys = frozenset({"conversations", "system", "tools"})
    alternation = "strict"
    one_observation_per_group = True
    roles = _ROLES
    role_aliases = _ALIASES

    def detect(self, raw: dict) -> bool:
        conv = raw.get("conversations")
        return (type(conv) is list and bool(conv) and type(conv[0]) is dict and "from" in conv[0]
                and "chosen" not in raw and "rejected" not in raw)

    def read_clean(self, raw: dict) -> Sample | None:
        conv = raw.get("conversations")
        if type(conv) is not list or not conv or not raw.keys() <= _PLAIN_KEYS:  # detect() wants a first message
            return None
        columns = plain_columns(conv, _PLAIN)
        if columns is None:
            return None
        if "system" in raw:
            system = raw["system"]
            if type(system) is not str:
                return None
            roles, contents, losses, paths = columns
            columns = (Role.SYSTEM, *roles), (system, *contents), (None, *losses), ("$.system", *paths)
        return Sample(*columns)

    def read_detailed(self, raw: dict, problems: list[Problem]) -> Sample | None:
        extra = self.extra_keys(raw, problems)
        messages: list[Message] = []
        if "system" in raw:
            messages.append(Message(Role.SYSTEM, require_str(raw, "system", "$", problems), path="$.system"))
        conv = require_list(raw, "conversations", "$", problems)
        if conv is None:
            return None
        group = 0  # calls in the parallel group just read, whose results may come as one list
        for i, m in enumerate(conv):
            message = _read_message(self, m, item_path("$.conversations", i), problems)
            if type(message) is list:  # parallel calls: one function_call holding several
                messages.extend(message)
                group = len(message)
                continue
            if message is not None:
                if group > 1 and message.role == Role.OBSERVATION:
                    messages.extend(_split_results(message, group))
                else:
                    messages.append(message)
            group = 0
        return Sample.of(messages, tools=_read_tools(raw, problems), extra=extra)

    def write(self, sample: Sample) -> tuple[dict, list[str]]:
        system, rest, losses = split_system(sample)
        losses += loss_flags_dropped(rest, self.name)
        record: dict = {"conversations": _write_messages(rest, losses)}
        if system is not None:
            record["system"] = system
        tools = bare_tools(sample.tools)
        if tools is not None and tools != [] and tools != "[]":  # an empty list says nothing: left out
            record["tools"] = tools if type(tools) is str else dumps(tools)
        if sample.is_preference:
            losses.append(f"{self.name} holds no chosen/rejected pair; use sharegpt-preference")
        carry_extra(record, sample, self.name, losses)
        return record, losses


class ShareGPTPreference(ShareGPT):
    name = "sharegpt-preference"
    title = "ShareGPT preference: {conversations, chosen: {from, value}, rejected: {from, value}}"
    schema = "sharegpt-preference.schema.json"
    keys = frozenset({"conversations", "system", "tools", "chosen", "rejected"})

    def detect(self, raw: dict) -> bool:
        conv = raw.get("conversations")
        return (type(conv) is list and ("chosen" in raw or "rejected" in raw)
                and (not conv or (type(conv[0]) is dict and "from" in conv[0])))

    def read_clean(self, raw: dict) -> Sample | None:
        return None  # ShareGPT's quick path knows no chosen/rejected pair

    def read_detailed(self, raw: dict, problems: list[Problem]) -> Sample | None:
        sample = super().read_detailed(raw, problems)
        if sample is None:
            return None
        replies = [_read_message(self, raw[k], f"$.{k}", problems) if k in raw else None
                   for k in ("chosen", "rejected")]
        replies = [r[0] if type(r) is list else r for r in replies]  # a reply is one message
        return sample._replace(chosen=replies[0], rejected=replies[1])

    def write(self, sample: Sample) -> tuple[dict, list[str]]:
        record, losses = super().write(sample._replace(chosen=None, rejected=None))
        for key in ("chosen", "rejected"):
            reply = getattr(sample, key)
            if reply is None:
                losses.append(f"sample has no {key} reply")
            else:
                record[key] = _write_message(reply)
        return record, losses


def _read_message(fmt: Format, m: object, path: str, problems: list[Problem]) -> Message | None:
    if type(m) is not dict:
        not_an_object(m, path, problems)
        return None
    unknown_keys(m, _MESSAGE_KEYS, path, problems)
    tag = role_field(m, "from", path, problems)
    if tag is None:
        return None
    role = _ROLES.get(tag) or fmt.role_of(tag, path + ".from", problems)
    if role == Role.TOOL_CALL:
        return _read_function_call(m, path, problems)
    return Message(role, require_str(m, "value", path, problems), path=path)


def _read_function_call(m: dict, path: str, problems: list[Problem]) -> Message | list[Message]:
    """A function_call's value is a JSON string {"name": ..., "arguments": {...}}, or a list of
    such objects for parallel calls (LLaMA-Factory's function formatter takes either)."""
    value = m.get("value")
    if type(value) is dict:
        problems.append(Problem(ARGUMENTS_NOT_STRING, path + ".value",
                                "function_call value must be a JSON string, got an object"))
        call = value
    elif type(value) is str:
        ok, call = parse_json_string(value)
        if ok and type(call) is list and call and all(type(c) is dict for c in call):
            return [_call_message(c, path) for c in call]
        if not ok or type(call) is not dict:
            problems.append(Problem(BAD_TOOLS, path + ".value",
                                    "function_call value is not a JSON object {\"name\", \"arguments\"} "
                                    "(or a list of them, for parallel calls)"))
            return Message(Role.TOOL_CALL, value, path=path)
    else:
        require_str(m, "value", path, problems)
        return Message(Role.TOOL_CALL, "", path=path)
    return _call_message(call, path)


def _call_message(call: dict, path: str) -> Message:
    name = call.get("name")
    return Message(Role.TOOL_CALL, "", None, name if type(name) is str else None, call.get("arguments"), path=path)


def _read_tools(raw: dict, problems: list[Problem]):
    if "tools" not in raw:
        return None
    tools = raw["tools"]
    if type(tools) is str:
        ok, parsed = parse_json_string(tools)
        if not ok:
            problems.append(Problem(BAD_TOOLS, "$.tools", "tools is not valid JSON"))
            return None
        return parsed
    problems.append(Problem(WRONG_TYPE, "$.tools",
                            f"tools must be a JSON string in this format, got {type_name(tools)}"))
    return tools


def _split_results(observation: Message, calls: int) -> list[Message]:
    """The observation after n parallel calls: a JSON list of n results is one result per call
    (how dataforge writes them, below); anything else answers the whole group."""
    ok, results = parse_json_string(observation.content)
    if not ok or type(results) is not list or len(results) != calls:
        return [observation]
    return [observation._replace(content=r if type(r) is str else dumps(r), data=None) for r in results]


def _write_messages(messages: list[Message], losses: list[str]) -> list[dict]:
    """Messages in LLaMA-Factory's order: parallel calls as one function_call holding a JSON list
    of calls, and their results as one observation holding a JSON list of results, so that calls
    and results still alternate with the other turns (LLaMA-Factory skips records that do not)."""
    out: list[dict] = []
    i = 0
    while i < len(messages):
        m = messages[i]
        if m.role != Role.TOOL_CALL:
            out.append(_write_message(m))
            i += 1
            continue
        calls = [m]
        while i + len(calls) < len(messages) and messages[i + len(calls)].role == Role.TOOL_CALL:
            calls.append(messages[i + len(calls)])
        i += len(calls)
        if len(calls) == 1:
            out.append(_write_message(m))
            continue
        out.append({"from": "function_call",
                    "value": dumps([{"name": c.name, "arguments": c.arguments} for c in calls])})
        results = []
        while i < len(messages) and messages[i].role == Role.OBSERVATION:
            results.append(messages[i])
            i += 1
        if len(results) == 1:
            out.append(_write_message(results[0]))
        elif results:
            out.append({"from": "observation", "value": dumps([r.content for r in results])})
            if len(results) != len(calls):
                losses.append(f"{len(calls)} parallel calls at {calls[0].path} have {len(results)} results; "
                              "they were written as one observation")
    return out


def _write_message(m: Message) -> dict:
    if m.role == Role.TOOL_CALL:
        return {"from": "function_call", "value": dumps({"name": m.name, "arguments": m.arguments})}
    return {"from": _TAGS.get(m.role, m.role), "value": m.content}


FORMAT = ShareGPT()
PREFERENCE = ShareGPTPreference()
