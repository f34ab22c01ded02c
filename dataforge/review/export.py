"""Write the accepted samples (with the reviewer's edits) in a chosen format, and a report."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from dataforge.errors import DataforgeError
from dataforge.formats import get_format
from dataforge.jsonio.layout import RecordWriter, is_json_lines
from dataforge.jsonio.write import atomic_writer, check_output
from dataforge.review.dataset import Dataset
from dataforge.review.store import ACCEPTED, ReviewStore


def export_accepted(dataset: Dataset, store: ReviewStore, target: str, out: str | Path) -> dict:
    """Write accepted samples to ``out`` in ``target`` and a report beside it; returns the report."""
    out = Path(out)
    check_output(out, [dataset.path], replace=True)  # never the dataset under review, never a folder
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataforgeError(f"{out.parent}: cannot create the folder ({exc.strerror})") from None
    fmt = get_format(target)
    losses: Counter = Counter()
    written = 0
    with atomic_writer(out) as f:
        writer = RecordWriter(f, is_json_lines(out))
        for index in range(len(dataset)):
            state = store.state(index)
            if state.decision != ACCEPTED:
                continue
            value = state.edited if state.edited is not None else dataset.value(index)
            sample = dataset.format.read(value, []) if dataset.format is not None else None
            if sample is None:
                continue
            record, lost = fmt.write(sample)
            losses.update(lost)
            writer.write(record)
            written += 1
        writer.close()
    report = {"dataset": str(dataset.path), "format": target, "output": str(out), "written": written,
              **store.counts(len(dataset)), "edited": sum(1 for i in range(len(dataset)) if store.state(i).edited),
              "losses": dict(losses)}
    with atomic_writer(out.with_name(out.name + ".report.json")) as f:
        f.write(json.dumps(report, ensure_ascii=False, indent=2).encode())
    return report


def export_accepted_to(opened, target: str, folder: str | Path, force: bool = False):
    """Hand the accepted samples (with the reviewer's edits) to a trainer target, as `dataforge
    export` does: an accepted record lint finds an error in stops the export (Refused)."""
    from dataforge.collect import Collected, Refused
    from dataforge.export import export
    from dataforge.lint.findings import Severity
    from dataforge.review.session import ReviewSession

    dataset, store = opened.dataset, opened.store
    collected = Collected(files=[dataset.path], records=len(dataset))
    errors = []
    fmt_name = dataset.format.name if dataset.format is not None else "?"
    for index in range(len(dataset)):
        state = store.state(index)
        if state.decision != ACCEPTED:
            continue
        findings = ReviewSession.findings(opened, index)
        bad = [f for f in findings if f.severity is Severity.ERROR]
        errors.extend(bad)
        collected.warnings.update(f.code for f in findings if f.severity is not Severity.ERROR)
        value = state.edited if state.edited is not None else dataset.value(index)
        sample = dataset.read(value)
        if sample is None or bad:
            continue
        collected.samples.append(sample._replace(meta={"file": str(dataset.path), "record": index,
                                                       "line": dataset.line(index), "format": fmt_name}))
    if errors:
        raise Refused(errors)
    return export([str(dataset.path)], target, folder, collected=collected, force=force,
                  name=dataset.path.stem.split(".")[0])
