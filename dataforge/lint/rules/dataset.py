"""D rules: records compared with each other, across a file and across files."""

from dataforge.lint.findings import Severity
from dataforge.lint.rules import Rule, register

register(
    Rule("D001", "duplicate-record", Severity.WARNING, "The same record appears more than once.",
         "Duplicates weigh their content twice in training; remove the repeats.",
         bad='{"prompt": "hi", "response": "hello"}\n{"prompt": "hi", "response": "hello"}\n',
         good='{"prompt": "hi", "response": "hello"}\n{"prompt": "hey", "response": "hello"}\n'),
    Rule("D002", "overlap-between-files", Severity.ERROR,
         "A record appears in two of the files linted together, e.g. in train and eval.",
         "A record that is both trained on and evaluated on makes the evaluation meaningless.",
         bad='train.jsonl and eval.jsonl both hold {"prompt": "hi", "response": "hello"}\n',
         good="each record in one file only\n"),
)
