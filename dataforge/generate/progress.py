"""A live progress line for generation on stderr: chunks done, failed, retried, records, tokens."""

from __future__ import annotations

from typing import TextIO


class ProgressDisplay:
    def __init__(self, out: TextIO, label: str):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.counts = {"kept": 0, "failed": 0, "retried": 0, "rejected": 0}
        self._progress = Progress(TextColumn(f"[bold]{label}[/]"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                                  console=Console(file=out), transient=False)
        self._task = None

    def __enter__(self) -> ProgressDisplay:
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

    def update(self, name: str, data: dict) -> None:
        if name == "start":
            self._task = self._progress.add_task("chunks", total=data["chunks"], completed=data["resumed"],
                                                 status=self._status())
            return
        if name == "chunk":
            self.counts["kept"] += data["kept"]
            self.counts["rejected"] += data["rejected"]
            self.counts["failed"] += data["failed"]
        elif name in ("retry", "reask"):
            self.counts["retried"] += 1
        if self._task is not None:
            self._progress.update(self._task, advance=1 if name == "chunk" else 0, status=self._status())

    def _status(self) -> str:
        c = self.counts
        return f"records {c['kept']} · rejected {c['rejected']} · failed {c['failed']} · retried {c['retried']}"
