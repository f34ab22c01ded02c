"""LLaMA-Factory's dataset registry, data/dataset_info.json: which files are datasets, and how
LLaMA-Factory reads each one (its `formatting`, `ranking`, `columns` and `tags`).

dataforge reads it as LLaMA-Factory's documentation states it:

- `formatting` is "alpaca" (the default when absent), "sharegpt" or "openai"; LLaMA-Factory
  reads any other value as alpaca, which then fails on the first record (KeyError: 'instruction').
- alpaca columns default to prompt=instruction, query=input, response=output, history, system;
  sharegpt to messages=conversations, system, tools, and its tags to role_tag=from,
  content_tag=value, user_tag=human, assistant_tag=gpt, observation_tag=observation,
  function_tag=function_call, system_tag=system. openai is sharegpt with messages=messages and
  the tags role, content, user, assistant, tool (observation), function_call, system.
- `ranking: true` marks preference pairs (chosen/rejected columns); a `kto_tag` column KTO data.

An entry whose columns and tags are those of one of dataforge's formats names that format for its
file; lint reads the file as it and says when the records are laid out otherwise (S009), which is
what makes LLaMA-Factory fail or skip rows. Entries with renamed columns name no format: their
files are read by their own keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REGISTRY = "dataset_info.json"
FORMATTINGS = ("alpaca", "sharegpt", "openai")

ALPACA_COLUMNS = {"prompt": "instruction", "query": "input", "response": "output", "history": "history",
                   "system": "system"}
SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                  "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"}
OPENAI_TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
                "observation_tag": "tool", "function_tag": "function_call", "system_tag": "system"}
# Columns that carry no layout of their own: any format keeps them under these names.
_NEUTRAL_COLUMNS = {"images", "videos", "audios", "kto_tag", "tools", "system"}


@dataclass(frozen=True)
class Entry:
    name: str
    file: Path
    formatting: str = "alpaca"
    ranking: bool = False
    columns: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)

    def expected_format(self) -> str | None:
        """The dataforge format LLaMA-Factory's reading of this entry amounts to, or None."""
        formatting = self.formatting if self.formatting in FORMATTINGS else "alpaca"  # as LLaMA-Factory does
        columns = {k: v for k, v in self.columns.items() if k not in _NEUTRAL_COLUMNS}
        if formatting == "alpaca":
            # columns alpaca does not use (a `messages` left from sharegpt) change nothing
            if self.ranking or any(ALPACA_COLUMNS[k] != v for k, v in columns.items() if k in ALPACA_COLUMNS):
                return None
            return "alpaca"
        messages = columns.pop("messages", "conversations" if formatting == "sharegpt" else "messages")
        columns.pop("chosen", None), columns.pop("rejected", None)
        if columns:
            return None
        tags = {**(SHAREGPT_TAGS if formatting == "sharegpt" else OPENAI_TAGS), **self.tags}
        if messages == "conversations" and tags == SHAREGPT_TAGS:
            return "sharegpt-preference" if self.ranking else "sharegpt"
        if messages == "messages" and all(tags[k] == OPENAI_TAGS[k] for k in ("role_tag", "content_tag",
                                                                              "user_tag", "assistant_tag")):
            return None if self.ranking else "openai"
        return None


@dataclass
class Registry:
    path: Path
    entries: list[Entry]
    problems: list[str]  # what is wrong with the registry itself, one sentence each

    def entry_for(self, file: Path) -> Entry | None:
        target = _key(file)
        return next((e for e in self.entries if _key(e.file) == target), None)


def _key(path: Path) -> str:
    return str(path.resolve())


def read_registry(path: Path) -> Registry:
    """The entries of a dataset_info.json that name local files, and what is wrong with it."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return Registry(path, [], [f"cannot be read ({exc})"])
    if type(raw) is not dict:
        return Registry(path, [], ["must map dataset names to their entries"])
    entries, problems = [], []
    for name, value in raw.items():
        if type(value) is not dict:
            problems.append(f"entry {name!r} is not an object")
            continue
        file_name = value.get("file_name")
        if type(file_name) is not str:
            continue  # a hub or script dataset: nothing local to read
        formatting = value.get("formatting", "alpaca")
        if formatting not in FORMATTINGS:
            problems.append(f"entry {name!r} has formatting {formatting!r}; LLaMA-Factory reads it as alpaca "
                            f"(known: {', '.join(FORMATTINGS)})")
        if not (path.parent / file_name).exists():
            problems.append(f"entry {name!r} names {file_name!r}, which is not beside it")
        columns = value.get("columns") if type(value.get("columns")) is dict else {}
        tags = value.get("tags") if type(value.get("tags")) is dict else {}
        entries.append(Entry(name, path.parent / file_name, formatting if type(formatting) is str else "?",
                             value.get("ranking") is True, columns, tags))
    return Registry(path, entries, problems)


@lru_cache(maxsize=64)
def _registry_in(folder: str, mtime: float) -> Registry:
    return read_registry(Path(folder) / REGISTRY)


def registry_beside(file: Path) -> Registry | None:
    """The dataset_info.json in ``file``'s folder or the folder above (a dataset folder of its
    own), if there is one."""
    for folder in (file.parent, file.parent.parent):
        candidate = folder / REGISTRY
        try:
            mtime = candidate.stat().st_mtime
        except OSError:
            continue
        registry = _registry_in(str(folder), mtime)
        if registry.entry_for(file) is not None or folder == file.parent:
            return registry
    return None
