"""The rule registry: every code lint can report, with its severity, summary and examples.

Rules are grouped by family, one module each. A family module declares its rules and, where the
rules look at a whole Sample, one ``check(sample, fmt, report)`` function that checks them all in
a single pass over the messages: lint's budget is a few microseconds per record, and one loop per
family instead of one per rule is what keeps it inside. The examples are JSON Lines; the tests
lint every bad example (it must trigger its rule) and every good one (it must not).
"""

from __future__ import annotations

from dataclasses import dataclass

from dataforge.errors import DataforgeError
from dataforge.lint.findings import Severity


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    hint: str
    bad: str  # JSON Lines that break the rule
    good: str  # the same data, mended
    fixable: bool = False
    example_format: str | None = None  # the --format the examples need, when detection is not enough
    example_options: dict | None = None  # lint options the examples need (masking rules: template, max_len)


RULES: dict[str, Rule] = {}


def register(*rules: Rule) -> None:
    for rule in rules:
        if rule.code in RULES:
            raise ValueError(f"rule code {rule.code} registered twice")
        RULES[rule.code] = rule


def get_rule(code: str) -> Rule:
    rule = RULES.get(code.upper())
    if rule is None:
        raise DataforgeError(f"no rule {code!r}", hint="`dataforge rule --list` shows every rule")
    return rule


def load_all() -> dict[str, Rule]:
    """Import every family so its rules are registered, and return the registry."""
    from dataforge.lint.rules import dataset, encoding, loss, masking, preference, roles, shape, tools  # noqa: F401

    return RULES
