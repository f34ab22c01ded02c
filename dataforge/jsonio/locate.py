"""Find where a JSONPath points inside one record's text, for line:column in findings.

Only records with findings are located: the Python walk goes down the text along the path,
skipping sibling values with the exact scanner the stream reader uses. A dataset where every
record has a finding spends most of lint's time here, so the compiled speedups walk in C
(path_offset), and both walks are held equal by tests.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from dataforge.jsonio.stream import _SCALAR, _SPACE, _value_end
from dataforge.speedups import compiled

path_offset = compiled.path_offset if compiled is not None else None

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


_CONTINUATION = bytes(range(0x80, 0xC0))


@lru_cache(maxsize=4096)
def _steps(path: str) -> tuple[str | int, ...]:
    return tuple(path_steps(path))  # findings repeat a few paths; parsing one costs more than walking it


def locate(text: bytes, path: str) -> tuple[int, int]:
    """(line offset from the record's first line, 1-based column in characters) of ``path``.

    A path that does not exist in the text (a missing key) points at its nearest existing parent.
    The compiled walk answers unless an escaped key is in the way; then the Python walk does.
    """
    steps = _steps(path)
    offset = path_offset(text, steps) if path_offset is not None else -1
    if offset < 0:
        offset = _descend(text, _skip(text, 0), steps)
    line_start = text.rfind(b"\n", 0, offset) + 1
    # characters, not bytes: every UTF-8 character has exactly one byte that is not a
    # continuation byte (0x80-0xBF), and deleting those is cheaper than decoding
    column = len(text[line_start:offset].translate(None, _CONTINUATION)) + 1
    return text.count(b"\n", 0, offset), column


def _skip(text: bytes, pos: int) -> int:
    return _SPACE.match(text, pos).end()


def _descend(text: bytes, pos: int, steps: tuple[str | int, ...]) -> int:
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
