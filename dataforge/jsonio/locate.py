"""Find where a JSONPath points inside one record's text, for line:column in findings.

Only records with findings are located, so this can be plain Python: it walks the text down the
path, skipping sibling values with the same exact scanner the stream reader uses.
"""

from __future__ import annotations

import json
import re

from dataforge.jsonio.stream import _SCALAR, _SPACE, _value_end, record_spans

_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")
_KEY = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)


def path_steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for m in _STEP.finditer(path, 1):
        if m.group(1) is not None:
            steps.append(m.group(1))
        elif m.group(2) is not None:
            steps.append(int(m.group(2)))
        else:
            steps.append(m.group(3).replace("\\'", "'").replace("\\\\", "\\"))
    return steps


def locate(text: bytes, path: str) -> tuple[int, int]:
    """(line offset from the record's first line, 1-based column in characters) of ``path``.

    A path that does not exist in the text (a missing key) points at its nearest existing parent.
    """
    offset = _descend(text, _skip(text, 0), path_steps(path))
    line_start = text.rfind(b"\n", 0, offset) + 1
    column = len(text[line_start:offset].decode("utf-8", "replace")) + 1
    return text.count(b"\n", 0, offset), column


def _skip(text: bytes, pos: int) -> int:
    return _SPACE.match(text, pos).end()


def _descend(text: bytes, pos: int, steps: list[str | int]) -> int:
    for step in steps:
        found = _child(text, pos, step)
        if found is None:
            return pos
        pos = found
    return pos


def _child(text: bytes, pos: int, step: str | int) -> int | None:
    """Position of member ``step`` of the container at ``pos`` (a key's position for objects)."""
    if pos >= len(text):
        return None
    opener = text[pos:pos + 1]
    if opener == b"{" and isinstance(step, str):
        pos = _skip(text, pos + 1)
        while pos < len(text) and text[pos:pos + 1] == b'"':
            key = _KEY.match(text, pos)
            if key is None:
                return None
            value = _skip(text, _skip(text, key.end()) + 1)  # past the colon
            raw = key.group()
            if b"\\" not in raw:  # no escapes: the key is its bytes (most keys; json.loads costs 20x)
                if raw[1:-1] == step.encode():
                    return value
            else:
                try:
                    if json.loads(raw) == step:
                        return value
                except ValueError:
                    return None
            pos = _after(text, value)
            if pos is None:
                return None
    elif opener == b"[" and isinstance(step, int):
        pos = _skip(text, pos + 1)
        for _ in range(step):
            pos = _after(text, pos)
            if pos is None:
                return None
        return pos if pos < len(text) and text[pos:pos + 1] != b"]" else None
    return None


def _after(text: bytes, pos: int) -> int | None:
    """Start of the next sibling after the value at ``pos``, or None at the container's end."""
    if text[pos:pos + 1] in (b"{", b"["):
        if record_spans is not None:  # the compiled scan: a container's end, strings skipped
            spans = record_spans(text, pos, False)
            end = spans[1] if spans else None
        else:
            end = _value_end(text, pos)
    else:
        m = _SCALAR.match(text, pos)
        end = m.end() if m else None
    if end is None:
        return None
    end = _skip(text, end)
    if text[end:end + 1] != b",":
        return None
    return _skip(text, end + 1)
