"""OpenAI chat messages: {messages: [{role, content, tool_calls?, tool_call_id?, weight?}], tools?}.

Seed 001 calls this ShareGPT too. An assistant message's `tool_calls` become one canonical tool
call each; OpenAI's fine-tuning `weight` (0 or 1 on assistant messages) is the `loss` flag. Call
ids are not kept: the writer numbers calls `call_0`, `call_1`, ... and points observations at them.
"""

from __future__ import annotations

from dataforge.formats.base import (
    ARGUMENTS_NOT_OBJECT,
    ARGUMENTS_NOT_STRING,
    MISSING,
    WRONG_TYPE,
    Format,
    PlainLayout,
    Problem,
    carry_extra,
    dumps,
    item_path,
    parse_json_string,
    plain_columns,
    require_list,
    type_name,
)
from dataforge.model import Message, Role, Sample

# What the column fast path takes: text messages without weights, calls or call ids.
_PLAIN = PlainLayout("role", "content", {"system": Role.SYSTEM, "developer": Role.SYSTEM, "user": Role.USER,
                                         "assistant": Role.ASSISTANT}, "$.messages")
_MESSAGE_KEYS = frozenset({"role", "content", "name", "tool_calls", "tool_call_id", "weight"})


class OpenAIMessages(Format):
    name = "openai"
    title = "OpenAI chat messages: {messages: [{role, content, tool_calls?}], tools?}"
    schema = "openai.schema.json"
    keys = frozenset({"messages", "tools", "parallel_tool_calls"})
    loss_key = "weight"
    roles = {"system": Role.SYSTEM, "developer": Role.SYSTEM, "user": Role.USER,
             "assistant": Role.ASSISTANT, "tool": Role.OBSERVATION}
    role_aliases = {"human": "user", "gpt": "assistant", "bot": "assistant", "observation": "tool"}

    def detect(self, raw: dict) -> bool:
        return type(raw.get("messages")) is list

    def read_clean(self, raw: dict) -> Sample | None:
        items = raw.get("messages")
        if type(items) is list and raw.keys() <= self.keys:
            columns = plain_columns(items, _PLAIN)
            if columns is not None:
                return Sample(*columns, tools=raw.get("tools"))
        return None

    def read_detailed(self, raw: dict, problems: list[Problem]) -> Sample | None:
        extra = self.extra_keys(raw, problems)
        items = require_list(raw, "messages", "$", problems)
        if items is None:
            return None
        messages: list[Message] = []
        call_names: dict[str, str] = {}
        for i, m in enumerate(items):
            path = item_path("$.messages", i)
            role = self.message_role(m, _MESSAGE_KEYS, path, problems)
            if role is None:
                continue
            content = _read_content(m, path, problems, nullable=role == Role.ASSISTANT and "tool_calls" in m)
            loss = _read_weight(m, path, problems)
            if role == Role.OBSERVATION:
                call_id = m.get("tool_call_id")
                if call_id is not None and type(call_id) is not str:
                    problems.append(Problem(WRONG_TYPE, path + ".tool_call_id",
                                            f"tool_call_id must be a string, got {type_name(call_id)}"))
                    call_id = None
                name = m.get("name")
                if name is not None and type(name) is not str:
                    problems.append(Problem(WRONG_TYPE, path + ".name", f"name must be a string, got {type_name(name)}"))
                    name = None
                name = name or call_names.get(call_id)
                messages.append(Message(role, content, None, name, path=path))
                continue
            if role != Role.ASSISTANT or content or "tool_calls" not in m:
                parts = m["content"] if type(m.get("content")) is list else None  # kept for writing back
                messages.append(Message(role, content, loss, data=parts, path=path))
            if role == Role.ASSISTANT and "tool_calls" in m:
                messages.extend(_read_tool_calls(m["tool_calls"], path, loss, call_names, problems))
        if "parallel_tool_calls" in raw:  # kept for a conversion back to openai (see FORMAT_OWNED)
            extra = {**(extra or {}), "parallel_tool_calls": raw["parallel_tool_calls"]}
        return Sample.of(messages, tools=raw.get("tools"), extra=extra)

    def write(self, sample: Sample) -> tuple[dict, list[str]]:
        losses: list[str] = []
        out: list[dict] = []
        call_ids: list[tuple[str | None, str]] = []  # (tool name, id) of calls awaiting a result
        n_calls = 0
        for m in sample.messages:
            if m.role == Role.TOOL_CALL:
                call_id = f"call_{n_calls}"
                n_calls += 1
                call_ids.append((m.name, call_id))
                arguments = m.arguments if type(m.arguments) is str else dumps(m.arguments)
                call = {"id": call_id, "type": "function", "function": {"name": m.name, "arguments": arguments}}
                last = out[-1] if out else None
                if last is not None and last["role"] == "assistant" and (
                        "tool_calls" in last or m.loss is None):
                    last.setdefault("tool_calls", []).append(call)
                else:
                    out.append({"role": "assistant", "content": None, "tool_calls": [call]})
                    if m.loss is not None:
                        out[-1]["weight"] = int(bool(m.loss))
            elif m.role == Role.OBSERVATION:
                index = next((k for k, (name, _) in enumerate(call_ids) if name == m.name), 0)
                if not call_ids:
                    losses.append(f"observation at {m.path} follows no tool call; written without an id")
                    out.append({"role": "tool", "content": m.content})
                    continue
                _, call_id = call_ids.pop(index)
                out.append({"role": "tool", "tool_call_id": call_id, "content": m.content})
            else:
                msg: dict = {"role": m.role, "content": m.data if type(m.data) is list else m.content}
                if m.loss is not None:
                    if m.role == Role.ASSISTANT:
                        msg["weight"] = int(bool(m.loss))
                    elif m.loss is not False:
                        losses.append(f"openai has weights on assistant messages only; {m.path} had loss={m.loss!r}")
                out.append(msg)
        if sample.is_preference:
            losses.append("openai holds no chosen/rejected pair; only the prompt was written")
        record: dict = {"messages": out}
        tools = _wrapped_tools(sample.tools, losses)
        if tools:  # an empty list is left out, as OpenAI's own examples do
            record["tools"] = tools
        carry_extra(record, sample, self.name, losses)
        return record, losses


def _wrapped_tools(tools, losses: list[str]) -> list | None:
    """Tool definitions in OpenAI's wrapper, {"type": "function", "function": {name, ...}}: other
    formats list the function objects bare, ShareGPT as a JSON string."""
    if tools is None:
        return None
    if type(tools) is str:
        ok, parsed = parse_json_string(tools)
        if not ok:
            losses.append("tools is not valid JSON and was dropped")
            return None
        tools = parsed
    if type(tools) is not list or not all(type(t) is dict for t in tools):
        losses.append("openai takes tool definitions as a list of objects; these were dropped")
        return None
    return [t if t.get("type") == "function" and type(t.get("function")) is dict else {"type": "function", "function": t}
            for t in tools]


# Content parts that carry no training text: images, audio and files beside a prompt. OpenAI
# names them image_url, input_audio, file; LLaMA-Factory's multimodal data image, video, audio.
_MEDIA_PARTS = frozenset({"image_url", "input_audio", "file", "image", "video", "audio"})


def _read_content(m: dict, path: str, problems: list[Problem], nullable: bool) -> str:
    content = m.get("content")
    if type(content) is str:
        return content
    if content is None:
        if not nullable:
            problems.append(Problem(MISSING if "content" not in m else WRONG_TYPE, path + ".content",
                                    "message has no content" if "content" not in m else "content is null"))
        return ""
    if type(content) is list:
        return _read_parts(content, path + ".content", m.get("role") == Role.ASSISTANT, problems)
    problems.append(Problem(WRONG_TYPE, path + ".content", f"content must be a string, got {type_name(content)}"))
    return ""


def _read_parts(parts: list, path: str, reply: bool, problems: list[Problem]) -> str:
    """The text of content parts: OpenAI's {"type": "text", "text"} and LLaMA-Factory's
    {"type": "text", "value"}. Media parts beside a prompt are fine (they are not trained); in a
    reply they cannot be trained on, and are reported."""
    texts = []
    for k, part in enumerate(parts):
        kind = part.get("type") if type(part) is dict else None
        if kind == "text":
            text = part.get("text", part.get("value"))
            if type(text) is str:
                texts.append(text)
                continue
        elif kind in _MEDIA_PARTS and not reply:
            continue
        problems.append(Problem(WRONG_TYPE, item_path(path, k),
                                "only text content parts can be trained on" if reply and kind in _MEDIA_PARTS
                                else "a content part is {\"type\": \"text\", \"text\": ...} or a media part"))
    return "".join(texts)


def _read_weight(m: dict, path: str, problems: list[Problem]):
    if "weight" not in m:
        return None
    weight = m["weight"]
    # 0 and 1 are the documented values; anything else is passed on as found so that the loss
    # rules report it with the same code as a non-boolean `loss` elsewhere.
    return bool(weight) if type(weight) is int and weight in (0, 1) else weight


def _read_tool_calls(calls: object, path: str, loss, call_names: dict, problems: list[Problem]) -> list[Message]:
    if type(calls) is not list:
        problems.append(Problem(WRONG_TYPE, path + ".tool_calls", f"tool_calls must be an array, got {type_name(calls)}"))
        return []
    out = []
    for k, call in enumerate(calls):
        cpath = item_path(path + ".tool_calls", k)
        function = call.get("function") if type(call) is dict else None
        if type(function) is not dict:
            problems.append(Problem(MISSING if function is None else WRONG_TYPE, cpath + ".function",
                                    "tool call has no function object"))
            continue
        name = function.get("name") if type(function.get("name")) is str else None
        arguments = function.get("arguments")
        if type(arguments) is str:
            ok, parsed = parse_json_string(arguments)
            if ok and type(parsed) is dict:
                arguments = parsed
            else:
                problems.append(Problem(ARGUMENTS_NOT_OBJECT, cpath + ".function.arguments",
                                        "arguments must be a JSON string holding an object"))
        elif arguments is not None:
            problems.append(Problem(ARGUMENTS_NOT_STRING, cpath + ".function.arguments",
                                    f"arguments must be a JSON string, got {type_name(arguments)}"))
        if name is not None and type(call.get("id")) is str:
            call_names[call["id"]] = name
        out.append(Message(Role.TOOL_CALL, "", loss, name, arguments, path=cpath))
    return out


FORMAT = OpenAIMessages()
