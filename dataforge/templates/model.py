"""The Template value: a model family's conversation layout, described as data.

Formats are plain strings with placeholders, replaced literally (not with str.format, so that
JSON braces need no escaping): ``{content}`` the message text, ``{eos}``/``{bos}`` the tokenizer's
end/begin-of-sequence tokens, and in tool calls ``{name}``, ``{arguments}`` (JSON) and ``{kwargs}``
(Python keyword arguments, as ChatGLM3 writes calls). Everything outside ``{content}`` is
scaffolding and never trained; the assistant's end of turn is trained unless the user says not.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    user: str
    #: (header, body) of an assistant reply; the body holds {content} and is what gets trained
    assistant: tuple[str, str]
    #: what closes a reply, trained by default so the model learns to stop
    end_of_turn: str = "{eos}"
    #: after the end of turn; never trained
    separator: str = ""
    system: str = "{content}\n\n"
    default_system: str | None = None
    #: Llama-2 puts the system prompt inside the first [INST] instead of a turn of its own
    system_in_first_user: bool = False
    #: Alpaca-style templates lay out an instruction with a separate input differently
    user_with_input: str | None = None
    default_system_with_input: str | None = None
    #: (header, body) of a tool call; None renders a call as an assistant reply whose text is {call}
    tool_call: tuple[str, str] | None = None
    observation: str = "Observation: {content}\n"
    #: how tool definitions join the system prompt; {tools} is their JSON
    tools: str = "You have access to the following tools:\n{tools}"
    prefix: str = ""
    suffix: str = ""
    #: ChatGLM3 has no end-of-turn token: the next role token (or the final EOS) ends a reply
    end_of_turn_is_next: bool = False
    #: markers the template relies on: each should be one token, and none may appear in content
    control_tokens: tuple[str, ...] = ()
