"""The JSON Schemas shipped with dataforge, one per on-disk format (the public contract)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

from dataforge.errors import DataforgeError


def schema_dir() -> Path:
    """Where the schemas are: inside the package in a wheel, at the repository root otherwise.

    The wheel maps the repository's top-level schemas/ into dataforge/schemas (see pyproject.toml);
    an editable install or a source checkout reads the repository folder itself.
    """
    packaged = Path(str(resources.files("dataforge"))) / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


def schema_text(file_name: str) -> str:
    path = schema_dir() / file_name
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise DataforgeError(f"schema {file_name} is missing from this installation ({path})") from None


@cache
def load_schema(file_name: str) -> dict:
    return json.loads(schema_text(file_name))
