"""The shipped JSON Schemas agree with dataforge: samples and good examples pass, shape errors fail."""

import json

import jsonschema
import pytest

from dataforge.formats import FORMATS, detect
from dataforge.lint.rules import RULES, load_all
from dataforge.schemas import load_schema, schema_dir
from tests.conftest import SAMPLES

load_all()


def validator(fmt_name):
    schema = load_schema(FORMATS[fmt_name].schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def records_of(path):
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else [json.loads(line) for line in text.splitlines()]


def test_a_schema_per_format_and_nothing_else():
    assert sorted(p.name for p in schema_dir().glob("*.schema.json")) == sorted(f.schema for f in FORMATS.values())


@pytest.mark.parametrize("path", sorted((SAMPLES / "datasets").iterdir()), ids=lambda p: p.name)
def test_every_sample_record_is_valid(path):
    for record in records_of(path):
        fmt = detect(record)[0]
        assert list(validator(fmt.name).iter_errors(record)) == []


def test_broken_samples_are_invalid_where_lint_reports_shape_errors():
    records = records_of(SAMPLES / "broken" / "alpaca_broken.json")
    check = validator("alpaca")
    assert [check.is_valid(r) for r in records] == [True, False, False, False]


# Rules whose bad example is a shape the schema itself forbids.
# T001's example is ShareGPT's tools, a JSON *string*: no JSON Schema can look inside one.
SCHEMA_RULES = ["S004", "S005", "S006", "R001", "R010", "T003", "T004", "T006", "T007", "L001"]


@pytest.mark.parametrize("code", SCHEMA_RULES)
def test_schema_rejects_the_bad_example_and_accepts_the_good(code):
    rule = RULES[code]
    bad, good = json.loads(rule.bad), json.loads(rule.good)
    fmt = rule.example_format or detect(good)[0].name
    assert not validator(fmt).is_valid(bad)
    assert validator(fmt).is_valid(good)


def test_schema_errors_are_precise():
    """Messages are discriminated by role, so an error names the field, not the whole union."""
    bad = {"conversations": [{"role": "user", "content": "a"}, {"role": "tool", "name": "f", "observation": 1}]}
    errors = list(validator("chatglm3").iter_errors(bad))
    assert [(list(e.absolute_path), e.message) for e in errors] == [
        (["conversations", 1], "'parameters' is a required property")]


def test_one_list_of_keys_per_format_drives_schema_and_lint():
    """A schema's top-level keys are its format's keys plus the bookkeeping keys any record may carry."""
    from dataforge.formats.base import BOOKKEEPING

    for fmt in FORMATS.values():
        assert set(load_schema(fmt.schema)["properties"]) == set(fmt.keys) | BOOKKEEPING, fmt.name


def _fixtures():
    """Every record the repository ships or documents: samples and each rule's examples."""
    from dataforge.jsonio.layout import iter_records, open_records

    for path in sorted(SAMPLES.rglob("*.json*")):
        if path.name.endswith(".review.jsonl"):
            continue
        f, _, _ = open_records(path)
        with f:
            try:
                for rec in iter_records(path, f):
                    yield f"{path.name}:{rec.line}", rec.text
            except Exception:  # noqa: BLE001 - a broken sample file's tail: what was read is enough
                pass
    for code, rule in sorted(RULES.items()):
        if rule.example_format or rule.example_options:
            continue  # read with options the schema does not know of
        for kind in ("bad", "good"):
            for n, line in enumerate(getattr(rule, kind).splitlines()):
                if line.strip():
                    yield f"{code} {kind} {n}", line.encode()


# What a JSON Schema can judge of one record: its shape, its keys, the types of its values. The
# documented exceptions are order and content rules (R002-R009, L002, P, D, M, and T rules that
# look inside JSON strings or across messages), which no schema can express.
# A required field the schema lists is a shape too: a call's name (T002), a preference pair's
# replies (P001), and the observation of a call that carries its own (ChatGLM3's `tool`, T006).
SHAPE_CODES = {"E004", "E005", "E006", "S004", "S005", "S006", "R001", "R010", "L001", "P001", "T002", "T003", "T004",
               "T007"}


def test_schemas_and_lint_agree_on_every_fixture_in_the_repository():
    from dataforge.formats.choice import FormatChoice
    from dataforge.jsonio.parse import parse
    from dataforge.lint.engine import LintOptions
    from dataforge.lint.record import RecordLinter

    disagreements = []
    for where, text in _fixtures():
        try:
            value = parse(text)
        except ValueError:
            continue  # not JSON: no schema applies
        fmt = FormatChoice.for_file(value)[0].format
        if fmt is None:
            continue
        findings = RecordLinter(fmt, LintOptions()).check_text(text)
        codes = SHAPE_CODES | ({"T006"} if fmt.call_carries_observation else set())
        lint_ok = not any(f.code in codes for f in findings)
        schema_ok = validator(fmt.name).is_valid(value)
        if lint_ok != schema_ok:
            disagreements.append(f"{where} ({fmt.name}): lint {[f.code for f in findings]}, schema "
                                 + ("accepts" if schema_ok else "rejects"))
    assert not disagreements, "\n".join(disagreements)
