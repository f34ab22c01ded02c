"""The reviewer's decisions and edits, appended as they happen to DATASET.review.jsonl.

The dataset file itself is never rewritten. Each action is one JSON line flushed at once, so a
crash or a closed terminal loses nothing; the current state is the fold of the log, and undo is
an event of its own (the log only grows).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ACCEPTED, REJECTED, PENDING = "accepted", "rejected", "pending"


@dataclass(frozen=True)
class State:
    decision: str = PENDING
    edited: dict | None = None  # the record as the reviewer edited it


class ReviewStore:
    def __init__(self, dataset_path: str | Path):
        self.path = Path(str(dataset_path) + ".review.jsonl")
        self._actions: list[dict] = []  # the effective history, undo applied
        if self.path.exists():
            for event in _read(self.path):
                if event.get("event") == "undo":
                    if self._actions:
                        self._actions.pop()
                else:
                    self._actions.append(event)
        self._file = open(self.path, "a", encoding="utf-8")
        self._state: dict[int, State] = {}
        for action in self._actions:
            self._apply(action)

    def close(self) -> None:
        self._file.close()

    def _write(self, event: dict[str, Any]) -> None:
        event["time"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def _apply(self, action: dict) -> None:
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
        return undone["record"]

    def state(self, index: int) -> State:
        return self._state.get(index, State())

    def counts(self, total: int) -> dict[str, int]:
        accepted = sum(1 for s in self._state.values() if s.decision == ACCEPTED)
        rejected = sum(1 for s in self._state.values() if s.decision == REJECTED)
        return {ACCEPTED: accepted, REJECTED: rejected, PENDING: total - accepted - rejected}


def _read(path: Path) -> list[dict]:
    events = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line cut by a crash: what came before stands
    return events
