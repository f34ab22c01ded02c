"""The samples of several dataset files, for the commands that hand them on (export, mix, split),
after lint has judged them.

Lint runs first, with the project's settings. A set with errors is refused: ``Refused`` carries
the error findings for the command to print. With ``skip_bad`` the records with errors are left
out instead and listed (a file whose trouble is the file itself, such as a broken array, is left
out whole). Warnings never stop anything; they are counted for the manifest and the dataset card.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dataforge.convert import read_samples
from dataforge.errors import DataforgeError, ExitCode
from dataforge.lint.engine import Linter, LintOptions, dataset_files
from dataforge.lint.findings import Finding, Severity
from dataforge.model import Sample


class Refused(DataforgeError):
    """The set has errors; ``findings`` are lint's error findings, in file order."""

    def __init__(self, findings: list[Finding]):
        records = len({(f.location.file, f.location.record) for f in findings})
        super().__init__(f"lint finds {len(findings)} error(s) in {records} record(s); nothing was written",
                         hint="fix them (`dataforge lint --fix` fixes some), or pass --skip-bad to leave those "
                              "records out", exit_code=ExitCode.FINDINGS)
        self.findings = findings


@dataclass
class Skipped:
    file: str
    record: int | None  # None: the whole file
    line: int
    why: str


@dataclass
class Collected:
    """Samples in file order; each one's ``meta`` says file, record, line and format."""

    samples: list[Sample] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    records: int = 0  # records read, including the skipped ones
    warnings: Counter = field(default_factory=Counter)  # lint's warnings by code
    errors: Counter = field(default_factory=Counter)  # lint's errors by code (skipped records)

    @property
    def formats(self) -> Counter:
        return Counter(s.meta["format"] for s in self.samples)


def collect(paths: Iterable[str], skip_bad: bool = False, options: LintOptions | None = None,
            lint: bool = True) -> Collected:
    """Lint ``paths`` (files, folders, dataset_info.json) and read their samples."""
    from dataforge.lint.record import project_options

    paths = list(paths)
    files = dataset_files(paths)
    result = Collected(files=files)
    bad: dict[str, dict[int | None, list[Finding]]] = defaultdict(dict)
    if lint:
        errors: list[Finding] = []
        for f in Linter(options or project_options()).run(paths):
            if f.severity is Severity.ERROR:
                errors.append(f)
                bad[f.location.file].setdefault(f.location.record, []).append(f)
                result.errors[f.code] += 1
            else:
                result.warnings[f.code] += 1
        if errors and not skip_bad:
            raise Refused(errors)
    for path in files:
        name = str(path)
        judged = bad.get(name, {})
        if None in judged:
            why = "; ".join(f"{f.code} {f.message}" for f in judged[None])
            result.skipped.append(Skipped(name, None, 0, why))
            continue
        for index, line, sample, why in read_samples(path):
            result.records += 1
            found = judged.get(index)
            if found:
                why = "; ".join(f"{f.code} {f.message}" for f in found)
            if sample is None or found:
                result.skipped.append(Skipped(name, index, line, why))
                continue
            sample.meta["line"] = line
            result.samples.append(sample)
    return result
