"""What lint says about one record, under the project's settings: the one answer that generate
(is a generated record kept?), the review editor (is an edit valid?) and export ask for.

It is lint's own record checker run on one record, so nothing can drift: the same strict parse
(duplicate keys, NaN and over-deep nesting refused), the same format choice, the same rules, the
same suppression of repeats (a field of the wrong type is not also reported as empty), and the
project's ``select``/``ignore``. Rules that need more than one record (duplicates) or a tokenizer
(masking) are not asked here.
"""

from __future__ import annotations

from typing import Any

import orjson

from dataforge.formats import Format
from dataforge.jsonio.stream import RawRecord
from dataforge.lint.engine import LintOptions, RecordChecker
from dataforge.lint.findings import Finding


def project_options(conf: dict | None = None, **flags: Any) -> LintOptions:
    """LintOptions from ``[tool.dataforge.lint]`` (``conf``: as already read, else read from the
    nearest pyproject.toml), flags over them (a flag that is None leaves the setting)."""
    if conf is None:
        from dataforge.settings import lint_settings

        conf = lint_settings()

    def setting(name: str, default):
        value = flags.get(name.replace("-", "_"))
        return value if value is not None else conf.get(name, default)

    return LintOptions(format=setting("format", "auto"), select=tuple(setting("select", [])),
                       ignore=tuple(setting("ignore", [])), jobs=max(0, setting("jobs", 0)),
                       tokenizer=setting("tokenizer", None), template=setting("template", None),
                       max_len=setting("max-len", None), trust_remote_code=bool(flags.get("trust_remote_code")))


class RecordLinter:
    """Lint one record at a time, as the file of format ``file_format`` it belongs to would be."""

    def __init__(self, file_format: Format | None, options: LintOptions | None = None, file: str = "<record>"):
        options = options if options is not None else project_options()
        enabled = frozenset(c for c in options.enabled_codes() if not c.startswith(("D", "M")))
        self._checker = RecordChecker(file, file_format, False, enabled)

    def check_text(self, text: bytes | str) -> list[Finding]:
        """Findings on a record's JSON text, positions counted from its first line."""
        data = text.encode("utf-8") if isinstance(text, str) else text
        return self._checker.check([RawRecord(0, 1, 1, data.strip())]).findings

    def check_value(self, value: Any) -> list[Finding]:
        """Findings on an already parsed record (as it would be written: JSON, UTF-8)."""
        try:
            text = orjson.dumps(value)
        except (TypeError, orjson.JSONEncodeError):  # not JSON at all (NaN included): say it as lint would
            import json

            text = json.dumps(value, ensure_ascii=False, default=repr).encode()
        return self.check_text(text)
