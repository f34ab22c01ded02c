"""Hugging Face datasets: a `save_to_disk` folder, or Parquet files, with the columns TRL's
trainers take, and a dataset card.

- conversations: `messages` (role, content; `tool_calls` and `name` when any sample has tool
  calls) and `tools` (SFTTrainer, chat templates);
- preference pairs: `prompt` (messages), `chosen` and `rejected` (one assistant message each),
  TRL's conversational preference layout (DPOTrainer, RewardTrainer);
- KTO samples: `prompt`, `completion` and a boolean `label` (KTOTrainer);
- pre-training text: `text`.

Arrow stores a column with one type for every row, and tool definitions and call arguments differ
from sample to sample: they are JSON strings (`json.loads` gives them back), which every chat
template in transformers accepts for arguments. Messages without tool calls have
`tool_calls: null` in a set that has some. Per-message loss flags have no column in TRL's layout
and are named as lost. Splits are `train` and `test` (TRL's default names).
"""

from __future__ import annotations

import json
from collections import Counter

from dataforge import __version__
from dataforge.errors import DataforgeError
from dataforge.export.job import ExportJob
from dataforge.export.llamafactory import kind
from dataforge.formats.base import LABEL, bare_tools, loss_flags_dropped, parse_json_string
from dataforge.model import Message, Role, Sample

TITLE = "Hugging Face datasets: save_to_disk folder (or --parquet), TRL's columns, dataset card"
SPLITS = {"train": "train", "eval": "test"}


def write(job: ExportJob) -> None:
    try:
        import datasets
    except ImportError:
        raise DataforgeError("the hf target needs the datasets package",
                             hint="pip install 'dataforge-sft[hf]'") from None

    datasets.disable_progress_bars()  # dataforge prints its own summary
    kinds = Counter(kind(s) for samples in job.splits.values() for s in samples)
    if len(kinds) > 1:
        raise DataforgeError("a Hugging Face dataset holds one kind of sample; this set mixes "
                             + ", ".join(f"{n} {k}" for k, n in kinds.items()),
                             hint="export each kind on its own (dataforge split/mix can separate them)")
    k = next(iter(kinds))
    all_samples = [s for samples in job.splits.values() for s in samples]
    with_tools = k in ("sft", "dpo", "kto") and any(s.names is not None or s.arguments is not None
                                                     for s in all_samples)
    with_definitions = any(s.tools is not None for s in all_samples)
    features = _features(k, with_tools, with_definitions)
    parts = {}
    for split, samples in job.splits.items():
        rows = list(job.converted(samples, lambda s: _row(k, s, with_tools, with_definitions)))
        parts[SPLITS[split]] = (split, datasets.Dataset.from_list(rows, features=features))
    if job.options.get("parquet"):
        for name, (split, ds) in parts.items():
            relative = f"data/{name}-00000-of-00001.parquet"
            ds.to_parquet(str(job.path(relative)))
            job.add(relative, len(ds), split)
    else:
        for name in (*parts, "dataset_dict.json"):
            job.path(name)  # refuses to replace what is there without --force
        datasets.DatasetDict({name: ds for name, (_, ds) in parts.items()}).save_to_disk(str(job.stage))
        for name, (split, ds) in parts.items():
            job.add(name, len(ds), split)
        job.add("dataset_dict.json", 0, "train")
    with open(job.path("README.md"), "w", encoding="utf-8") as f:
        f.write(card(job, k, {name: len(ds) for name, (_, ds) in parts.items()}))
    folder = job.folder.resolve()
    if job.options.get("parquet"):
        files = ", ".join(f'"{n}": "{folder}/data/{n}-*.parquet"' for n in parts)
        job.result.config = [f'load_dataset("parquet", data_files={{{files}}})']
    else:
        job.result.config = [f'datasets.load_from_disk("{folder}")']


def _features(k: str, with_tools: bool, with_definitions: bool):
    from datasets import Features, List, Value

    message = {"role": Value("string"), "content": Value("string")}
    if with_tools:
        message["name"] = Value("string")
        message["tool_calls"] = List({"type": Value("string"),
                                      "function": {"name": Value("string"), "arguments": Value("string")}})
    columns: dict = {}
    if k == "pt":
        columns["text"] = Value("string")
    elif k == "sft":
        columns["messages"] = List(message)
    elif k == "dpo":
        columns.update(prompt=List(message), chosen=List(message), rejected=List(message))
    else:
        columns.update(prompt=List(message), completion=List(message), label=Value("bool"))
    if with_definitions and k != "pt":
        columns["tools"] = Value("string")
    return Features(columns)


def _row(k: str, sample: Sample, with_tools: bool, with_definitions: bool):
    losses: list[str] = []
    if k == "pt":
        return {"text": sample.contents[0] if sample.contents else ""}, losses
    messages = list(sample.messages)
    losses += loss_flags_dropped(messages, "hf")
    row: dict = {}
    if k == "sft":
        row["messages"] = _messages(messages, with_tools)
    elif k == "dpo":
        if sample.chosen is None or sample.rejected is None:
            return None, ["the pair lacks a reply"]
        row.update(prompt=_messages(messages, with_tools), chosen=_messages([sample.chosen], with_tools),
                   rejected=_messages([sample.rejected], with_tools))
    else:
        last = max((i for i, m in enumerate(messages) if m.role in (Role.ASSISTANT, Role.TOOL_CALL)), default=None)
        if last is None:
            return None, ["a KTO sample needs a reply to label"]
        start = last
        while start > 0 and messages[start - 1].role == Role.TOOL_CALL:
            start -= 1
        row.update(prompt=_messages(messages[:start], with_tools),
                   completion=_messages(messages[start:last + 1], with_tools), label=sample.extra[LABEL])
    if with_definitions:
        row["tools"] = _tools_text(sample.tools, losses)
    return row, losses


def _messages(messages: list[Message], with_tools: bool) -> list[dict]:
    out: list[dict] = []
    for m in messages:
        if m.role == Role.TOOL_CALL:
            arguments = m.arguments if type(m.arguments) is str else json.dumps(m.arguments, ensure_ascii=False)
            call = {"type": "function", "function": {"name": m.name, "arguments": arguments}}
            last = out[-1] if out else None
            if last is not None and last["role"] == "assistant":  # calls made in the same reply
                last["tool_calls"] = [*(last.get("tool_calls") or []), call]
            else:
                out.append({"role": "assistant", "content": "", "name": None, "tool_calls": [call]})
            continue
        role = "tool" if m.role == Role.OBSERVATION else m.role
        message = {"role": role, "content": m.content}
        if with_tools:
            message.update(name=m.name if m.role == Role.OBSERVATION else None, tool_calls=None)
        out.append(message)
    return out


def _tools_text(tools, losses: list[str]) -> str | None:
    if tools is None:
        return None
    if type(tools) is str:
        ok, parsed = parse_json_string(tools)
        if not ok:
            losses.append("tools is not valid JSON and was dropped")
            return None
        tools = parsed
    return json.dumps(bare_tools(tools), ensure_ascii=False)


def card(job: ExportJob, k: str, counts: dict[str, int]) -> str:
    """README.md: metadata the Hub reads (configs, splits, tags) and what the set is made of."""
    c = job.collected
    lines = ["---", "tags:", "- dataforge", f"- {'sft' if k == 'sft' else k}"]
    if job.options.get("parquet"):
        lines += ["configs:", "- config_name: default", "  data_files:"]
        for name in counts:
            lines += [f"  - split: {name}", f"    path: data/{name}-*.parquet"]
    lines += ["---", "", f"# {job.name}", "",
              f"Exported by dataforge {__version__} for Hugging Face `datasets` and TRL "
              f"({'conversations' if k == 'sft' else {'dpo': 'preference pairs', 'kto': 'KTO samples', 'pt': 'pre-training text'}[k]}).",
              "", "| split | samples |", "|---|---|"]
    lines += [f"| {name} | {n:,} |" for name, n in counts.items()]
    lines += ["", "## Sources", ""]
    formats = Counter(s.meta["format"] for samples in job.splits.values() for s in samples)
    lines += [f"- `{p}`" for p in c.files]
    lines += ["", "Formats read: " + ", ".join(f"{name} ({n:,})" for name, n in formats.most_common()) + "."]
    lines += ["", "## Lint", "",
              f"{c.records:,} records read; {len(job.result.skipped):,} left out; "
              f"errors: {_codes(c.errors)}; warnings: {_codes(c.warnings)}."]
    if job.template:
        lines += ["", "## Template", "", f"Previewed and meant to be trained with the `{job.template}` chat template."]
    lines += ["", "Tool definitions (`tools`) and call arguments are JSON strings; `json.loads` gives them back.", ""]
    return "\n".join(lines)


def _codes(counts: Counter) -> str:
    return ", ".join(f"{code} {n:,}" for code, n in counts.most_common()) or "none"
