"""Every rule family over one sample, with verdicts on a sample's shape remembered.

Datasets repeat a few shapes: the same roles in the same order, the same loss flags, at the same
places, the same tools called. Apart from preference pairs, all that the order (R), tool (T),
loss (L) and preference (P) rules say depends on that shape alone (the format, the roles, the
loss flags and their types, the message paths; with tools, the names called, which calls have
arguments and the names declared), not on the text. Such verdicts are made once, by running the
families themselves, and replayed for every sample of the same shape; only R008 (an empty
message), which reads the text, runs for each. A test holds replaying equal to running.
"""

from __future__ import annotations

from dataforge.formats.base import MEDIA, Format
from dataforge.lint.rules import loss, preference, roles, shape, tools
from dataforge.lint.rules.roles import Report
from dataforge.lint.rules.tools import declared_names
from dataforge.model import Sample

_AFTER_ROLES = (tools.check, loss.check, preference.check)
Verdict = tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str, str], ...]]  # (order findings, the rest)
_shapes: dict[tuple, Verdict] = {}


def check_sample(sample: Sample, fmt: Format, report: Report) -> None:
    """Report every R, T, L and P finding on ``sample``, in family order (none on text that is
    not a conversation: the file as a whole is reported instead, S007)."""
    if sample.chosen is not None or sample.rejected is not None:
        run_families(sample, fmt, report)
        return
    if not fmt.conversational:
        return
    if sample.extra is not None and not sample.extra.keys().isdisjoint(MEDIA):
        shape.check_media(sample, report)
    losses = sample.losses
    if losses.count(None) != len(losses):  # 1 == True and 0 == False: flags are told apart by type too
        losses = (losses, tuple(map(type, losses)))
    key = (fmt, sample.roles, losses, sample.paths)
    if sample.tools is not None or sample.names is not None or sample.arguments is not None:
        # What the tool rules look at: the names called, which calls have arguments, the names declared.
        arguments = sample.arguments
        key += (sample.names, None if arguments is None else tuple(map(type, arguments)), _declared(sample.tools))
    try:
        verdict = _shapes.get(key)
    except TypeError:  # a value of the wrong type (a list as a `loss` flag): judged afresh, nothing remembered
        run_families(sample, fmt, report)
        return
    if verdict is None:
        if len(_shapes) >= 4096:  # a dataset of endless shapes: start over rather than grow
            _shapes.clear()
        verdict = _shapes[key] = _judge(sample, fmt)
    order, rest = verdict
    for finding in order:
        report(*finding)
    roles.check_contents(sample, report)
    for finding in rest:
        report(*finding)


def _declared(tools: object) -> frozenset[str] | str | None:
    if tools is None:
        return None
    names = declared_names(tools)
    return "malformed" if names is None else frozenset(names)


def run_families(sample: Sample, fmt: Format, report: Report) -> None:
    """The families one after another, nothing remembered."""
    if not fmt.conversational:
        return
    if sample.extra is not None and not sample.extra.keys().isdisjoint(MEDIA):
        shape.check_media(sample, report)
    roles.check(sample, fmt, report)
    for check in _AFTER_ROLES:
        check(sample, fmt, report)


def _judge(sample: Sample, fmt: Format) -> Verdict:
    order: list[tuple[str, str, str]] = []
    rest: list[tuple[str, str, str]] = []
    roles.check_order(sample, fmt, lambda *finding: order.append(finding))
    for check in _AFTER_ROLES:
        check(sample, fmt, lambda *finding: rest.append(finding))
    return tuple(order), tuple(rest)
