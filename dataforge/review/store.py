"""The reviewer's decisions and edits, appended as they happen to a log beside the dataset:
``.dataforge/NAME.review.jsonl`` in the dataset's folder (a hidden folder, so `dataforge lint`
and the app's file list pass it over).

The dataset file itself is never rewritten. Each action is one JSON line flushed at once, so a
crash or a closed terminal loses nothing; a line cut by a kill or a full disk is dropped and the
log carries on after it. The current state is the fold of the log, and undo is an event of its
own (the log only grows).

Every action names its record by position and by the record's own digest (``id``). When the
dataset has changed since (a record inserted above, the file regenerated), an action follows the
record with its digest, and an action whose record is gone is set aside (``orphaned``), never
applied to whatever now sits at its old position.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ACCEPTED, REJECTED, PENDING = "accepted", "rejected", "pending"


@dataclass(frozen=True)
class State:
    decision: str = PENDING
    edited: dict | None = None  # the record as the reviewer edited it


def log_path(dataset_path: str | Path) -> Path:
    dataset_path = Path(dataset_path)
    return dataset_path.parent / ".dataforge" / (dataset_path.name + ".review.jsonl")


class ReviewStore:
    def __init__(self, dataset_path: str | Path, ids: Callable[[int], str] | None = None, size: int | None = None):
        """``ids`` gives a record's digest by position (``size`` records): with it, actions follow
        their records when the dataset has changed since they were made."""
        self.path = log_path(dataset_path)
        old = Path(str(dataset_path) + ".review.jsonl")  # where earlier versions kept the log
        if old.is_file() and not self.path.exists():
            self.path.parent.mkdir(exist_ok=True)
            old.replace(self.path)
        self.orphaned: list[dict] = []  # actions whose record is no longer in the dataset
        self._actions: list[dict] = []  # the effective history, undo applied
        if self.path.exists():
            for event in _read(self.path):
                if event.get("event") == "undo":
                    if self._actions:
                        self._actions.pop()
                else:
                    self._actions.append(event)
        self._file = None  # opened at the first decision: looking at a dataset leaves no file behind
        self._state: dict[int, State] = {}
        if ids is not None and size is not None:
            self.follow(ids, size)
        else:
            for action in self._actions:
                self._apply(action)

    def follow(self, ids: Callable[[int], str], size: int) -> None:
        """Re-point every action at its record (by digest) in a dataset of ``size`` records, and
        rebuild the state. The app calls it once the dataset's index is complete: until then the
        actions stand at their recorded positions."""
        self._actions = self._follow(self._actions, ids, size)
        self._state = {}
        for action in self._actions:
            self._apply(action)

    def _follow(self, actions: list[dict], ids: Callable[[int], str], size: int) -> list[dict]:
        """Actions re-pointed at the record with their digest where their position now holds another."""
        where: dict[str, list[int]] = {}  # digest -> positions, filled once, only when something moved

        def place(index, digest) -> int | None:
            """Where the record an action named now is; None when it is gone."""
            if digest is None or (type(index) is int and 0 <= index < size and ids(index) == digest):
                return index
            if not where:
                for i in range(size):
                    where.setdefault(ids(i), []).append(i)
            candidates = where.get(digest)
            if not candidates:
                return None
            return min(candidates, key=lambda i: abs(i - index) if type(index) is int else i)

        kept = []
        for action in actions:
            if action.get("event") == "bulk":
                moved = []
                for index, digest in zip(action.get("records", []), action.get("ids", [])):
                    found = place(index, digest)
                    if found is None:
                        self.orphaned.append({"event": "decide", "record": index, "id": digest})
                    else:
                        moved.append(found)
                kept.append({**action, "records": moved})
                continue
            found = place(action.get("record"), action.get("id"))
            if found is None:
                self.orphaned.append(action)
            else:
                kept.append(action if found == action.get("record") else {**action, "record": found})
        return kept

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def _write(self, event: dict[str, Any]) -> None:
        if self._file is None:
            self.path.parent.mkdir(exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")
        event["time"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def _apply(self, action: dict) -> None:
        if action["event"] == "bulk":  # one event for many records: kept or undone as one
            for index in action["records"]:
                self._state[index] = State(action["decision"], self._state.get(index, State()).edited)
            return
        index = action["record"]
        state = self._state.get(index, State())
        if action["event"] == "decide":
            state = State(action["decision"], state.edited)
        elif action["event"] == "edit":
            state = State(state.decision, action["value"])
        self._state[index] = state

    def _act(self, action: dict) -> None:
        self._write(dict(action))
        self._actions.append(action)
        self._apply(action)

    def decide(self, index: int, sample_id: str, decision: str) -> None:
        self._act({"event": "decide", "record": index, "id": sample_id, "decision": decision})

    def decide_many(self, indices: list[int], sample_ids: list[str], decision: str) -> None:
        """One decision for many records (the shown ones), written as one line: a kill mid-write
        loses all of it or none, and one undo takes it back."""
        self._act({"event": "bulk", "records": list(indices), "ids": list(sample_ids), "decision": decision})

    def edit(self, index: int, sample_id: str, value: dict) -> None:
        self._act({"event": "edit", "record": index, "id": sample_id, "value": value})

    def undo(self) -> int | None:
        """Take back the latest action; returns the record it concerned."""
        if not self._actions:
            return None
        self._write({"event": "undo"})
        undone = self._actions.pop()
        self._state = {}
        for action in self._actions:
            self._apply(action)
        return undone["records"][0] if undone["event"] == "bulk" and undone["records"] else undone.get("record")

    def edited(self) -> list[int]:
        """The records the reviewer has edited."""
        return [i for i, s in self._state.items() if s.edited is not None]

    def state(self, index: int) -> State:
        return self._state.get(index, State())

    def counts(self, total: int) -> dict[str, int]:
        accepted = sum(1 for s in self._state.values() if s.decision == ACCEPTED)
        rejected = sum(1 for s in self._state.values() if s.decision == REJECTED)
        return {ACCEPTED: accepted, REJECTED: rejected, PENDING: total - accepted - rejected}


def _read(path: Path) -> list[dict]:
    """The log's events. A line that is not an event (damaged, or cut by a kill or a full disk) is
    skipped; a cut last line is removed, so the next event starts a line of its own."""
    events, good = [], 0
    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                break
            good += len(line)
            try:
                event = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if type(event) is dict and (event.get("event") == "undo" or type(event.get("record")) is int
                                        or (event.get("event") == "bulk" and type(event.get("records")) is list)):
                events.append(event)
    if path.stat().st_size != good:
        with open(path, "r+b") as f:
            f.truncate(good)
    return events
