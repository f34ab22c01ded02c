"""Convert a dataset from one format to another, naming everything the target cannot hold."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import NamedTuple

from dataforge.errors import DataforgeError
from dataforge.formats import get_format
from dataforge.formats.choice import FormatChoice
from dataforge.jsonio.layout import RecordWriter, is_json_lines, iter_records, open_records
from dataforge.jsonio.parse import diagnose, parse
from dataforge.jsonio.stream import UNPARSED, RawRecord, StructureError
from dataforge.jsonio.write import atomic_writer, check_output
from dataforge.model import Sample


class Note(NamedTuple):
    """Something about one record the user must hear: a loss, or why it was not converted."""

    record: int
    line: int
    message: str
    skipped: bool  # True: the record is not in the output at all


@dataclass
class ConvertResult:
    written: int = 0
    skipped: int = 0
    lossy: int = 0  # records written with something left out
    notes: list[Note] = field(default_factory=list)


# A record with one of these was read with a part invented (an empty string for a missing or
# mistyped field): it is not converted, and the note says what lint says.
_UNUSABLE = frozenset({"S001", "S004", "S005"})


def read_samples(path: Path, source: str = "auto") -> Iterator[tuple[int, int, Sample | None, str]]:
    """(record index, line, Sample or None, why not) for each record of a dataset file.

    Records are parsed strictly and their format chosen as lint does (FormatChoice); a record
    lint calls unreadable is None here, with lint's own code and words as the reason.
    """
    forced = None if source == "auto" else get_format(source)
    f = open_dataset(path)
    choice: FormatChoice | None = None
    name = str(path)
    new_sample = partial(tuple.__new__, Sample)
    with f:
        try:
            for rec in iter_records(path, f):
                if choice is None:
                    choice = FormatChoice.for_file(first_value(rec), forced)[0]
                sample, why = read_record(choice, rec)
                if sample is None:
                    yield rec.index, rec.line, None, why
                    continue
                # built directly: NamedTuple._replace costs several microseconds a record
                yield rec.index, rec.line, new_sample(sample[:-1] + ({"file": name, "record": rec.index,
                                                                      "format": why},)), ""
        except StructureError as exc:
            raise DataforgeError(f"{path}:{exc.line}:{exc.column}: {exc.message}",
                                 hint="`dataforge lint` shows every problem in the file") from None


def open_dataset(path: Path):
    """The file, positioned at its first record; an error for an unreadable or non-UTF-8 file."""
    try:
        f, _, foreign = open_records(path)
    except OSError as exc:
        raise DataforgeError(f"{path}: cannot read ({exc.strerror})") from None
    if foreign:
        f.close()
        raise DataforgeError(f"{path}: the file is {foreign}, not UTF-8",
                             hint="re-encode it, e.g. with iconv -t UTF-8")
    return f


def first_value(rec: RawRecord):
    """The first record's value, for choosing the file's format (None when it is not JSON)."""
    try:
        return rec.value if rec.value is not UNPARSED else parse(rec.text)
    except ValueError:
        return None


def read_record(choice: FormatChoice, rec: RawRecord) -> tuple[Sample | None, str]:
    """(sample, its format's name), or (None, why not, in lint's code and words)."""
    try:
        value = rec.value if rec.value is not UNPARSED else parse(rec.text)
    except ValueError as exc:
        d = diagnose(rec.text, exc)
        return None, f"{d.code} {d.message}"
    problems: list = []
    fmt, sample = choice.read(value, problems)
    unusable = [p for p in problems if p.code in _UNUSABLE] if problems else None
    if sample is None or unusable:
        return None, "; ".join(f"{p.code} {p.message}" for p in unusable or problems)
    return sample, fmt.name


def pick_record(path: str, record: int | None = None, line: int | None = None,
                first_with_findings: bool = False) -> tuple[int, int, Sample, str]:
    """(index, line, sample, format name) of the record asked for; the first one by default."""
    if first_with_findings:
        from dataforge.lint.engine import Linter

        found = next((f.location.record for f in Linter().run([path]) if f.location.record is not None), None)
        if found is None:
            raise DataforgeError(f"{path}: lint finds nothing to show in any record")
        record = found
    want = record if record is not None else (None if line is not None else 0)
    if want is not None and want < 0:
        raise DataforgeError("--record counts from 0")
    if not Path(path).is_file():
        raise DataforgeError(f"{path}: no such file")
    for index, start, sample, why in read_samples(Path(path)):
        if (want is not None and index == want) or (line is not None and start == line):
            if sample is None:
                raise DataforgeError(f"{path}:{start}: record {index} cannot be read: {why}",
                                     hint="`dataforge lint` shows every problem in the file")
            return index, start, sample, sample.meta["format"]
    what = f"record {want}" if want is not None else f"a record starting on line {line}"
    raise DataforgeError(f"{path}: no {what}")


def convert_file(source_path: str | Path, target: str, out_path: str | Path, source: str = "auto",
                 force: bool = False) -> ConvertResult:
    """Write every record of ``source_path`` in format ``target`` to ``out_path`` (atomically).
    An existing ``out_path`` is replaced only with ``force``; the input never is."""
    fmt = get_format(target)
    source_path, out_path = Path(source_path), Path(out_path)
    check_output(out_path, [source_path], force)
    result = ConvertResult()
    with atomic_writer(out_path) as out:
        writer = RecordWriter(out, is_json_lines(out_path))
        for index, line, sample, why in read_samples(source_path, source):
            if sample is not None and fmt.conversational and not get_format(sample.meta["format"]).conversational:
                sample, why = None, "pre-training text holds no conversation to convert"
            if sample is None:
                result.skipped += 1
                result.notes.append(Note(index, line, f"not converted: {why}", True))
                continue
            record, losses = fmt.write(sample)
            writer.write(record)
            result.written += 1
            if losses:
                result.lossy += 1
                result.notes.extend(Note(index, line, loss, False) for loss in losses)
        writer.close()
    return result
