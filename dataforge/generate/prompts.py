"""What the model is asked, and how records are taken out of what it answers."""

from __future__ import annotations

import json
import re

from dataforge.docx_source.chunker import Chunk
from dataforge.formats import get_format
from dataforge.generate.records import language_of
from dataforge.schemas import load_schema

_THINK = re.compile(r"<think>.*?(</think>|$)", re.S)
_FENCE = re.compile(r"```(?:json)?\s*\n?(.*?)```", re.S)
_SPECIAL = re.compile(r'[\[\]{}"\\]')


def records_schema(target: str) -> dict:
    """The reply's JSON Schema: {"records": [...]}, each record in the target format."""
    schema = dict(load_schema(get_format(target).schema))
    for key in ("$schema", "$id", "title", "description"):
        schema.pop(key, None)
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k != "provenance"}
    defs = schema.pop("$defs", {})
    return {"type": "object", "required": ["records"], "additionalProperties": False,
            "properties": {"records": {"type": "array", "minItems": 1, "items": schema}}, "$defs": defs}


def build_messages(chunk: Chunk, target: str, per_chunk: int, turns: int, tools: bool,
                   schema: dict | None = None) -> list[dict]:
    """The request for one chunk; ``schema`` (the reply's, from records_schema) goes in the prompt
    for servers that cannot take it as a response format."""
    zh = language_of(chunk.text) == "zh"
    language = "Chinese (简体中文)" if zh else "English"
    lines = [
        "You write supervised fine-tuning data from an excerpt of a document.",
        f"Target format: {target}",
        f"Write {per_chunk} record(s), each a realistic user request answered only with facts from the excerpt.",
        f"Write in {language}, the language of the excerpt.",
    ]
    if turns > 1 and target != "alpaca":
        lines.append(f"Each record is a conversation of {turns} user turns, each answered by the assistant.")
    if tools and target != "alpaca":
        lines.append("Where a tool would help, declare it in `tools` and show the call and its result.")
    lines.append('Reply with one JSON object and nothing else: {"records": [...]}.')
    if schema is not None:
        lines.append("The reply follows this JSON Schema:\n" + json.dumps(schema, ensure_ascii=False))
    excerpt = f"Document: {chunk.source}\nSection: {chunk.path_text or '(none)'}\n\n{chunk.text}"
    return [{"role": "system", "content": "\n".join(lines)}, {"role": "user", "content": excerpt}]


def reask_messages(messages: list[dict], reply: str, problems: list[str]) -> list[dict]:
    listed = "\n".join(f"- {p}" for p in problems[:20])
    return [*messages, {"role": "assistant", "content": reply},
            {"role": "user", "content": f"These records cannot be used:\n{listed}\n"
                                        'Reply again with the corrected JSON object only: {"records": [...]}.'}]


MAX_DEPTH = 64  # records nest a few levels; deeper is a fault, not data
MAX_CANDIDATES = 256


def extract_records(reply: str) -> list | None:
    """The records in a reply, found tolerantly: reasoning blocks and code fences are stripped, and
    the first JSON value that holds records (an object with "records", or a list of objects) is
    taken. Text such as "see section [1]" is not mistaken for records. None: nothing usable.

    Linear in the reply's length whatever it holds: balanced brackets are found in one pass, and
    only values no deeper than MAX_DEPTH are parsed (a reply of 30,000 unmatched brackets is a
    fault to reject quickly, not a puzzle to solve)."""
    text = _THINK.sub("", reply).strip()
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for candidate in candidates:
        for start, end in _bracketed(candidate)[:MAX_CANDIDATES]:
            try:
                value = json.loads(candidate[start:end])
            except (ValueError, RecursionError):
                continue
            records = value.get("records") if isinstance(value, dict) else value
            if isinstance(records, list) and records and all(isinstance(r, dict) for r in records):
                return records
    return None


def _bracketed(text: str) -> list[tuple[int, int]]:
    """(start, end) of every balanced [...] or {...} no deeper than MAX_DEPTH, outermost first.

    Quotes count only inside brackets, where JSON strings are (prose around the JSON has
    apostrophes and quotation marks of its own)."""
    found: list[tuple[int, int]] = []
    stack: list[list] = []  # [opening index, closing char, deepest nesting below]
    in_string = False
    escaped_at = -1  # the character after a backslash in a string is taken as it is
    for m in _SPECIAL.finditer(text):
        i, c = m.start(), m.group()
        if in_string:
            if i == escaped_at:
                continue
            if c == "\\":
                escaped_at = i + 1
            elif c == '"':
                in_string = False
        elif c == "[" or c == "{":
            stack.append([i, "]" if c == "[" else "}", 0])
        elif c == "]" or c == "}":
            if stack and stack[-1][1] == c:
                start, _, depth = stack.pop()
                if depth < MAX_DEPTH:
                    found.append((start, i + 1))
                if stack:
                    stack[-1][2] = max(stack[-1][2], depth + 1)
            else:
                stack.clear()  # a stray closer: what was open cannot be JSON
        elif c == '"' and stack:
            in_string = True
    found.sort()
    return found
