"""A sample's canonical content, the bytes duplicates are found by: what a model is trained on,
whatever the layout or format that holds it.

Roles and texts in order, then what a plain text join would lose: tool names and arguments (an
object and the JSON string of that object are the same arguments), tool definitions (with or
without OpenAI's wrapper, parsed when a format stores them as a string), and a preference pair's
replies. Not in it: loss flags, bookkeeping keys (`id`, `provenance`) and where the record sits.
"""

from __future__ import annotations

from typing import Any

import orjson

from dataforge.formats.base import bare_tools, parse_json_string
from dataforge.model import Sample

_SEP = "\x1f"


def content_key(sample: Sample) -> bytes:
    key = _SEP.join(sample.roles) + "\x1e" + _SEP.join(sample.contents)
    if sample.names is not None or sample.arguments is not None or sample.tools is not None \
            or sample.chosen is not None or sample.rejected is not None:
        extra = [sample.names, [_value(a) for a in sample.arguments or ()], _value(bare_tools(_value(sample.tools)))]
        for reply in (sample.chosen, sample.rejected):
            extra.append(None if reply is None else [reply.role, reply.content, reply.name, _value(reply.arguments)])
        key += "\x1d" + _dump(extra)
    return key.encode("utf-8", "surrogatepass")


def _value(value: Any) -> Any:
    """JSON text as the value it holds, so a string and the object it encodes compare equal."""
    if type(value) is str:
        ok, parsed = parse_json_string(value)
        return parsed if ok else value
    return value


def _dump(value: Any) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return repr(value)
