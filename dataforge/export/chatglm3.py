"""ChatGLM3's fine-tuning demo: its two formats, as train.json and dev.json (JSON arrays, which
both the demo's json.load reader and its datasets-based reader take).

``chatglm3`` writes multi-turn conversations (system, user, assistant, tool messages with name,
parameters and observation; tools; loss flags). ``chatglm3-io`` writes the input-output format
({prompt, response}): one exchange per sample, so anything else in a conversation is named as
lost. The demo's data_config lines to use are printed.
"""

from __future__ import annotations

from dataforge.export.job import UNDESIRABLE, ExportJob
from dataforge.formats import get_format
from dataforge.formats.base import LABEL
from dataforge.model import Sample

TITLE = "ChatGLM3 demo, multi-turn conversations: train.json, dev.json"
TITLE_IO = "ChatGLM3 demo, input-output {prompt, response}: train.json, dev.json"
FILES = {"train": "train.json", "eval": "dev.json"}


def write(job: ExportJob) -> None:
    _write(job, get_format("chatglm3"))


def write_io(job: ExportJob) -> None:
    _write(job, get_format("chatglm3-io"))


def _write(job: ExportJob, fmt) -> None:
    def convert(sample: Sample):
        if not get_format(sample.meta["format"]).conversational:
            return None, ["pre-training text is not a conversation"]
        if sample.is_preference:
            return None, ["a preference pair is not a supervised example"]
        if (sample.extra or {}).get(LABEL) is False:
            return None, [UNDESIRABLE]
        return fmt.write(sample)

    for split, samples in job.splits.items():
        job.write_records(FILES[split], split, job.converted(samples, convert), lines=False)
    folder = job.folder.resolve()
    eval_file = FILES["eval"] if "eval" in job.splits else FILES["train"]
    job.result.config = [f"# {folder}: the demo's data_dir", "data_config:", f"  train_file: {FILES['train']}",
                         f"  val_file: {eval_file}", f"  test_file: {eval_file}", "  num_proc: 1"]
