"""E rules: the bytes of the file and the JSON syntax of each record."""

from dataforge.lint.findings import Severity
from dataforge.lint.rules import Rule, register

E = Severity.ERROR
register(
    Rule("E001", "invalid-json", E, "A record is not valid JSON, or the file's structure is broken.",
         "Fix the syntax at the position shown; in a JSON array every record but the last needs a comma.",
         bad='{"prompt": "hi", "response": "hello"\n', good='{"prompt": "hi", "response": "hello"}\n'),
    Rule("E002", "not-utf8", E, "The file is not UTF-8 (GBK and UTF-16 are named when they fit).",
         "Re-encode the file, e.g. `iconv -f GBK -t UTF-8 in.jsonl > out.jsonl`.",
         bad='(a line saved as GBK: b\'{"prompt": "\\xcd\\xcb\\xbb\\xf5"...\')\n',
         good='{"prompt": "退货", "response": "七天内"}\n'),
    Rule("E003", "bom", Severity.WARNING, "The file starts with a UTF-8 byte-order mark.",
         "Some loaders read the BOM as part of the first key; `dataforge lint --fix` removes it.",
         bad='\ufeff{"prompt": "hi", "response": "hello"}\n', good='{"prompt": "hi", "response": "hello"}\n',
         fixable=True),
    Rule("E004", "nul-byte", E, "A raw NUL byte appears in the data.",
         "NUL bytes usually mean a binary or UTF-16 file, or a broken write; check how the file was made.",
         bad='{"prompt": "hi\x00", "response": "hello"}\n', good='{"prompt": "hi", "response": "hello"}\n'),
    Rule("E005", "non-finite-number", E, "NaN or Infinity appears; they are not JSON.",
         "Python's json.dumps writes them by default; pass allow_nan=False, or write null.",
         bad='{"conversation_id": NaN, "conversation": [{"human": "hi", "assistant": "hello"}]}\n',
         good='{"conversation_id": 1, "conversation": [{"human": "hi", "assistant": "hello"}]}\n'),
    Rule("E006", "duplicate-key", E, "An object has the same key twice; loaders silently keep one.",
         "Remove or rename one of the two keys.",
         bad='{"prompt": "hi", "response": "hello", "response": "bye"}\n',
         good='{"prompt": "hi", "response": "hello"}\n'),
    Rule("E007", "empty-file", E, "The file holds no records.",
         "An empty dataset file is usually a failed export; check the step that wrote it.",
         bad="", good='{"prompt": "hi", "response": "hello"}\n'),
)
