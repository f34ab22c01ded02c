"""Lint settings from `[tool.dataforge.lint]` in the nearest pyproject.toml; flags override them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from dataforge.errors import DataforgeError

KEYS = {"format": str, "select": list, "ignore": list, "fail-on": str, "output-format": str,
        "jobs": int, "statistics": bool, "tokenizer": str, "template": str, "max-len": int}


def find_pyproject(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def lint_settings(start: Path | None = None) -> dict:
    path = find_pyproject(start)
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise DataforgeError(f"{path}: cannot read settings ({exc})") from None
    settings = data.get("tool", {}).get("dataforge", {}).get("lint", {})
    for key, value in settings.items():
        expected = KEYS.get(key)
        if expected is None:
            raise DataforgeError(f"{path}: unknown setting [tool.dataforge.lint] {key}",
                                 hint="known settings: " + ", ".join(KEYS))
        if not isinstance(value, expected):
            raise DataforgeError(f"{path}: [tool.dataforge.lint] {key} must be a {expected.__name__}")
    return settings
