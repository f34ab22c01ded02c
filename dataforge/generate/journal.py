"""The append-only journal of a generation job: what was asked, answered, kept and rejected.

Each event is one JSON line, written through to the operating system before the job goes on, so
a run killed at any moment (kill -9 included) resumes from it: a chunk whose reply is journaled
is never requested again, and the output is rebuilt from the journal, so no record is lost or
written twice. A torn last line (the kill came mid-write) is ignored. The file is fsync'ed every
few events and at the end: a power cut may lose the latest events, never corrupt earlier ones.
API keys never reach it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dataforge.errors import DataforgeError


class Journal:
    def __init__(self, path: Path, job: dict):
        self.path = path
        self.events: list[dict] = []
        if path.exists():
            self.events = _read(path)
            started = next((e for e in self.events if e.get("event") == "start"), None)
            if started is not None and started.get("job") != job:
                raise DataforgeError(f"{path} belongs to a different job (other sources, format or model)",
                                     hint="pass --fresh to start over, or another -o output")
        self._file = open(path, "a", encoding="utf-8")
        if not self.events:
            self.write({"event": "start", "job": job})

    SYNC_EVERY = 32

    def write(self, event: dict[str, Any]) -> None:
        self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
        self._file.flush()  # in the OS now: survives the process being killed
        self.events.append(event)
        if len(self.events) % self.SYNC_EVERY == 0:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def finished(self) -> dict[str, dict]:
        """chunk id -> its final event ("records": kept, possibly none, and rejected ones)."""
        return {e["chunk"]: e for e in self.events if e.get("event") == "records"}

    def replies(self) -> dict[str, list[dict]]:
        """chunk id -> the replies journaled for it since it last finished, oldest first: the
        replies of an attempt that was cut off, to replay; a finished attempt's are spent."""
        out: dict[str, list[dict]] = {}
        for e in self.events:
            if e.get("event") == "reply":
                out.setdefault(e["chunk"], []).append(e)
            elif e.get("event") == "records":
                out.pop(e["chunk"], None)
        return out


def _read(path: Path) -> list[dict]:
    events, good = [], 0
    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                break  # a torn last line from a killed run: everything before it stands
            good += len(line)
            try:
                event = json.loads(line)
            except (ValueError, RecursionError):
                continue  # a damaged line (an edit, a disk fault): the chunk it spoke of is asked again
            if _well_formed(event):
                events.append(event)
    if path.stat().st_size != good:  # cut the torn tail, so new events start on a line of their own
        with open(path, "r+b") as f:
            f.truncate(good)
    return events


def _well_formed(event) -> bool:
    """An event this module wrote: anything else is skipped rather than trusted."""
    if type(event) is not dict:
        return False
    kind = event.get("event")
    if kind == "start":
        return True
    if type(event.get("chunk")) is not str:
        return False
    if kind == "reply":
        return type(event.get("text")) is str and type(event.get("refusal")) in (str, type(None))
    if kind == "records":
        return (type(event.get("records")) is list and all(type(r) is dict for r in event["records"])
                and type(event.get("rejects", [])) is list and all(type(r) is dict for r in event.get("rejects", [])))
    return False
