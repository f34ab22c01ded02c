"""LLaMA-Factory: data files and their dataset_info.json entries.

Each kind of sample gets a file and an entry that reads it as LLaMA-Factory expects:

- supervised conversations: ShareGPT (`formatting: sharegpt`, columns conversations, system,
  tools; role tags human, gpt, observation, function_call, system), or Alpaca when every sample
  came from Alpaca records (plain instruction data stays as its users know it);
- preference pairs: ShareGPT with `ranking: true` and chosen/rejected columns (stage dpo, rm);
- KTO samples (a boolean `label`): ShareGPT with a `kto_tag` column (stage kto);
- pre-training text: a `text` column read as the prompt (stage pt).

One kind gets the entry NAME; several get NAME_sft, NAME_dpo, NAME_kto, NAME_pt. An eval split
gets NAME_eval (NAME_dpo_eval ...). The entries are merged into a dataset_info.json already in
the folder by splicing its text: every other entry keeps its bytes, and an entry of the same name
is replaced only with --force.
"""

from __future__ import annotations

import json
from collections import defaultdict

from dataforge.errors import DataforgeError
from dataforge.export.job import ExportJob
from dataforge.formats import get_format
from dataforge.formats.base import LABEL
from dataforge.formats.registry import ALPACA_COLUMNS, REGISTRY, SHAREGPT_TAGS
from dataforge.model import Sample

TITLE = "LLaMA-Factory: data files + dataset_info.json entries (merged into one already there)"
# dataforge template -> LLaMA-Factory's template name
TEMPLATES = {"chatglm3": "chatglm3", "baichuan2": "baichuan2", "llama2": "llama2", "llama3": "llama3",
             "qwen": "qwen", "qwen2.5": "qwen", "alpaca": "alpaca"}
_STAGES = {"sft": "sft", "dpo": "dpo", "kto": "kto", "pt": "pt"}


def kind(sample: Sample) -> str:
    fmt = get_format(sample.meta["format"]) if sample.meta else None
    if fmt is not None and not fmt.conversational:
        return "pt"
    if sample.is_preference:
        return "dpo"
    if type((sample.extra or {}).get(LABEL)) is bool:
        return "kto"
    return "sft"


def write(job: ExportJob) -> None:
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for split, samples in job.splits.items():
        for s in samples:
            groups[(kind(s), split)].append(s)
    kinds = sorted({k for k, _ in groups}, key=list(_STAGES).index)
    entries: dict[str, dict] = {}
    names: dict[str, dict[str, str]] = defaultdict(dict)  # kind -> split -> entry name
    for (k, split), samples in sorted(groups.items(), key=lambda kv: (list(_STAGES).index(kv[0][0]), kv[0][1] == "eval")):
        entry = job.name if len(kinds) == 1 else f"{job.name}_{k}"
        entry += "_eval" if split == "eval" else ""
        names[k][split] = entry
        layout, value = _layout(k, samples, f"{entry}.jsonl")
        fmt = get_format(layout)
        job.write_records(f"{entry}.jsonl", split, job.converted(samples, fmt.write), entry=entry)
        entries[entry] = value
    job.merging(REGISTRY)
    existing = job.folder / REGISTRY
    text = existing.read_text(encoding="utf-8") if existing.exists() else None
    merged = merge_entries(text, entries, replace=job.force)
    with open(job.path(REGISTRY), "w", encoding="utf-8") as f:
        f.write(merged)
    template = TEMPLATES.get(job.template or "")
    for k in kinds:
        lines = [f"stage: {_STAGES[k]}", f"dataset_dir: {job.folder.resolve()}", f"dataset: {names[k]['train']}"]
        if "eval" in names[k]:
            lines.append(f"eval_dataset: {names[k]['eval']}")
        if template:
            lines.append(f"template: {template}")
        elif job.template:
            lines.append(f"# template: LLaMA-Factory has no template named {job.template!r}; choose its own")
        if k == "pt":
            lines.append("# cutoff_len: pre-training text is packed to this length")
        job.result.config.extend([f"# {k}", *lines])


def _layout(k: str, samples: list[Sample], file_name: str) -> tuple[str, dict]:
    """The dataforge format to write and the dataset_info.json entry that reads it."""
    if k == "pt":
        return "text", {"file_name": file_name, "columns": {"prompt": "text"}}
    if k == "sft" and all(s.meta["format"] == "alpaca" for s in samples):
        return "alpaca", {"file_name": file_name, "formatting": "alpaca", "columns": dict(ALPACA_COLUMNS)}
    columns = {"messages": "conversations", "system": "system", "tools": "tools"}
    entry = {"file_name": file_name, "formatting": "sharegpt"}
    if k == "dpo":
        entry["ranking"] = True
        columns.update(chosen="chosen", rejected="rejected")
    if k == "kto":
        columns["kto_tag"] = LABEL
    entry.update(columns=columns, tags=dict(SHAREGPT_TAGS))
    return ("sharegpt-preference" if k == "dpo" else "sharegpt"), entry


def merge_entries(text: str | None, entries: dict[str, dict], replace: bool = False) -> str:
    """``text`` (a dataset_info.json, or None for none) with ``entries`` added or replaced.

    Only the spans of replaced entries and the end of the object change: the other entries keep
    every byte (spacing, key order, number spellings, escapes)."""
    if text is None or not text.strip():
        body = ",\n".join(f'  {json.dumps(k, ensure_ascii=False)}: {_dump(v, "  ")}' for k, v in entries.items())
        return "{\n" + body + "\n}\n"
    try:
        current = json.loads(text)
    except ValueError as exc:
        raise DataforgeError(f"{REGISTRY} is not valid JSON ({exc}); it was left as it is") from None
    if type(current) is not dict:
        raise DataforgeError(f"{REGISTRY} must be an object mapping dataset names to entries; it was left as it is")
    clash = [k for k in entries if k in current]
    if clash and not replace:
        raise DataforgeError(f"{REGISTRY} already has an entry {clash[0]!r}",
                             hint="pass --force to replace it, or --name to choose another name")
    spans = _member_spans(text)
    indent = _indent(text, spans)
    out, cursor = [], 0
    for name, (start, end) in spans.items():
        if name in entries:
            out.append(text[cursor:start] + _dump(entries[name], indent))
            cursor = end
    added = [k for k in entries if k not in spans]
    close = text.rindex("}")
    out.append(text[cursor:close].rstrip() if added else text[cursor:close])
    if added:
        separator = "," if spans else ""
        out.append(separator + "".join(f"\n{indent}{json.dumps(k, ensure_ascii=False)}: {_dump(entries[k], indent)}"
                                       + ("," if i < len(added) - 1 else "") for i, k in enumerate(added)) + "\n")
    out.append(text[close:])
    return "".join(out)


def _member_spans(text: str) -> dict[str, tuple[int, int]]:
    """Top-level member name -> (start, end) of its value in ``text``."""
    decoder = json.JSONDecoder()
    pos = text.index("{") + 1
    spans: dict[str, tuple[int, int]] = {}

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    pos = skip(pos)
    if text[pos] == "}":
        return spans
    while True:
        key, pos = decoder.raw_decode(text, skip(pos))
        pos = skip(pos) + 1  # the colon
        start = skip(pos)
        _, end = decoder.raw_decode(text, start)
        spans[key] = (start, end)
        pos = skip(end)
        if text[pos] == "}":
            return spans
        pos += 1  # the comma


def _indent(text: str, spans: dict[str, tuple[int, int]]) -> str:
    """The indentation of the file's top-level names (two spaces when it has none)."""
    for start, _ in spans.values():
        line_start = text.rfind("\n", 0, start) + 1
        line = text[line_start:start]
        return line[:len(line) - len(line.lstrip())] or "  "
    return "  "


def _dump(value: dict, indent: str) -> str:
    """``value`` as JSON indented one step per level, nested under a member at ``indent``."""
    return json.dumps(value, ensure_ascii=False, indent=indent).replace("\n", "\n" + indent)
