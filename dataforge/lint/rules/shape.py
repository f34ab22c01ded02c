"""S rules: which format a record is in, and whether it has that format's fields and types."""

from dataforge.lint.findings import Severity
from dataforge.lint.rules import Rule, register

E, W = Severity.ERROR, Severity.WARNING
register(
    Rule("S001", "unknown-format", E, "A record matches no known dataset format.",
         "Check the key names (`dataforge formats` lists each format's layout), or pass --format.",
         bad='{"question": "hi", "answer": "hello"}\n', good='{"prompt": "hi", "response": "hello"}\n'),
    Rule("S002", "ambiguous-format", W, "The first record fits several formats; the first listed is used.",
         "Pass --format to say which one you mean.",
         bad='{"prompt": "hi", "response": "hello", "chosen": "a", "rejected": "b"}\n',
         good='{"prompt": "hi", "chosen": "a", "rejected": "b"}\n'),
    Rule("S003", "mixed-formats", E, "A record is in another format than the file's first record.",
         "Keep one format per file; `dataforge convert` rewrites records into one format.",
         bad='{"prompt": "hi", "response": "hello"}\n{"instruction": "hi", "input": "", "output": "hello"}\n',
         good='{"prompt": "hi", "response": "hello"}\n{"prompt": "hey", "response": "hello"}\n'),
    Rule("S004", "missing-field", E, "A field the format requires is missing.",
         "Add the field; trainers stop with a KeyError, or skip the row, when it is absent.",
         bad='{"instruction": "Say hi", "input": ""}\n',
         good='{"instruction": "Say hi", "input": "", "output": "hi"}\n', example_format="alpaca"),
    Rule("S005", "wrong-type", E, "A field or record has the wrong JSON type.",
         "Text fields are strings: an object in `output` is a common mistake of generated data.",
         bad='{"instruction": "Say hi", "input": "", "output": {"text": "hi"}}\n',
         good='{"instruction": "Say hi", "input": "", "output": "hi"}\n'),
    Rule("S006", "unknown-key", W, "A key the format does not define (often a misspelt one).",
         "Rename it if it is a typo; trainers ignore unknown keys, so their content is not trained on.",
         bad='{"instruction": "Say hi", "input": "", "output": "hi", "sytem": "Be brief."}\n',
         good='{"instruction": "Say hi", "input": "", "output": "hi", "system": "Be brief."}\n'),
    Rule("S007", "not-fine-tuning-data", W, "The file holds pre-training text, not conversations (said once per file).",
         "Nothing in it can be masked by role: a fine-tuning run would train on every token, or skip it. Keep it "
         "for continued pre-training, or leave it out of fine-tuning sets.",
         bad='{"text": "The quick brown fox jumps over the lazy dog."}\n',
         good='{"instruction": "Finish the pangram.", "input": "The quick brown fox", '
              '"output": "jumps over the lazy dog."}\n'),
    Rule("S008", "media-placeholder-mismatch", E,
         "A multimodal record's media list and its placeholders (<image>, <video>, <audio>) do not match in number.",
         "Each file in `images` (`videos`, `audios`) fills one placeholder in the messages, in order; trainers "
         "refuse or misalign records where the counts differ.",
         bad='{"messages": [{"role": "user", "content": "<image>What is this?"}, {"role": "assistant", '
             '"content": "A cat."}], "images": ["cat.jpg", "dog.jpg"]}\n',
         good='{"messages": [{"role": "user", "content": "<image>What is this?"}, {"role": "assistant", '
              '"content": "A cat."}], "images": ["cat.jpg"]}\n'),
    Rule("S009", "registry-mismatch", E,
         "LLaMA-Factory's dataset_info.json reads a file otherwise than its records are laid out, or names "
         "what is not there.",
         "Make the entry's formatting, columns and tags describe the records (or convert the records): "
         "LLaMA-Factory stops on the first record (KeyError) or skips every row. An unknown formatting is "
         "read as alpaca.",
         bad='dataset_info.json: {"demo": {"file_name": "demo.jsonl", "formatting": "sharegpt"}}\n'
             'demo.jsonl: {"instruction": "Say hi", "input": "", "output": "hi"}\n',
         good='dataset_info.json: {"demo": {"file_name": "demo.jsonl"}}\n'
              'demo.jsonl: {"instruction": "Say hi", "input": "", "output": "hi"}\n'),
)


def check_media(sample, report) -> None:
    """S008: media lists against the placeholders in the text."""
    from dataforge.formats.base import MEDIA

    extra = sample.extra
    for key, placeholder in MEDIA.items():
        files = extra.get(key)
        if files is None:
            continue
        if type(files) is not list or not all(type(f) is str for f in files):
            report("S005", f"$.{key}", f"{key} must be a list of file names")
            continue
        used = sum(c.count(placeholder) for c in sample.contents)
        if used != len(files):
            report("S008", f"$.{key}", f"{len(files)} {key} for {used} {placeholder} placeholder(s)")
