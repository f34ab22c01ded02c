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
