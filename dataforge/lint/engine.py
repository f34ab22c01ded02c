"""Stream dataset files through the rules, in bounded memory, one core or several.

Per record: parse (strictly), find the format, read it into a Sample (the adapter reports shape
problems), run each rule family once over the Sample, and keep an 8-byte digest for the dataset
rules, which run after the last file. Findings are yielded as each batch is done, so reporters
can print them while a multi-GB file is still being read.

The digest is the 64-bit XXH3 hash of the record's canonical content (dataforge.lint.content):
its roles and texts, tool calls and definitions, preference replies, whatever the file's layout
or format, so a train/eval leak is found between an alpaca `train.json` and a ShareGPT
`eval.jsonl`, and spacing, key order or an `id` do not hide a repeat. XXH3 is the same in every
process; a record that is not read as any format is digested by its JSON text.
"""

from __future__ import annotations

import gc
import os
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat
from operator import add, itemgetter
from pathlib import Path
from typing import NamedTuple

from xxhash import xxh3_64_intdigest as digest

from dataforge.errors import DataforgeError
from dataforge.formats import FORMATS, Format, Problem, get_format
from dataforge.formats.choice import FormatChoice
from dataforge.formats.registry import REGISTRY, registry_beside
from dataforge.jsonio.layout import LINE_SUFFIXES, is_json_lines, open_records, record_batches
from dataforge.jsonio.locate import locate
from dataforge.jsonio.parse import diagnose, parse
from dataforge.jsonio.stream import UNPARSED, RawRecord, StructureError, jsonl_records
from dataforge.lint.checks import check_sample
from dataforge.lint.content import content_key
from dataforge.lint.duplicates import DigestStore
from dataforge.lint.findings import Finding, Location, Severity
from dataforge.lint.rules import RULES, load_all
from dataforge.lint.rules import masking as masking_rules
from dataforge.masking.session import MaskingSession
from dataforge.model import Sample
from dataforge.templates import default_template_for

load_all()  # the rule registry, also in worker processes, which start from a fresh interpreter

DATASET_SUFFIXES = (".json", *LINE_SUFFIXES)
BATCH = 2000  # records checked at a time in one process
BLOCK = 1 << 22  # bytes of JSON Lines a worker process reads and checks at a time
AUTO_JOBS_BYTES = 32 << 20
_SHAPE_ERRORS = frozenset({"S004", "S005"})
# Findings built with tuple.__new__ where one is made per record: a NamedTuple's own constructor
# is a Python function, a microsecond a call.
_new_finding, _new_location = partial(tuple.__new__, Finding), partial(tuple.__new__, Location)
_INDEX, _LINE, _COLUMN = (itemgetter(i) for i in range(3))  # RawRecord fields, read in C


@dataclass(frozen=True)
class LintOptions:
    format: str = "auto"
    select: tuple[str, ...] = ()  # code prefixes to report; empty means every rule
    ignore: tuple[str, ...] = ()
    jobs: int = 1  # processes for JSON Lines; 0: every core when there is enough to share (auto_jobs)
    # Masking rules (M) run when any of these is given; the template defaults to the format's.
    tokenizer: str | None = None
    template: str | None = None
    max_len: int | None = None
    trust_remote_code: bool = False

    @property
    def masking(self) -> bool:
        return bool(self.tokenizer or self.template or self.max_len)

    def enabled_codes(self) -> frozenset[str]:
        codes = {code: rule for code, rule in load_all().items() if self.masking or not code.startswith("M")}
        for prefix in (*self.select, *self.ignore):
            if not any(code.startswith(prefix.upper()) for code in codes):
                raise DataforgeError(f"no rule code starts with {prefix!r}",
                                     hint="`dataforge rule --list` shows every rule")
        chosen = [c for c in codes if not self.select or c.startswith(tuple(p.upper() for p in self.select))]
        return frozenset(c for c in chosen if not c.startswith(tuple(p.upper() for p in self.ignore)))


@dataclass
class Summary:
    files: int = 0
    records: int = 0
    bytes: int = 0
    formats: Counter = field(default_factory=Counter)
    findings: Counter = field(default_factory=Counter)  # by code
    severities: Counter = field(default_factory=Counter)


def dataset_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The files to lint: given files as they are, directories searched for .json/.jsonl.

    Folders are walked through symbolic links (datasets are often linked in), each real folder
    once, so a link that points back up ends instead of looping. Only regular files are taken
    from folders (a pipe or a socket named x.jsonl is passed over); a folder that cannot be read
    is an error, since skipping it would report a clean run over data nobody looked at. A
    LLaMA-Factory dataset_info.json is never linted as a dataset; given by name, it stands for the
    local files it lists. Hidden
    folders (.git, .venv, the review app's .dataforge) are not searched.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = _walk(path)
            if not found:
                raise DataforgeError(f"{path}: no .json or .jsonl files in this directory")
            files.extend(found)
        elif path.is_file() and path.name == REGISTRY:
            files.extend(_registered(path))
        elif path.is_file():
            files.append(path)
        elif path.is_symlink() and not path.exists():
            raise DataforgeError(f"{path}: a symbolic link to nothing (or a loop of links)")
        elif path.exists():
            raise DataforgeError(f"{path}: not a regular file (a pipe, socket or device)",
                                 hint="copy the data into a file first")
        else:
            raise DataforgeError(f"{path}: no such file or directory")
    unique: dict[str, Path] = {}
    for file in files:  # a file named twice (or through a registry and by name) is read once
        unique.setdefault(os.path.realpath(file), file)
    return list(unique.values())


def _registered(registry: Path) -> list[Path]:
    """The local data files a LLaMA-Factory dataset_info.json names (entries with a file_name)."""
    import json

    try:
        entries = json.loads(registry.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataforgeError(f"{registry}: not a readable dataset_info.json ({exc})") from None
    if type(entries) is not dict:
        raise DataforgeError(f"{registry}: a dataset_info.json maps dataset names to their entries")
    found = []
    for entry in entries.values():
        name = entry.get("file_name") if type(entry) is dict else None
        if type(name) is str:
            target = registry.parent / name
            if target.is_dir():
                found.extend(_walk(target))
            elif target.is_file() and target.suffix in DATASET_SUFFIXES:
                found.append(target)
    if not found:
        raise DataforgeError(f"{registry}: names no local .json or .jsonl file")
    return found


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    unreadable: list[str] = []

    def refused(exc: OSError) -> None:
        unreadable.append(f"{exc.filename}: {exc.strerror}")

    for folder, subfolders, names in os.walk(root, onerror=refused, followlinks=True):
        try:
            info = os.stat(folder)
        except OSError as exc:
            refused(exc)
            subfolders.clear()
            continue
        if (info.st_dev, info.st_ino) in seen:  # reached again through a link: walked already
            subfolders.clear()
            continue
        seen.add((info.st_dev, info.st_ino))
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in names:
            if name == REGISTRY:  # LLaMA-Factory's list of datasets: not a dataset itself
                continue
            if Path(name).suffix in DATASET_SUFFIXES:
                candidate = Path(folder, name)
                if candidate.is_file():
                    found.append(candidate)
    if unreadable:
        raise DataforgeError(f"cannot read folder {unreadable[0]}"
                             + (f" (and {len(unreadable) - 1} more)" if len(unreadable) > 1 else ""),
                             hint="fix its permissions, or lint the readable folders one by one")
    return sorted(found)


class BatchResult(NamedTuple):
    records: int
    findings: list[Finding]
    digests: bytes
    indices: bytes  # the record number of each digest
    lines: bytes
    columns: bytes
    formats: Counter
    line_count: int = 0  # lines in the byte range checked (for check_range)


class RecordChecker:
    """Checks batches of records of one file; picklable, so workers in other processes can run it
    (without a masking session: masking checks run in one process, the tokenizer uses every core)."""

    def __init__(self, file: str, fmt: Format | None, forced: bool, enabled: frozenset[str],
                 masking: MaskingSession | None = None):
        self.file, self.fmt, self.forced, self.enabled = file, fmt, forced, enabled
        self.choice = FormatChoice(fmt, forced)
        self.masking = masking
        self.markers = masking_rules.control_tokens(masking) if masking is not None else ()

    def check(self, batch: list[RawRecord]) -> BatchResult:
        findings: list[Finding] = []
        formats: Counter = Counter()
        problems: list[Problem] = []

        def report(code: str, path: str, message: str) -> None:
            problems.append(Problem(code, path, message))

        # Locals: this loop runs once per record, and attribute lookups add up.
        masking = self.masking
        read = self.choice.read
        unparsed: set[int] = set()  # records that did not parse have no digest
        to_encode: list[tuple[RawRecord, Sample]] = []
        digests = array("Q")
        for rec in batch:
            index, _, _, text, value = rec
            if value is UNPARSED:
                try:
                    value = parse(text)
                except ValueError as exc:
                    self._parse_failure(rec, exc, findings)
                    unparsed.add(index)
                    continue
            fmt, sample = read(value, problems)
            if fmt is not None:
                formats[fmt.name] += 1
            digests.append(digest(content_key(sample)) if sample is not None else digest(text.strip()))
            if sample is not None:
                check_sample(sample, fmt, report)
                if masking is not None:
                    masking_rules.check_text(sample, self.markers, report)
                    masking_rules.check_flags(sample, masking, report)
                    to_encode.append((rec, sample))
            if problems:
                self._add(rec, problems, findings)
                problems.clear()
        if to_encode:
            self._check_masks(to_encode, findings)
        parsed = [rec for rec in batch if rec.index not in unparsed] if unparsed else batch
        return BatchResult(len(batch), findings, digests.tobytes(),
                           array("q", map(_INDEX, parsed)).tobytes(), array("I", map(_LINE, parsed)).tobytes(),
                           array("I", map(_COLUMN, parsed)).tobytes(), formats)

    def _check_masks(self, records: list[tuple[RawRecord, Sample]], findings: list[Finding]) -> None:
        """M rules over a batch: one tokenizer call for all of it, findings merged in record order."""
        session = self.masking
        problems: list[Problem] = []

        def report(code: str, path: str, message: str) -> None:
            problems.append(Problem(code, path, message))

        try:
            encoded = session.encode_many([sample for _, sample in records])
        except DataforgeError:  # some sample cannot be laid out: find which, one by one
            encoded = []
            for _, sample in records:
                try:
                    encoded.append(session.encode(sample)[0])
                except DataforgeError:
                    encoded.append(None)
        for (rec, sample), enc in zip(records, encoded):
            if enc is None:
                report("M004", "$", f"template {session.template_name} cannot lay out this sample")
            else:
                masking_rules.check_encoded(sample, enc, session, report)
            if problems:
                self._add(rec, problems, findings)
                problems.clear()
        findings.sort(key=lambda f: -1 if f.location.record is None else f.location.record)

    def check_range(self, span: tuple[str, int, int]) -> BatchResult:
        """Check the JSON Lines in bytes [start, end) of a file, numbered from line 1, record 0."""
        path, start, end = span
        with open(path, "rb") as f:
            f.seek(start)
            data = f.read(end - start)
        records, newlines = jsonl_records(data)
        result = self.check(records)
        # Findings travel back as plain tuples: a NamedTuple with an enum inside is rebuilt
        # through Python calls when unpickled, which made the main process the bottleneck of a
        # file with a finding on every record. The main process builds each Finding once.
        packed = [(f.code, f.message, f.location.line, f.location.column, f.location.record, f.location.path)
                  for f in result.findings]
        return result._replace(findings=packed, line_count=newlines)

    def _parse_failure(self, rec: RawRecord, exc: ValueError, findings: list[Finding]) -> None:
        code, message, line, column = diagnose(rec.text, exc)
        if code in self.enabled:
            rule = RULES[code]
            if line == 1:
                column += rec.column - 1
            findings.append(Finding(code, rule.severity, message,
                                    Location(self.file, rec.line + line - 1, column, rec.index, "$"), rule.hint))

    def _add(self, rec: RawRecord, problems: list[Problem], findings: list[Finding]) -> None:
        # A field of the wrong type or missing is read as empty; rules that then see "empty" at
        # the same place would only repeat the problem, so they are left out.
        broken = tuple(p.path for p in problems if p.code in _SHAPE_ERRORS)
        for code, path, message in problems:
            if code not in self.enabled:
                continue
            if broken and code not in _SHAPE_ERRORS and any(_within(path, b) for b in broken):
                continue
            rule = RULES[code]
            line, column = locate(rec.text, path)
            if line == 0:
                column += rec.column - 1
            findings.append(_new_finding((code, rule.severity, message,
                                          _new_location((self.file, rec.line + line, column, rec.index, path)),
                                          rule.hint, rule.fixable)))


class Linter:
    """Lint files one after another; ``summary`` is complete once ``run`` is exhausted."""

    def __init__(self, options: LintOptions | None = None):
        self.options = options or LintOptions()
        self.enabled = self.options.enabled_codes()
        self.forced = None if self.options.format == "auto" else get_format(self.options.format)
        self.summary = Summary()
        self._names: list[str] = []  # files read, in order: the DigestStore numbers them so
        self._store = DigestStore() if {"D001", "D002"} & self.enabled else None
        self._sessions: dict[str, MaskingSession] = {}
        self._warned: list[MaskingSession] = []
        self._registries: set[Path] = set()  # dataset_info.json files already judged

    def run(self, paths: Iterable[str | os.PathLike]) -> Iterator[Finding]:
        with relaxed_gc():
            yield from self._run(dataset_files(paths))

    def _run(self, files: list[Path]) -> Iterator[Finding]:
        pool = None
        # Only JSON Lines are spread over processes: an array's record boundaries are found while
        # parsing, so its workers would parse everything twice.
        lines = [f for f in files if is_json_lines(f)]
        jobs = self.options.jobs or auto_jobs(lines)
        if jobs > 1 and lines:
            import multiprocessing
            import threading

            # Forking is the quick start, and safe in a process with one thread (the command
            # line). With other threads (a tokenizer's, an HTTP server's, an embedding program's)
            # a fork can copy a lock one of them holds, and the worker waits on it forever: then
            # workers start from a fork server, a few tenths of a second later.
            method = "fork" if threading.active_count() == 1 else "forkserver"
            pool = multiprocessing.get_context(method).Pool(jobs)
        try:
            for path in files:
                yield from self._count(self._lint_file(path, pool))
            yield from self._count(self._dataset_findings())
        finally:
            if pool is not None:
                pool.terminate()

    def _count(self, findings: Iterable[Finding]) -> Iterator[Finding]:
        for f in findings:
            self.summary.findings[f.code] += 1
            self.summary.severities[f.severity] += 1
            yield f

    def _file_finding(self, code: str, file: str, message: str, line: int = 0, column: int = 0) -> Iterator[Finding]:
        if code in self.enabled:
            rule = RULES[code]
            yield Finding(code, rule.severity, message, Location(file, line, column), rule.hint, rule.fixable)

    def _lint_file(self, path: Path, pool) -> Iterator[Finding]:
        name = str(path)
        self.summary.files += 1
        try:
            f, has_bom, foreign = open_records(path)
        except OSError as exc:
            raise DataforgeError(f"{name}: cannot read ({exc.strerror})") from None
        with f:
            self.summary.bytes += os.fstat(f.fileno()).st_size
            if foreign:
                yield from self._file_finding("E002", name, f"the file is {foreign}, not UTF-8", 1, 1)
                return
            if has_bom:
                yield from self._file_finding("E003", name, "the file starts with a UTF-8 byte-order mark", 1, 1)
            lines = is_json_lines(path)
            store, number = self._store, len(self._names)
            self._names.append(name)
            count = 0
            try:
                for result in self._check_batches(name, f, path, pool if lines else None):
                    count += result.records
                    if store is not None:
                        store.add(number, result.digests, result.indices, result.lines, result.columns)
                    self.summary.formats.update(result.formats)
                    yield from result.findings
            except StructureError as exc:
                yield from self._file_finding("E001", name, exc.message + "; records after this point were not read",
                                              exc.line, exc.column)
            except OSError as exc:
                raise DataforgeError(f"{name}: read failed ({exc.strerror})") from None
            self.summary.records += count
            if count == 0:
                yield from self._file_finding("E007", name, "the file holds no records")

    def _check_batches(self, name: str, f, path: Path, pool) -> Iterator[BatchResult]:
        """Batches of records through a RecordChecker; the first record fixes the file's format.

        With a pool, each worker reads a line-aligned byte range of the file itself (shipping
        the bytes through a pipe costs more than checking them); line and record numbers come
        back relative to the range and are shifted here, in order.
        """
        start = f.tell()
        batches = record_batches(path, f, BATCH)
        first_batch = next(batches, None)
        if first_batch is None:
            return
        fmt, first_findings = self._file_format(name, first_batch[0])
        first_findings += list(self._registry_findings(path, name, fmt))
        if fmt is not None and not fmt.conversational:
            first_findings += list(self._file_finding(
                "S007", name, f"{fmt.title.split(':')[0].lower()}: not conversations, so nothing can be masked by role",
                1, 1))
        masking = self._masking_session(fmt)
        if masking is not None:
            pool = None  # the tokenizer already encodes on every core
            split = masking_rules.split_markers(masking)
            if split and masking not in self._warned:  # said once per template, not per file
                self._warned.append(masking)
                first_findings += list(self._file_finding(
                    "M005", name, f"{masking.tokenizer.name} splits {', '.join(split)} of template "
                    f"{masking.template_name} into several tokens"))
        checker = RecordChecker(name, fmt, self.forced is not None, self.enabled, masking)
        if pool is None:
            first = checker.check(first_batch)
            yield first._replace(findings=first_findings + first.findings)
            yield from map(checker.check, batches)
            return
        yield BatchResult(0, first_findings, b"", b"", b"", b"", Counter())
        line = record = 0  # lines and records before the range being merged
        for result in pool.imap(checker.check_range, line_ranges(f, str(path), start)):
            yield _shifted(result, name, line, record)
            line += result.line_count
            record += result.records

    def _masking_session(self, fmt: Format | None) -> MaskingSession | None:
        """One masking session per template: the template given, or the one the format trains with."""
        options = self.options
        if not options.masking:
            return None
        from dataforge.masking.encode import EncodeOptions

        key = options.template or default_template_for(fmt.name if fmt else "")
        if key not in self._sessions:
            self._sessions[key] = MaskingSession.create(options.tokenizer, key, None, options.trust_remote_code,
                                                        EncodeOptions(max_len=options.max_len))
        return self._sessions[key]

    def _file_format(self, name: str, first: RawRecord) -> tuple[Format | None, list[Finding]]:
        try:
            value = first.value if first.value is not UNPARSED else parse(first.text)
        except ValueError:
            value = None
        choice, found = FormatChoice.for_file(value, self.forced)
        findings: list[Finding] = []
        if len(found) > 1 and "S002" in self.enabled:
            rule = RULES["S002"]
            findings.append(Finding("S002", rule.severity,
                                    "the first record fits " + ", ".join(f.name for f in found)
                                    + f"; reading the file as {found[0].name}",
                                    Location(name, first.line, first.column, 0), rule.hint))
        return choice.format, findings

    def _registry_findings(self, path: Path, name: str, fmt: Format | None) -> Iterator[Finding]:
        """S009: what a dataset_info.json beside the file says of it, against its records; and, once
        per registry, what is wrong with the registry itself."""
        registry = registry_beside(path)
        if registry is None or "S009" not in self.enabled:
            return
        if registry.path not in self._registries:
            self._registries.add(registry.path)
            for problem in registry.problems:
                yield from self._file_finding("S009", str(registry.path), f"{REGISTRY}: {problem}")
        entry = registry.entry_for(path)
        if entry is None:
            return
        expected = entry.expected_format()
        if expected is not None and fmt is not None and fmt.name != expected:
            yield from self._file_finding(
                "S009", name, f"{REGISTRY} entry {entry.name!r} reads this file as {expected}, but its records are "
                              f"{fmt.name}", 1, 1)

    def _dataset_findings(self) -> Iterator[Finding]:
        """D001 within a file, D002 across files, from the digests of every record read."""
        if self._store is None:
            return
        names = self._names
        for later, first in self._store.repeats():
            same_file = later.file == first.file
            code = "D001" if same_file else "D002"
            if code in self.enabled:
                rule = RULES[code]
                where = f"record {first.record}" + ("" if same_file else f" of {names[first.file]}")
                yield Finding(code, rule.severity, f"same record as {where}",
                              Location(names[later.file], later.line, later.column, later.record), rule.hint)


@contextmanager
def relaxed_gc():
    """Collect garbage less often while linting.

    Every record allocates dozens of short-lived containers; with the default thresholds the
    collector runs every few records and took 15% of lint's time. Nothing lint builds forms
    reference cycles that outlive a record, so rarer collections cost no memory. Objects alive
    before linting (imported modules and the like) are frozen so that full collections skip them.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def auto_jobs(files: list[Path]) -> int:
    """Every usable core for 32 MB of JSON Lines or more; below that, starting workers costs more
    than they save."""
    if sum(f.stat().st_size for f in files) < AUTO_JOBS_BYTES:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def _within(path: str, parent: str) -> bool:
    return path == parent or (path.startswith(parent) and path[len(parent)] in ".[")


def line_ranges(f, path: str, start: int) -> Iterator[tuple[str, int, int]]:
    """(path, start, end) byte ranges of about BLOCK bytes that begin and end at line starts."""
    size = os.fstat(f.fileno()).st_size
    while start < size:
        f.seek(min(start + BLOCK, size))
        f.readline()  # on to the start of the next line
        end = min(f.tell(), size)
        yield path, start, end
        start = end


def _shifted(result: BatchResult, file: str, lines: int, records: int) -> BatchResult:
    """A range's result with its packed findings built, line and record numbers made file-wide."""
    finding, location = _new_finding, _new_location
    findings = []
    for code, message, line, column, index, path in result.findings:
        rule = RULES[code]
        where = location((file, line + lines, column, None if index is None else index + records, path))
        findings.append(finding((code, rule.severity, message, where, rule.hint, rule.fixable)))
    return result._replace(findings=findings, lines=_plus(result.lines, "I", lines),
                           indices=_plus(result.indices, "q", records))


def _plus(raw: bytes, typecode: str, offset: int) -> bytes:
    numbers = array(typecode)
    numbers.frombytes(raw)
    return array(typecode, map(add, numbers, repeat(offset))).tobytes()


def fails(findings: Iterable[Finding], threshold: Severity) -> bool:
    return any(f.severity.rank >= threshold.rank for f in findings)


__all__ = ["FORMATS", "LintOptions", "Linter", "Summary", "dataset_files", "fails"]
