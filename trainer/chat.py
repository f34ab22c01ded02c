"""`dataforge chat RUN_OR_MODEL`: talk to a trained model with the template it was trained with.

The prompt is laid out by the very encoding training used: the conversation so far plus an empty
assistant reply, cut where that reply's text would begin, so the model sees exactly the header it
learned to answer after. A run remembers its template (run.json); another one is refused unless
forced, since a model prompted with another template answers short, off-topic or in another
language. Generation stops at EOS or the template's end-of-turn marker.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from dataforge.errors import DataforgeError
from dataforge.masking.encode import EncodeOptions
from dataforge.masking.session import MaskingSession
from dataforge.model import Message, Role, Sample
from dataforge.templates import get_template


def load(path: str | Path, template: str | None = None, force: bool = False):
    """(model, masking session) for a run folder (run.json) or a plain model folder."""
    from transformers import AutoModelForCausalLM

    from dataforge.masking.tokenizer import load_tokenizer

    path = Path(path)
    info = json.loads((path / "run.json").read_text(encoding="utf-8")) if (path / "run.json").is_file() else None
    if info is None:
        if template is None:
            raise DataforgeError(f"{path} is not a dataforge run: say which template it was trained with",
                                 hint="--template NAME")
        folder, method, base = path, "full", None
    else:
        trained_with = info["template"]
        if template is not None and template != trained_with and not force:
            raise DataforgeError(f"{path} was trained with template {trained_with!r}, not {template!r}",
                                 hint="a model answers best in its training template; --force uses another")
        template = template or trained_with
        folder, method = path / "model", info["config"]["method"]
        base = info["config"]["model"] or str(path / "base")
    tokenizer = load_tokenizer(str(folder))
    if method == "full":
        model = AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True)
    else:
        from peft import PeftModel

        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, local_files_only=True),
                                          str(folder))
    model.eval()
    return model, MaskingSession(tokenizer, get_template(template), EncodeOptions())


def prompt_ids(history: list[Message], masking: MaskingSession) -> list[int]:
    """The ids of ``history`` followed by the header of the assistant's reply."""
    sample = Sample.of([*history, Message(Role.ASSISTANT, "")])
    encoded, _ = masking.encode(sample)
    last = len(sample.roles) - 1
    for i, (message, kind) in enumerate(zip(encoded.messages, encoded.kinds)):
        if message == last and kind != "header":
            return list(encoded.input_ids[:i])
    return list(encoded.input_ids)


def reply(model, masking: MaskingSession, history: list[Message], out: TextIO | None = None,
          max_new_tokens: int = 200) -> str:
    """The model's answer to ``history``, streamed to ``out`` as it comes."""
    import torch
    from transformers import TextStreamer

    hf = masking.tokenizer.hf
    stops = [i for i in {hf.eos_token_id, *(masking.tokenizer.special_id(t) for t in masking.template.control_tokens)}
             if i is not None]
    ids = torch.tensor([prompt_ids(history, masking)])
    streamer = None
    if out is not None:
        streamer = TextStreamer(hf, skip_prompt=True, skip_special_tokens=True)
        streamer.on_finalized_text = lambda text, stream_end=False: (out.write(text + ("\n" if stream_end else "")),
                                                                    out.flush())
    with torch.no_grad():
        generated = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                                   do_sample=False, eos_token_id=stops, pad_token_id=hf.pad_token_id or stops[0],
                                   streamer=streamer)
    return hf.decode(generated[0, ids.shape[1]:], skip_special_tokens=True)


def chat(path: str, message: str | None = None, template: str | None = None, force: bool = False,
         system: str | None = None, out: TextIO = sys.stdout, max_new_tokens: int = 200) -> int:
    model, masking = load(path, template, force)
    history = [Message(Role.SYSTEM, system)] if system else []
    if message is not None:
        reply(model, masking, [*history, Message(Role.USER, message)], out, max_new_tokens)
        return 0
    out.write(f"chatting with {path} (template {masking.template_name}); an empty line or Ctrl-D ends\n")
    while True:
        try:
            text = input("> ")
        except EOFError:
            return 0
        if not text.strip():
            return 0
        history.append(Message(Role.USER, text))
        history.append(Message(Role.ASSISTANT, reply(model, masking, history, out, max_new_tokens)))


def merge(path: str | Path, out: str | Path) -> Path:
    """A LoRA run's adapter merged into its base: a standalone model folder (with the tokenizer)
    that loads without peft."""
    path, out = Path(path), Path(out)
    info = json.loads((path / "run.json").read_text(encoding="utf-8")) if (path / "run.json").is_file() else None
    if info is None or info["config"]["method"] != "lora":
        raise DataforgeError(f"{path} is not a LoRA run", hint="merge takes the folder `dataforge train` wrote "
                                                              "for method: lora")
    model, masking = load(path)
    merged = model.merge_and_unload()
    merged.save_pretrained(str(out))
    masking.tokenizer.hf.save_pretrained(str(out))
    from .run import write_json

    run = {**info, "config": {**info["config"], "method": "full", "model": None}, "merged_from": str(path)}
    write_json(out / "run.json", run)
    # the merged folder is a run of its own: chat finds its template and loads it as a full model
    (out / "model").mkdir(exist_ok=True)
    for item in list(out.iterdir()):
        if item.name not in ("model", "run.json"):
            item.rename(out / "model" / item.name)
    return out
