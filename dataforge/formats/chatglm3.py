"""ChatGLM3 multi-turn conversations: roles, optional tools, `tool` messages, `loss` flags.

A `tool` message holds both the call and its result; it becomes two canonical messages (a tool
call, then an observation) that share the message's JSONPath, and the writer joins them again.
"""

from __future__ import annotations

from functools import partial

from dataforge.formats.base import (
    ARGUMENTS_NOT_OBJECT,
    WRONG_TYPE,
    Format,
    PlainLayout,
    Problem,
    bare_tools,
    carry_extra,
    item_path,
    observation_text,
    parse_json_string,
    require_list,
    require_str,
    type_name,
    unknown_keys,
)
from dataforge.model import Message, Role, Sample
from dataforge.speedups import compiled

_TEXT_KEYS = frozenset({"role", "content", "loss"})
_TOOL_KEYS = frozenset({"role", "name", "parameters", "observation", "loss"})
_PLAIN = PlainLayout("role", "content", {"system": Role.SYSTEM, "user": Role.USER, "assistant": Role.ASSISTANT},
                     "$.conversations", loss_key="loss")


class ChatGLM3(Format):
    name = "chatglm3"
    title = "ChatGLM3 conversations: {tools?, conversations: [{role, content, loss?}]}"
    schema = "chatglm3.schema.json"
    keys = frozenset({"conversations", "tools"})
    tools_any_json = True
    call_carries_observation = True
    roles = {"system": Role.SYSTEM, "user": Role.USER, "assistant": Role.ASSISTANT}
    role_aliases = {"human": "user", "gpt": "assistant", "bot": "assistant"}

    def detect(self, raw: dict) -> bool:
        conv = raw.get("conversations")
        return type(conv) is list and (not conv or (type(conv[0]) is dict and "role" in conv[0]))

    def read_clean(self, raw: dict) -> Sample | None:
        conv = raw.get("conversations")
        if type(conv) is list and (len(raw) == 1 or raw.keys() <= self.keys):
            columns = _columns(conv)
            if columns is not None:
                return Sample(*columns, tools=raw.get("tools"))
        return None

    def read_detailed(self, raw: dict, problems: list[Problem]) -> Sample | None:
        extra = self.extra_keys(raw, problems)
        conv = require_list(raw, "conversations", "$", problems)
        if conv is None:
            return None
        messages: list[Message] = []
        for i, m in enumerate(conv):
            messages.extend(self._read_message(m, item_path("$.conversations", i), problems))
        return Sample.of(messages, tools=raw.get("tools"), extra=extra)

    def _read_message(self, m: object, path: str, problems: list[Problem]) -> list[Message]:
        if type(m) is dict and m.get("role") == "tool":
            return _read_tool(m, path, problems)
        role = self.message_role(m, _TEXT_KEYS, path, problems)
        if role is None:
            return []
        return [Message(role, require_str(m, "content", path, problems), m.get("loss"), path=path)]

    def write(self, sample: Sample) -> tuple[dict, list[str]]:
        losses: list[str] = []
        conv: list[dict] = []
        pending: list[Message] = []  # calls waiting for their results: parallel calls pair in order
        for m in sample.messages:
            if pending and m.role not in (Role.OBSERVATION, Role.TOOL_CALL):
                for call in pending:
                    losses.append(f"tool call at {call.path} has no observation; written without one")
                    conv.append(_tool_message(call, None))
                pending = []
            if m.role == Role.TOOL_CALL:
                pending.append(m)
            elif m.role == Role.OBSERVATION:
                if not pending:
                    losses.append(f"observation at {m.path} follows no tool call and was dropped")
                    continue
                conv.append(_tool_message(pending.pop(0), m))
            else:
                msg = {"role": m.role, "content": m.content}
                if m.loss is not None:
                    msg["loss"] = m.loss
                conv.append(msg)
        for call in pending:
            losses.append(f"tool call at {call.path} has no observation; written without one")
            conv.append(_tool_message(call, None))
        if sample.is_preference:
            losses.append("chatglm3 holds no chosen/rejected pair; only the prompt was written")
        record: dict = {}
        tools = bare_tools(sample.tools)
        if type(tools) is str:  # ShareGPT's JSON string: ChatGLM3 lists the definitions themselves
            ok, parsed = parse_json_string(tools)
            tools = parsed if ok else tools
        if tools is not None and tools != []:
            record["tools"] = tools
        record["conversations"] = conv
        carry_extra(record, sample, self.name, losses)
        return record, losses


def _tool_columns_py(conv: list) -> tuple | None:
    """Columns of a conversation of well-formed text and `tool` messages, or None.

    Conversations with tool calls are a common case in ChatGLM3 data, and the detailed reader
    costs five times this per message. Anything it would have to report makes this return
    None, so the detailed reader (the one that reports) decides; a test holds the two equal,
    and another holds this equal to its compiled twin (chatglm3_columns in _speedups.c).
    """
    if len(conv) > len(_PLAIN.paths):
        return None
    roles, contents, losses, names, arguments, data, paths = [], [], [], [], [], [], []
    text_roles = ChatGLM3.roles
    for i, m in enumerate(conv):
        if type(m) is not dict:
            return None
        role, loss = m.get("role"), m.get("loss")
        if "loss" in m and type(loss) is not bool:  # a flag that is there must be a boolean
            return None
        path = _PLAIN.paths[i]
        if role == "tool":
            name, params = m.get("name"), m.get("parameters")
            if not (m.keys() <= _TOOL_KEYS and "observation" in m and type(name) is str and type(params) is dict):
                return None
            payload = m["observation"]
            is_text = type(payload) is str
            roles += (Role.TOOL_CALL, Role.OBSERVATION)
            contents += ("", payload if is_text else observation_text(payload))
            losses += (loss, None)
            names += (name, name)
            arguments += (params, None)
            data += (None, None if is_text else payload)
            paths += (path, path)
        else:
            content = m.get("content")
            if type(role) is not str or role not in text_roles or type(content) is not str \
                    or not m.keys() <= _TEXT_KEYS:
                return None
            roles.append(text_roles[role])
            contents.append(content)
            losses.append(loss)
            names.append(None)
            arguments.append(None)
            data.append(None)
            paths.append(path)
    tools = Role.TOOL_CALL in roles
    return (tuple(roles), tuple(contents), tuple(losses), tuple(paths), tuple(names) if tools else None,
            tuple(arguments) if tools else None, tuple(data) if any(d is not None for d in data) else None)


if compiled is not None:
    # the conversation comes last in the compiled signature, so that a partial can bind the rest
    _columns = partial(compiled.chatglm3_columns, ChatGLM3.roles, _PLAIN.paths, Role.TOOL_CALL, Role.OBSERVATION,
                       observation_text)
else:
    _columns = _tool_columns_py


def _read_tool(m: dict, path: str, problems: list[Problem]) -> list[Message]:
    """A `tool` message: its call (trained by default) and its observation (never trained)."""
    unknown_keys(m, _TOOL_KEYS, path, problems)
    name = m.get("name")
    if name is not None and type(name) is not str:
        problems.append(Problem(WRONG_TYPE, path + ".name", f"name must be a string, got {type_name(name)}"))
        name = None
    arguments = m.get("parameters")
    if "parameters" in m and type(arguments) is not dict:
        problems.append(Problem(ARGUMENTS_NOT_OBJECT, path + ".parameters",
                                f"parameters must be an object, got {type_name(arguments)}"))
    call = Message(Role.TOOL_CALL, "", m.get("loss"), name, arguments, path=path)
    if "observation" not in m:
        return [call]  # the tools rules report the missing observation
    payload = m["observation"]
    text = observation_text(payload)
    return [call, Message(Role.OBSERVATION, text, None, name,
                          data=None if type(payload) is str else payload, path=path)]


def _tool_message(call: Message, observation: Message | None) -> dict:
    msg: dict = {"role": "tool", "name": call.name, "parameters": call.arguments}
    if observation is not None:
        msg["observation"] = observation.data if observation.data is not None else observation.content
    if call.loss is not None:
        msg["loss"] = call.loss
    return msg


FORMAT = ChatGLM3()
