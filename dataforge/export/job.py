"""What every export target shares: a staging folder that reaches the output folder whole or not
at all, what the target could not carry, and the manifest.

Files are written into a hidden staging folder inside the output folder and moved into place
only when every one of them is complete; a run that is killed leaves the staging folder behind
and nothing else (the next export removes it). Files already in the output folder are replaced
only with ``force``, except a LLaMA-Factory dataset_info.json, which is merged (the target says
how).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dataforge import __version__
from dataforge.collect import Collected, Skipped
from dataforge.errors import DataforgeError
from dataforge.jsonio.layout import RecordWriter
from dataforge.jsonio.write import atomic_writer
from dataforge.model import Sample

MANIFEST_SUFFIX = ".manifest.json"
_STAGING = ".dataforge-export."
_PATHS = re.compile(r"\$[^\s,;:()]*")
#: why a KTO sample labelled undesirable never becomes a supervised example
UNDESIRABLE = "its KTO label is false (an undesirable reply), which a supervised example would teach"
# losses listed one by one in the manifest; beyond this, only counted
MAX_LISTED = 1000


@dataclass
class Output:
    file: str  # relative to the output folder
    records: int
    split: str  # "train" or "eval"
    sha256: str = ""
    info: dict = field(default_factory=dict)  # what else the target wants said of the file (its entry name)


@dataclass
class ExportResult:
    target: str
    folder: Path
    outputs: list[Output] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    lost: list[dict] = field(default_factory=list)  # {file, record, message}, the first MAX_LISTED
    lost_counts: Counter = field(default_factory=Counter)  # by message, with record paths elided
    lossy_records: int = 0
    config: list[str] = field(default_factory=list)  # lines to paste into the trainer's config
    manifest: Path | None = None

    @property
    def written(self) -> int:
        return sum(o.records for o in self.outputs)


class ExportJob:
    """One export in progress: the samples by split, the staging folder, and what was lost."""

    def __init__(self, target: str, folder: Path, name: str, splits: dict[str, list[Sample]],
                 collected: Collected, template: str | None, force: bool, options: dict | None = None):
        self.target, self.folder, self.name = target, folder, name
        self.options = options or {}  # target-specific choices (hf: parquet)
        self.splits, self.collected, self.template, self.force = splits, collected, template, force
        self.result = ExportResult(target, folder, skipped=list(collected.skipped))
        self.stage = folder / f"{_STAGING}{os.getpid()}.tmp"
        self._merged: set[str] = set()  # files the target merges with what is there (not replaced)

    # writing -----------------------------------------------------------------------------------

    def path(self, relative: str) -> Path:
        """Where to write ``relative`` now (inside the staging folder)."""
        if (self.folder / relative).exists() and not self.force and relative not in self._merged:
            raise DataforgeError(f"{self.folder / relative} exists", hint="pass --force to replace it")
        target = self.stage / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def merging(self, relative: str) -> None:
        """``relative`` is merged with the file already there; the target reads it itself."""
        self._merged.add(relative)

    def write_records(self, relative: str, split: str, records: Iterable[dict], lines: bool = True,
                      **info: Any) -> Output:
        count = 0
        with open(self.path(relative), "wb") as f:
            writer = RecordWriter(f, lines)
            for record in records:
                writer.write(record)
                count += 1
            writer.close()
        return self.add(relative, count, split, **info)

    def add(self, relative: str, records: int, split: str, **info: Any) -> Output:
        output = Output(relative, records, split, info=info)
        self.result.outputs.append(output)
        return output

    def converted(self, samples: Iterable[Sample], write) -> Iterable[dict]:
        """``write(sample) -> (record | None, losses)`` over ``samples``, noting every loss; a None
        record is a sample the target cannot hold at all (the first loss says why)."""
        for sample in samples:
            record, losses = write(sample)
            if record is None:
                self.skip(sample, losses[0] if losses else "the target cannot hold it")
                continue
            if losses:
                self.lose(sample, losses)
            yield record

    def lose(self, sample: Sample, losses: list[str]) -> None:
        self.result.lossy_records += 1
        meta = sample.meta or {}
        for message in losses:
            self.result.lost_counts[_PATHS.sub("$…", message)] += 1
            if len(self.result.lost) < MAX_LISTED:
                self.result.lost.append({"file": meta.get("file"), "record": meta.get("record"), "message": message})

    def skip(self, sample: Sample, why: str) -> None:
        meta = sample.meta or {}
        self.result.skipped.append(Skipped(meta.get("file", "?"), meta.get("record"), meta.get("line", 0),
                                           f"{self.target} cannot hold it: {why}"))

    # finishing ---------------------------------------------------------------------------------

    def __enter__(self) -> ExportJob:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataforgeError(f"{self.folder}: cannot create the folder ({exc.strerror})") from None
        if not self.folder.is_dir():
            raise DataforgeError(f"{self.folder}: not a folder")
        remove_stale_stages(self.folder)
        try:
            self.stage.mkdir()
        except OSError as exc:
            raise DataforgeError(f"{self.folder}: cannot write here ({exc.strerror})") from None
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self._commit()
        shutil.rmtree(self.stage, ignore_errors=True)

    def _commit(self) -> None:
        result = self.result
        for output in result.outputs:
            output.sha256 = _digest_tree(self.stage / output.file)
        result.manifest = self.folder / f"{self.name}{MANIFEST_SUFFIX}"
        with open(self.path(result.manifest.name), "wb") as f:
            f.write(json.dumps(self.manifest(), ensure_ascii=False, indent=2).encode() + b"\n")
        # Data first, merged registries and the manifest last: a reader that sees the new registry
        # entry finds its file complete.
        last = {*self._merged, result.manifest.name}
        entries = sorted(self.stage.iterdir(), key=lambda p: (p.name in last, p.name))
        for entry in entries:
            _replace(entry, self.folder / entry.name, self.stage)

    def manifest(self) -> dict:
        r, c = self.result, self.collected
        return {
            "dataforge": __version__, "target": self.target, "name": self.name,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "template": self.template,
            "inputs": [{"file": str(p), "sha256": _digest_tree(p)} for p in c.files],
            "records_read": c.records,
            "outputs": [{"file": o.file, "split": o.split, "records": o.records, "sha256": o.sha256, **o.info}
                        for o in r.outputs],
            "skipped": [{"file": s.file, "record": s.record, "line": s.line, "why": s.why} for s in r.skipped],
            "lost": {"records": r.lossy_records, "by_message": dict(r.lost_counts.most_common()), "first": r.lost},
            "lint": {"errors": dict(c.errors), "warnings": dict(c.warnings)},
        }


def _replace(source: Path, target: Path, stage: Path) -> None:
    """Move ``source`` over ``target``; a folder is swapped whole (the old one removed after)."""
    if source.is_dir() and target.is_dir() and not target.is_symlink():
        old = stage.with_name(stage.name + ".old-" + target.name)
        os.replace(target, old)
        os.replace(source, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, target)


def _digest_tree(path: Path) -> str:
    """sha256 of a file, or of a folder's files (names and contents, in name order)."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            h.update(str(file.relative_to(path)).encode() + b"\0")
        with open(file, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def remove_stale_stages(folder: Path) -> None:
    """Staging folders left by exports that were killed (their process is gone)."""
    for entry in folder.glob(f"{_STAGING}*.tmp*"):
        pid = entry.name[len(_STAGING):].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_json(path: Path, value: Any) -> None:
    with atomic_writer(path) as f:
        f.write(json.dumps(value, ensure_ascii=False, indent=2).encode() + b"\n")
