"""Hand a validated set to training: `dataforge export DATA... --to TARGET -o DIR`.

Lint first (a set with errors is refused, or its bad records skipped with --skip-bad), an
optional eval split with `dataforge split`'s semantics (no repeat crosses it), then the target's
files, a manifest (NAME.manifest.json: inputs and outputs with digests, what was skipped and
lost, lint's counts, the dataforge version), all moved into DIR only once complete.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from dataforge.collect import Collected, collect
from dataforge.errors import DataforgeError
from dataforge.export import chatglm3, hf, llamafactory, openai_ft
from dataforge.export.job import ExportJob, ExportResult
from dataforge.lint.engine import LintOptions


class Target(NamedTuple):
    name: str
    title: str
    write: Callable[[ExportJob], None]


TARGETS = {t.name: t for t in (
    Target("llamafactory", llamafactory.TITLE, llamafactory.write),
    Target("hf", hf.TITLE, hf.write),
    Target("openai", openai_ft.TITLE, openai_ft.write),
    Target("chatglm3", chatglm3.TITLE, chatglm3.write),
    Target("chatglm3-io", chatglm3.TITLE_IO, chatglm3.write_io),
)}


def get_target(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise DataforgeError(f"unknown export target {name!r}", hint="targets: " + ", ".join(TARGETS)) from None


def dataset_name(text: str) -> str:
    """A name LLaMA-Factory and the Hub take: letters, digits, _ . - only."""
    name = re.sub(r"[^\w.-]+", "_", text).strip("._-")
    if not name:
        raise DataforgeError(f"{text!r} is not usable as a dataset name", hint="pass --name")
    return name


def export(paths: Iterable[str], target: str, out: str | Path, *, name: str | None = None,
           eval_size: float | int | None = None, seed: int = 0, stratify: bool = False, skip_bad: bool = False,
           template: str | None = None, force: bool = False, options: dict | None = None,
           lint_options: LintOptions | None = None, collected: Collected | None = None) -> ExportResult:
    """Export the samples of ``paths`` (or an already ``collected`` set) to ``out`` as ``target``."""
    from dataforge.split import split_samples

    chosen = get_target(target)
    paths = list(paths)
    if collected is None:
        collected = collect(paths, skip_bad=skip_bad, options=lint_options)
    if not collected.samples:
        raise DataforgeError("no samples to export", hint="every record was left out; `dataforge lint` says why")
    name = dataset_name(name or Path(paths[0]).stem.split(".")[0] if paths else name or "dataset")
    splits = {"train": collected.samples}
    if eval_size is not None:
        split = split_samples(collected.samples, eval_size, seed, stratify)
        splits = {"train": [collected.samples[i] for i in split.train],
                  "eval": [collected.samples[i] for i in split.eval]}
    with ExportJob(target, Path(out), name, splits, collected, template, force, options) as job:
        chosen.write(job)
    return job.result
