"""Strict JSON parsing of one record, and a precise diagnosis when it fails.

Strict means what the formats' consumers expect: no NaN or Infinity, no duplicate keys, at most
MAX_DEPTH levels. jiter is strict on its own. With the compiled speedups, orjson parses (twice
jiter's speed, but it keeps the last of duplicate keys silently) and ``members_match`` then
proves the text held no duplicate key and no deeper nesting; a record that fails either way is
parsed again by jiter, whose answer (a value or an error with its position) is the one returned.
So both paths accept and refuse exactly the same texts; a test holds them equal. The slow
diagnosis only runs on records that already failed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jiter
import orjson

from dataforge.speedups import compiled

_POSITION = re.compile(r" at line (\d+) column (\d+)$")
MAX_DEPTH = 200  # jiter's own recursion limit; deeper input is refused, never a crash


#: Parse one record strictly with jiter; raises ValueError (with "at line L column C") on anything off.
#: A partial rather than a function: it runs once per record, and a Python frame costs 5%.
parse_strict: Callable[[bytes], Any] = partial(jiter.from_json, catch_duplicate_keys=True, allow_inf_nan=False,
                                               cache_mode="none")


def _parse_fast(text: bytes, loads=orjson.loads, error=orjson.JSONDecodeError, strict=parse_strict) -> Any:
    try:
        value = loads(text)
    except error:
        return strict(text)
    if members_match(text, value, MAX_DEPTH):
        return value
    return strict(text)


if compiled is not None:
    members_match = compiled.members_match
    #: Parse one record; raises ValueError (with "at line L column C") on anything off.
    #: The compiled parse_record is _parse_fast without its Python frame.
    parse: Callable[[bytes], Any] = partial(compiled.parse_record, orjson.loads, orjson.JSONDecodeError,
                                            parse_strict, MAX_DEPTH)
else:
    parse = parse_strict


class Diagnosis(NamedTuple):
    code: str  # an E rule code
    message: str
    line: int  # 1-based, relative to the record's first line
    column: int  # 1-based


# jiter's terse reasons, in words a dataset author recognises
_REASONS = {
    "expected ident": "expected a value (a string, number, object, array, true, false or null)",
    "expected value": "expected a value (a string, number, object, array, true, false or null)",
    "trailing characters": "more data after the end of the record (two records on one line?)",
    "trailing comma": "a comma before a closing bracket",
}


def diagnose(text: bytes, error: ValueError) -> Diagnosis:
    """Say why ``text`` did not parse, in the user's terms, with the position inside the record."""
    line, column = 1, 1
    found = _POSITION.search(str(error))
    reason = _POSITION.sub("", str(error))
    if found:
        line, column = int(found.group(1)), max(int(found.group(2)), 1)
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position_of(text, exc.start)
        hint = ""
        for encoding in ("gbk", "utf-16"):
            try:
                text.decode(encoding)
                hint = f"; it decodes as {encoding.upper()}"
                break
            except UnicodeDecodeError:
                continue
        return Diagnosis("E002", f"not valid UTF-8 (byte 0x{text[exc.start]:02x}){hint}", line, column)
    if "\x00" in decoded:
        line, column = _position_of(text, text.index(b"\x00"))
        return Diagnosis("E004", "NUL byte in the data", line, column)
    if reason.startswith("Detected duplicate key"):
        return Diagnosis("E006", reason.replace("Detected duplicate key", "duplicate key"), line, column)
    if reason == "recursion limit exceeded":
        return Diagnosis("E001", f"nested deeper than {MAX_DEPTH} levels", line, column)
    constant = _non_finite(decoded)
    if constant is not None:
        return Diagnosis("E005", f"{constant} is not valid JSON (write null or a string)", line, column)
    return Diagnosis("E001", f"invalid JSON: {_REASONS.get(reason, reason)}", line, column)


def _non_finite(decoded: str) -> str | None:
    """The NaN/Infinity literal that made strict parsing fail, if that was the only problem."""
    seen: list[str] = []

    def note(name: str) -> float:
        seen.append(name)
        return 0.0

    try:
        json.loads(decoded, parse_constant=note)
    except (ValueError, RecursionError):
        return None
    return seen[0] if seen else None


def _position_of(text: bytes, offset: int) -> tuple[int, int]:
    line = text.count(b"\n", 0, offset) + 1
    start = text.rfind(b"\n", 0, offset) + 1
    return line, offset - start + 1
