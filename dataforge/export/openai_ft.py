"""OpenAI fine-tuning files.

Supervised samples go to NAME.train.jsonl (and NAME.eval.jsonl), one chat line each:
``{"messages": [...], "tools"?: [...], "parallel_tool_calls"?: bool}`` with tools in OpenAI's
``{"type": "function", "function": {...}}`` wrapper, assistant ``tool_calls`` answered by ``tool``
messages with their ``tool_call_id``, and a 0/1 ``weight`` on assistant messages that carried a
loss flag. A line holds nothing else: OpenAI's upload check refuses unknown keys, so bookkeeping
(`id`, `provenance`) is left to the manifest and anything else is named as lost. A sample with no
assistant message teaches nothing and is left out.

Preference pairs go to NAME.preference.train.jsonl in OpenAI's preference (DPO) layout:
``{"input": {"messages": [...], "tools"?, "parallel_tool_calls"?}, "preferred_output":
[assistant message], "non_preferred_output": [assistant message]}``.
"""

from __future__ import annotations

from collections import defaultdict

from dataforge.export.job import UNDESIRABLE, ExportJob
from dataforge.formats import get_format
from dataforge.formats.base import BOOKKEEPING, LABEL
from dataforge.model import Role, Sample

TITLE = "OpenAI fine-tuning: chat JSONL (tools, tool_calls, weight) and the preference layout for pairs"
_LINE_KEYS = ("messages", "tools", "parallel_tool_calls")


def write(job: ExportJob) -> None:
    chat = get_format("openai")
    for split, samples in job.splits.items():
        by_kind: dict[str, list[Sample]] = defaultdict(list)
        for s in samples:
            by_kind["preference" if s.is_preference else "chat"].append(s)
        suffix = "train" if split == "train" else "eval"
        if by_kind["chat"]:
            job.write_records(f"{job.name}.{suffix}.jsonl", split, job.converted(by_kind["chat"], _chat_line(chat)))
        if by_kind["preference"]:
            job.write_records(f"{job.name}.preference.{suffix}.jsonl", split,
                              job.converted(by_kind["preference"], _preference_line(chat)))
    folder = job.folder.resolve()
    for output in job.result.outputs:  # what to upload, and as what
        purpose = "training_file" if output.split == "train" else "validation_file"
        method = "preference (dpo)" if ".preference." in output.file else "supervised"
        job.result.config.append(f"{purpose}: {folder / output.file}  # method: {method}")


def _chat_line(chat):
    def write(sample: Sample):
        if not get_format(sample.meta["format"]).conversational:
            return None, ["pre-training text is not a chat"]
        if (sample.extra or {}).get(LABEL) is False:
            return None, [UNDESIRABLE]
        record, losses = chat.write(sample)
        if not any(m["role"] == "assistant" for m in record["messages"]):
            return None, ["no assistant message to train on"]
        return _only_line_keys(record, losses), losses
    return write


def _preference_line(chat):
    def write(sample: Sample):
        prompt, losses = chat.write(sample._replace(chosen=None, rejected=None))
        losses = [m for m in losses if "chosen/rejected" not in m]
        line = {"input": _only_line_keys(prompt, losses)}
        for key, side in (("preferred_output", sample.chosen), ("non_preferred_output", sample.rejected)):
            if side is None:
                return None, [f"the pair has no {key.split('_')[0]} reply"]
            if side.role != Role.ASSISTANT:
                losses.append(f"OpenAI's preference layout takes assistant text replies; a {side.role} reply was "
                              "written as text")
            line[key] = [{"role": "assistant", "content": side.content}]
        return line, losses
    return write


def _only_line_keys(record: dict, losses: list[str]) -> dict:
    for key in [k for k in record if k not in _LINE_KEYS]:
        if key not in BOOKKEEPING:
            losses.append(f"OpenAI fine-tuning lines hold no {key!r}; it was dropped")
        del record[key]
    return record
