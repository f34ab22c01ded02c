"""Render a Sample with a Template into segments: pieces of text, each tied to its message and
marked trained or not. No tokenizer here; encoding the segments is masking's job.

The segments joined are the text an inference server would tokenize. Markers (the template's
control tokens, EOS and BOS) are segments of their own, so that masking can give them their
single token ids even with tokenizers that do not find them in text; message text is never
searched for markers ("sop" inside "people" stays text).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from dataforge.errors import DataforgeError
from dataforge.model import PROMPT_SIDE, REPLY_SIDE, TRAINED_BY_DEFAULT, Message, Role, Sample
from dataforge.templates.model import Template

TEMPLATE = -1  # the message index of text the template adds (prefix, default system, EOS ...)
_PLACEHOLDER = re.compile(r"\{(content|instruction|input|eos|bos|name|arguments|call|kwargs|break)\}")
_SPECIAL = ("eos", "bos")


class Segment(NamedTuple):
    text: str
    message: int  # index into sample.messages, or TEMPLATE
    role: str  # the message's role; "template" for the template's own text
    trained: bool
    kind: str  # prefix, system, header, content, end, separator, suffix
    marker: bool = False  # a control token of the template, or EOS/BOS
    starts_piece: bool = False  # after a {break}: a template with `pieces` tokenizes it apart


@dataclass(frozen=True)
class MaskOptions:
    """Which tokens are trained, beyond the roles' defaults and the messages' `loss` flags."""

    train_on_prompt: bool = False  # system, user and observation text are trained too
    last_turn_only: bool = False  # only the last reply is trained
    train_end_of_turn: bool = True  # the token(s) closing a reply are trained


class RenderError(DataforgeError):
    """The template cannot lay out this sample (lint reports it as M004)."""


def trained_flags(sample: Sample, options: MaskOptions, template: Template | None = None) -> list[bool]:
    """Per message: is it trained? Its role's default, its `loss` flag unless the template never
    trains the role, then the run's options (which override even the template). Without a
    template (a tokenizer's own chat template), every flag is honoured."""
    roles = sample.roles
    never = template.never_trained if template is not None else frozenset()
    # As Message.trained, unless the template never trains the role
    flags = [role not in never and (loss if type(loss) is bool else role in TRAINED_BY_DEFAULT)
             for role, loss in zip(roles, sample.losses)]
    if options.train_on_prompt:
        flags = [flag or (loss is None and role in (Role.SYSTEM, *PROMPT_SIDE))
                 for flag, role, loss in zip(flags, roles, sample.losses)]
    if options.last_turn_only:
        last = max((i for i, role in enumerate(roles) if role in REPLY_SIDE), default=None)
        flags = [flag and i == last for i, flag in enumerate(flags)]
    return flags


def tool_list(tools: Any) -> Any:
    """The tool definitions to lay out, or None: a JSON string is parsed, and an empty list (as
    `"tools": "[]"` in much ShareGPT data) means no tools, so no tools preamble."""
    if isinstance(tools, str):
        try:
            tools = json.loads(tools)
        except ValueError:
            return tools or None  # laid out as given; lint reports the invalid JSON
    return tools if tools not in (None, [], {}, "") else None


def render(sample: Sample, template: Template, options: MaskOptions = MaskOptions(),
           eos: str = "", bos: str = "") -> list[Segment]:
    """The segments of ``sample`` laid out by ``template``; ``eos``/``bos`` are the tokenizer's."""
    messages = sample.messages
    if template.trim:
        messages = tuple(m._replace(content=m.content.strip()) for m in messages)
    flags = trained_flags(sample, options, template)
    out: list[Segment] = []
    specials = {"eos": eos, "bos": bos}
    markers = template.control_tokens
    pending_break = False

    def fill(fmt: str, values: dict, index: int, role: str, trained: bool, literal_kind: str,
             literal_trained: bool = False) -> None:
        """Literal text as scaffolding (or trained, inside a reply's body), placeholders as content."""
        nonlocal pending_break
        for literal, key in _parts(fmt, markers):
            if key == "break":
                pending_break = True
                continue
            if literal:
                text, kind, seg_trained, marker = literal, literal_kind, literal_trained, literal in markers
            elif key in _SPECIAL:
                text, kind, seg_trained, marker = specials[key], literal_kind, literal_trained, True
            else:
                text, kind, seg_trained, marker = values.get(key, ""), "content", trained, False
            if text:
                out.append(Segment(text, index, role, seg_trained, kind, marker, pending_break))
                pending_break = False

    system_index = next((i for i, m in enumerate(messages) if m.role == Role.SYSTEM), None)
    system_segments = _system_segments(sample, messages, template, system_index, flags, fill, out)

    fill(template.prefix, {}, TEMPLATE, "template", False, "prefix")
    if not template.system_in_first_user:
        out.extend(system_segments)
        system_segments = []
    joiner = template.reply_joiner
    n = len(messages)
    for i, m in enumerate(messages):
        trained = flags[i]
        role = m.role
        before = messages[i - 1].role if i else None
        after = messages[i + 1].role if i + 1 < n else None
        if role == Role.SYSTEM:
            if i != system_index:  # a second system message: laid out as one (lint reports it)
                fill(template.system, {"content": m.content}, i, role, trained, "header")
            continue
        if role == Role.USER:
            fmt, values = template.user, {"content": m.content}
            if template.user_with_input and isinstance(m.data, tuple) and m.data[1]:
                fmt, values = template.user_with_input, {"instruction": m.data[0], "input": m.data[1]}
            if system_segments:  # Llama-2: the system prompt opens the first user turn
                before_text, _, after_text = fmt.partition("[INST] ")
                fill(before_text + "[INST] ", {}, i, role, False, "header")
                out.extend(system_segments)
                system_segments = []
                fill(after_text, values, i, role, trained, "header")
            else:
                fill(fmt, values, i, role, trained, "header")
        elif role in REPLY_SIDE:
            if role == Role.ASSISTANT:
                header, body = template.assistant
                values = {"content": m.content}
                if joiner is not None and not m.content and after == Role.TOOL_CALL:
                    continue  # an empty reply before its tool calls: the calls carry the turn
            else:
                header, body = template.tool_call or (template.assistant[0],
                                                      template.assistant[1].replace("{content}", "{call}"))
                values = call_values(m)
            continued = joiner is not None and before in REPLY_SIDE
            if continued:  # the same turn goes on: no new header
                fill(joiner, {}, i, role, False, "content", literal_trained=trained)
            else:
                fill(header, values, i, role, False, "header")
            fill(body, values, i, role, trained, "content", literal_trained=trained)
            if joiner is None or after not in REPLY_SIDE:
                end_trained = trained and options.train_end_of_turn
                fill(template.end_of_turn, {}, i, role, end_trained, "end", literal_trained=end_trained)
                fill(template.separator, {}, i, role, False, "separator")
        elif role == Role.OBSERVATION:
            group = template.observation_group
            if group and before != Role.OBSERVATION:
                fill(group[0], {}, i, role, False, "header")
            fill(template.observation, {"content": m.content}, i, role, trained, "header")
            if group and after != Role.OBSERVATION:
                fill(group[1], {}, i, role, False, "header")
        else:
            raise RenderError(f"template {template.name} cannot lay out role {role!r} (at {m.path})")
    fill(template.suffix, {}, TEMPLATE, "template", False, "suffix")
    return out


@lru_cache(maxsize=512)
def _parts(fmt: str, markers: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """A format string as (literal, "") and ("", placeholder) parts, parsed once; every marker
    inside a literal is a part of its own."""
    parts, pos = [], 0
    for m in _PLACEHOLDER.finditer(fmt):
        parts += [(literal, "") for literal in _split_markers(fmt[pos:m.start()], markers)]
        parts.append(("", m.group(1)))
        pos = m.end()
    parts += [(literal, "") for literal in _split_markers(fmt[pos:], markers)]
    return tuple(p for p in parts if p != ("", ""))


def _split_markers(text: str, markers: tuple[str, ...]) -> list[str]:
    if not markers or not text:
        return [text]
    pattern = "(" + "|".join(re.escape(m) for m in sorted(markers, key=len, reverse=True)) + ")"
    return [piece for piece in re.split(pattern, text) if piece]


def _system_segments(sample: Sample, messages: tuple[Message, ...], template: Template, system_index: int | None,
                     flags: list[bool], fill, out: list[Segment]) -> list[Segment]:
    """The system turn: the sample's system message, tool definitions, or the template's default."""
    text = messages[system_index].content if system_index is not None else None
    if text is None:
        with_input = any(isinstance(m.data, tuple) and m.data[1] for m in messages if m.role == Role.USER)
        text = (template.default_system_with_input if with_input else None) or template.default_system
    tools = tool_list(sample.tools)
    if tools is not None:
        if template.tools_json == "lines" and isinstance(tools, list):
            listed = "\n".join(json.dumps(tool, ensure_ascii=False) for tool in tools)
        else:
            listed = json.dumps(tools, ensure_ascii=False, indent=4)
        preamble = template.tools.replace("{tools}", listed)
        # One system turn, even with both: the reference ChatGLM3 demo would make two (rule T008).
        if text is None:
            text = preamble
        else:
            text = f"{text}\n\n{preamble}" if template.tools_after_system else f"{preamble}\n\n{text}"
    if text is None:
        return []
    index, trained = (system_index, flags[system_index]) if system_index is not None else (TEMPLATE, False)
    start = len(out)
    fill(template.system, {"content": text}, index, Role.SYSTEM if index != TEMPLATE else "template", trained, "system")
    segments = out[start:]
    del out[start:]
    return segments


def call_values(m: Message) -> dict:
    arguments = m.arguments if m.arguments is not None else {}
    if isinstance(arguments, str):  # OpenAI and ShareGPT give arguments as a JSON string
        try:
            arguments = json.loads(arguments)
        except ValueError:
            pass
    return {"name": m.name if isinstance(m.name, str) else "", "kwargs": python_call_arguments(arguments),
            "parsed": arguments,
            "arguments": json.dumps(arguments, ensure_ascii=False),
            "call": json.dumps({"name": m.name, "arguments": arguments}, ensure_ascii=False)}


def python_call_arguments(arguments: Any) -> str:
    """Keyword arguments as Python source, the way ChatGLM3's demo writes a call: each value a
    constant unparsed by Python's own ast module (so quoting follows Python's rules)."""
    if not isinstance(arguments, dict):
        return str(arguments)
    call = ast.Call(func=ast.Name(id="f"), args=[],
                    keywords=[ast.keyword(arg=str(k), value=ast.Constant(v)) for k, v in arguments.items()])
    return ast.unparse(call)[2:-1]
