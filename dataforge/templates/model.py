"""The Template value: a model family's conversation layout, described as data.

Formats are plain strings with placeholders, replaced literally (not with str.format, so that
JSON braces need no escaping): ``{content}`` the message text, ``{eos}``/``{bos}`` the tokenizer's
end/begin-of-sequence tokens, and in tool calls ``{name}``, ``{arguments}`` (JSON), ``{call}``
(``{"name": ..., "arguments": ...}``) and ``{kwargs}`` (Python keyword arguments, as ChatGLM3
writes calls). ``{break}`` renders nothing; in a template whose reference encodes in pieces it
ends one piece (see ``pieces``). Everything outside ``{content}`` is scaffolding and never
trained, except inside a reply's body; the assistant's end of turn is trained unless the user
says not.

How a template is encoded (masking does it; see dataforge.masking.encode): the rendered text is
tokenized whole, as an inference server tokenizes the same layout, with the template's markers
and EOS/BOS as their single token ids; labels follow the characters each token covers. A
template with ``pieces`` set follows a reference that tokenizes each marker, each message text
and each ``{break}``-separated part on its own instead.
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
    #: the code or documentation this layout follows, and what dataforge does differently on purpose
    reference: str = ""
    departures: tuple[str, ...] = ()
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
    #: Qwen: a reply and the tool calls after it form one turn, joined by this text (trained with
    #: the reply); None: each reply-side message is a turn of its own
    reply_joiner: str | None = None
    observation: str = "Observation: {content}\n"
    #: Qwen: (opening, closing) around a run of consecutive observations, which form one turn
    observation_group: tuple[str, str] | None = None
    #: how tool definitions join the system prompt; {tools} is their JSON
    tools: str = "You have access to the following tools:\n{tools}"
    #: "indented": the list as JSON with an indent of 4 (ChatGLM3); "lines": one compact JSON
    #: object per line (Qwen2.5)
    tools_json: str = "indented"
    #: the tools text comes after the system text (Qwen2.5) instead of before it
    tools_after_system: bool = False
    prefix: str = ""
    suffix: str = ""
    #: ChatGLM3 and Baichuan2 have no end-of-turn token: the next marker (or the final EOS) ends a
    #: reply, and is trained as its end
    end_of_turn_is_next: bool = False
    #: the label that end token gets instead of its own id (Baichuan2 teaches EOS there); "" keeps it
    end_of_turn_label: str = ""
    #: the reference tokenizes each marker, message text and {break}-separated part on its own
    pieces: bool = False
    #: message text is stripped of surrounding whitespace (Llama-3's template trims it)
    trim: bool = False
    #: roles this template never trains, whatever a message's `loss` flag says (lint: M007)
    never_trained: frozenset[str] = frozenset()
    #: markers the template relies on: each should be one token, and none may appear in content
    control_tokens: tuple[str, ...] = ()
