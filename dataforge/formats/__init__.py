"""The registry of on-disk formats, and record-level format detection."""

from __future__ import annotations

from dataforge.errors import DataforgeError
from dataforge.formats import (
    alpaca,
    chatglm3,
    firefly,
    openai,
    preference,
    prompt_completion,
    prompt_response,
    sharegpt,
    text,
)
from dataforge.formats.base import Format, Problem

# Order matters for detection: the first format that recognises a record wins, and the more
# specific layouts (preference variants) come before the layouts they extend.
FORMATS: dict[str, Format] = {f.name: f for f in (
    chatglm3.FORMAT,
    sharegpt.PREFERENCE,
    sharegpt.FORMAT,
    openai.FORMAT,
    alpaca.FORMAT,
    preference.FORMAT,
    prompt_completion.FORMAT,
    prompt_response.FORMAT,
    firefly.FORMAT,
    text.FORMAT,
)}


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise DataforgeError(f"unknown format {name!r}",
                             hint="known formats: " + ", ".join(FORMATS)) from None


def detect(raw: dict) -> list[Format]:
    """Every format that recognises the record's keys (usually one; none or several is a finding)."""
    return [f for f in FORMATS.values() if f.detect(raw)]


__all__ = ["FORMATS", "Format", "Problem", "detect", "get_format"]
