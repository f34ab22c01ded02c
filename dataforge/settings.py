"""Settings from `[tool.dataforge.*]` in the nearest pyproject.toml; flags override them."""

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


GENERATE_KEYS = {"base-url": str, "model": str, "api-key-env": str, "api-key": str}


def lint_settings(start: Path | None = None) -> dict:
    return _section("lint", KEYS, start)


def generate_settings(start: Path | None = None) -> dict:
    """[tool.dataforge.generate]: base-url, model, api-key-env (or, discouraged, api-key)."""
    return _section("generate", GENERATE_KEYS, start)


def _section(name: str, keys: dict, start: Path | None) -> dict:
    path = find_pyproject(start)
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise DataforgeError(f"{path}: cannot read settings ({exc})") from None
    settings = data.get("tool", {}).get("dataforge", {}).get(name, {})
    for key, value in settings.items():
        expected = keys.get(key)
        if expected is None:
            raise DataforgeError(f"{path}: unknown setting [tool.dataforge.{name}] {key}",
                                 hint="known settings: " + ", ".join(keys))
        if not isinstance(value, expected):
            raise DataforgeError(f"{path}: [tool.dataforge.{name}] {key} must be a {expected.__name__}")
    return settings
