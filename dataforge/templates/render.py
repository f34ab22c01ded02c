"""Render a Sample with a Template into segments: pieces of text, each tied to its message and
marked trained or not. No tokenizer here; encoding the segments is masking's job."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from dataforge.errors import DataforgeError
from dataforge.model import PROMPT_SIDE, REPLY_SIDE, Message, Role, Sample
from dataforge.templates.model import Template

TEMPLATE = -1  # the message index of text the template adds (prefix, default system, EOS ...)
_PLACEHOLDER = re.compile(r"\{(content|instruction|input|eos|bos|name|arguments|call|kwargs)\}")


class Segment(NamedTuple):
    text: str
    message: int  # index into sample.messages, or TEMPLATE
    role: str  # the message's role; "template" for the template's own text
    trained: bool
    kind: str  # prefix, system, header, content, end, separator, suffix


@dataclass(frozen=True)
class MaskOptions:
    """Which tokens are trained, beyond the roles' defaults and the messages' `loss` flags."""

    train_on_prompt: bool = False  # system, user and observation text are trained too
    last_turn_only: bool = False  # only the last reply is trained
    train_end_of_turn: bool = True  # the token(s) closing a reply are trained


class RenderError(DataforgeError):
    """The template cannot lay out this sample (lint reports it as M004)."""


def trained_flags(sample: Sample, options: MaskOptions) -> list[bool]:
    messages = sample.messages
    flags = []
    for m in messages:
        trained = m.trained
        if options.train_on_prompt and m.loss is None and m.role in (Role.SYSTEM, *PROMPT_SIDE):
            trained = True
        flags.append(trained)
    if options.last_turn_only:
        last = max((i for i, m in enumerate(messages) if m.role in REPLY_SIDE), default=None)
        flags = [flag and i == last for i, flag in enumerate(flags)]
    return flags


def render(sample: Sample, template: Template, options: MaskOptions = MaskOptions(),
           eos: str = "", bos: str = "") -> list[Segment]:
    """The segments of ``sample`` laid out by ``template``; ``eos``/``bos`` are the tokenizer's."""
    messages = sample.messages
    flags = trained_flags(sample, options)
    out: list[Segment] = []
    specials = {"eos": eos, "bos": bos}

    def add(text: str, index: int, role: str, trained: bool, kind: str) -> None:
        if text:
            out.append(Segment(text, index, role, trained, kind))

    def fill(fmt: str, values: dict, index: int, role: str, trained: bool, literal_kind: str,
             literal_trained: bool = False) -> None:
        """Literal text as scaffolding (or trained, inside a reply's body), placeholders as content."""
        for literal, key in _parts(fmt):
            if literal:
                add(literal, index, role, literal_trained, literal_kind)
            elif key in specials:
                add(specials[key], index, role, literal_trained, literal_kind)
            else:
                add(values.get(key, ""), index, role, trained, "content")

    system_index = next((i for i, m in enumerate(messages) if m.role == Role.SYSTEM), None)
    system_segments = _system_segments(sample, template, system_index, flags, specials, fill, out)

    fill(template.prefix, {}, TEMPLATE, "template", False, "prefix")
    if not template.system_in_first_user:
        out.extend(system_segments)
        system_segments = []
    for i, m in enumerate(messages):
        trained = flags[i]
        if m.role == Role.SYSTEM:
            if i != system_index:  # a second system message: laid out as one (lint reports it)
                fill(template.system, {"content": m.content}, i, m.role, trained, "header")
            continue
        if m.role == Role.USER:
            fmt, values = template.user, {"content": m.content}
            if template.user_with_input and isinstance(m.data, tuple) and m.data[1]:
                fmt, values = template.user_with_input, {"instruction": m.data[0], "input": m.data[1]}
            if system_segments:  # Llama-2: the system prompt opens the first user turn
                before, _, after = fmt.partition("[INST] ")
                fill(before + "[INST] ", {}, i, m.role, False, "header")
                out.extend(system_segments)
                system_segments = []
                fill(after, values, i, m.role, trained, "header")
            else:
                fill(fmt, values, i, m.role, trained, "header")
        elif m.role == Role.ASSISTANT:
            _reply(template.assistant, {"content": m.content}, i, m, trained, template, options, fill)
        elif m.role == Role.TOOL_CALL:
            header, body = template.assistant
            header_body = template.tool_call or (header, body.replace("{content}", "{call}"))
            _reply(header_body, _call_values(m), i, m, trained, template, options, fill)
        elif m.role == Role.OBSERVATION:
            fill(template.observation, {"content": m.content}, i, m.role, trained, "header")
        else:
            raise RenderError(f"template {template.name} cannot lay out role {m.role!r} (at {m.path})")
    fill(template.suffix, {}, TEMPLATE, "template", False, "suffix")
    return out


@lru_cache(maxsize=512)
def _parts(fmt: str) -> tuple[tuple[str, str], ...]:
    """A format string as (literal, "") and ("", placeholder) parts, parsed once."""
    parts, pos = [], 0
    for m in _PLACEHOLDER.finditer(fmt):
        parts += [(fmt[pos:m.start()], ""), ("", m.group(1))]
        pos = m.end()
    parts.append((fmt[pos:], ""))
    return tuple(p for p in parts if p != ("", ""))


def _system_segments(sample: Sample, template: Template, system_index: int | None, flags: list[bool],
                     specials: dict, fill, out: list[Segment]) -> list[Segment]:
    """The system turn: the sample's system message, tool definitions, or the template's default."""
    messages = sample.messages
    text = messages[system_index].content if system_index is not None else None
    if sample.tools is not None:
        tools = template.tools.replace("{tools}", json.dumps(sample.tools, ensure_ascii=False, indent=4))
        # One system turn, even with both: the reference ChatGLM3 demo would make two (rule T008).
        text = tools if text is None else f"{tools}\n\n{text}"
    index, trained = (system_index, flags[system_index]) if system_index is not None else (TEMPLATE, False)
    if text is None:
        with_input = any(isinstance(m.data, tuple) and m.data[1] for m in messages if m.role == Role.USER)
        text = (template.default_system_with_input if with_input else None) or template.default_system
        if text is None:
            return []
    start = len(out)
    fill(template.system, {"content": text}, index, Role.SYSTEM if index != TEMPLATE else "template", trained, "system")
    segments = out[start:]
    del out[start:]
    return segments


def _reply(header_body: tuple[str, str], values: dict, index: int, m: Message, trained: bool,
           template: Template, options: MaskOptions, fill) -> None:
    header, body = header_body
    fill(header, values, index, m.role, False, "header")
    fill(body, values, index, m.role, trained, "content", literal_trained=trained)
    fill(template.end_of_turn, {}, index, m.role, trained and options.train_end_of_turn, "end",
         literal_trained=trained and options.train_end_of_turn)
    fill(template.separator, {}, index, m.role, False, "separator")


def _call_values(m: Message) -> dict:
    arguments = m.arguments if m.arguments is not None else {}
    if isinstance(arguments, dict):
        kwargs = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
    else:
        kwargs = str(arguments)
    return {"name": m.name or "", "arguments": json.dumps(arguments, ensure_ascii=False), "kwargs": kwargs,
            "call": json.dumps({"name": m.name, "arguments": arguments}, ensure_ascii=False)}
