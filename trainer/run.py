"""One training run: its folder, the checks before training, transformers' Trainer, the logs.

The run folder (``output``) holds:
- run.json: the resolved config, the data's fingerprint (sha256 over every example's ids and
  labels), the template and tokenizer, parameter counts and the dataforge version;
- tokenizer/ (when trained on the data), checkpoints/ (Trainer's, resumable), model/ (the final
  weights, or the adapter for lora and prefix, with the tokenizer);
- log.jsonl: one line per logged step (loss, learning rate, epoch, tokens/s, trained share) and
  loss.png, the loss curve, rewritten at each checkpoint and at the end.

Before training: lint (errors stop the run), the sanity check of the first example (token, id,
label, as ChatGLM3's demo prints it), and a memory estimate. A run whose folder holds
checkpoints resumes from the last one: model, optimizer, scheduler, data position and random
state, as Trainer restores them.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TextIO

from dataforge import __version__
from dataforge.errors import DataforgeError
from dataforge.masking.encode import EncodeOptions
from dataforge.masking.session import MaskingSession
from dataforge.templates import default_template_for, get_template

from .config import TrainConfig
from .data import Collator, load_examples
from .model import apply_method, build_model, parameter_counts, train_tokenizer


def prepare(config: TrainConfig, out: TextIO = sys.stderr):
    """(masking session, examples) for ``config``; trains the tokenizer first when asked."""
    from dataforge.collect import collect

    run = Path(config.output)
    if config.template is None:
        first = collect(config.data, lint=False).samples[:1]
        config.template = default_template_for(first[0].meta["format"] if first else "")
    template = get_template(config.template)
    if config.tokenizer == "train":
        folder = run / "tokenizer"
        if (folder / "tokenizer.json").is_file():  # a resumed run keeps its vocabulary
            from dataforge.masking.tokenizer import load_tokenizer

            tokenizer = load_tokenizer(str(folder))
        else:
            texts = [t for s in collect(config.data, lint=False).samples for t in s.contents]
            tokenizer = train_tokenizer(texts, list(template.control_tokens), config.vocab_size, folder)
            print(f"trained a {len(tokenizer.hf):,}-token BPE on the data into {folder}", file=out)
    else:
        from dataforge.masking.tokenizer import load_tokenizer

        tokenizer = load_tokenizer(config.tokenizer, config.trust_remote_code)
    masking = MaskingSession(tokenizer, template, EncodeOptions(max_len=config.max_len))
    examples = load_examples(config.data, masking, config.eval, config.seed)
    if not examples.train:
        raise DataforgeError("no example has a trained token", hint="see `dataforge preview` on the data")
    if config.eval is not None and not examples.eval:
        # checked here, not found out at the first evaluation after hours of training
        raise DataforgeError("the eval split has no example with a trained token",
                             hint="a larger eval share, or a longer max_len")
    return masking, examples


def memory_estimate(total: int, trained: int, config: TrainConfig, hidden: int, layers: int) -> dict:
    """Bytes for weights (fp32), gradients and AdamW's two states (trainable parameters only), and
    activations (about 34 x hidden values per token and layer, kept for the backward pass)."""
    tokens = config.batch_size * config.max_len
    estimate = {"weights": total * 4, "gradients": trained * 4, "optimizer": trained * 8,
                "activations": tokens * hidden * layers * 34 * 4}
    estimate["total"] = sum(estimate.values())
    return estimate


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


def train(config: TrainConfig, out: TextIO = sys.stderr, callbacks: list = ()) -> Path:
    """Run ``config``; returns the run folder. ``callbacks``: more Trainer callbacks (a program
    that embeds the trainer watches or stops it with them)."""
    from transformers import Trainer, TrainingArguments

    from dataforge import preview_output

    run = Path(config.output)
    run.mkdir(parents=True, exist_ok=True)
    masking, examples = prepare(config, out)
    print(f"{len(examples.train):,} training and {len(examples.eval):,} eval examples"
          + (f"; {examples.untrained:,} sample(s) with nothing trained left out" if examples.untrained else ""),
          file=out)
    first = examples.collected.samples[0]
    _, rows, _ = masking.preview(first)
    preview_output.sanity(rows, out)
    model = build_model(config, masking.tokenizer, config.prefix.virtual_tokens)
    if config.model is None and config.method != "full" and not (run / "base").is_dir():
        # lora and prefix train beside frozen weights: a tiny base is kept for chat and merge
        model.save_pretrained(str(run / "base"))
    model = apply_method(model, config)
    total, trained = parameter_counts(model)
    base = getattr(model, "base_model", model)
    hidden = getattr(base.config, "hidden_size", 0)
    layers = getattr(base.config, "num_hidden_layers", 0)
    estimate = memory_estimate(total, trained, config, hidden, layers)
    print(f"parameters {total:,} ({trained:,} trained, method {config.method}); memory estimate "
          + ", ".join(f"{k} {_mb(v)}" for k, v in estimate.items()), file=out)
    (run / "run.json").write_text(json.dumps({
        "dataforge": __version__, "config": config.as_dict(), "fingerprint": examples.fingerprint(),
        "template": masking.template_name, "tokenizer": masking.tokenizer.name, "label_convention": "unshifted",
        "parameters": total, "trained_parameters": trained, "memory_estimate": estimate,
    }, indent=2) + "\n", encoding="utf-8")
    collator = Collator(masking.tokenizer.hf.pad_token_id if masking.tokenizer.hf.pad_token_id is not None
                        else masking.tokenizer.hf.eos_token_id or 0)
    checkpoints = run / "checkpoints"
    args = TrainingArguments(
        output_dir=str(checkpoints), per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size, gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate, num_train_epochs=config.epochs, max_steps=config.max_steps,
        logging_steps=config.logging_steps, save_steps=config.save_steps,
        seed=config.seed, data_seed=config.seed, report_to=[], remove_unused_columns=False,
        eval_strategy="steps" if examples.eval else "no", eval_steps=config.save_steps if examples.eval else None,
        use_cpu=not _cuda(), disable_tqdm=False, **_version_args(TrainingArguments, config))
    trainer = Trainer(model=model, args=args, train_dataset=examples.train, eval_dataset=examples.eval or None,
                      data_collator=collator, callbacks=[step_log(run, collator), *callbacks])
    resume = any(checkpoints.glob("checkpoint-*"))
    if resume:
        print(f"resuming from the last checkpoint in {checkpoints}", file=out)
    trainer.train(resume_from_checkpoint=resume or None)
    if trainer.state.global_step < trainer.state.max_steps:  # stopped early (by a callback): resumable
        print(f"stopped at step {trainer.state.global_step}; run again to resume", file=out)
        return run
    final = run / "model"
    trainer.save_model(str(final))
    masking.tokenizer.hf.save_pretrained(str(final))
    plot_loss(run)
    print(f"done: {final} (log {run / 'log.jsonl'}, curve {run / 'loss.png'})", file=out)
    return run


def _version_args(arguments, config: TrainConfig) -> dict:
    """Warm-up and length grouping, spelt as the installed transformers spells them (version 5
    folded warmup_ratio into warmup_steps and group_by_length into train_sampling_strategy)."""
    known = arguments.__dataclass_fields__
    out = {"warmup_ratio": config.warmup_ratio} if "warmup_ratio" in known else {"warmup_steps": config.warmup_ratio}
    if "train_sampling_strategy" in known:
        out["train_sampling_strategy"] = "group_by_length" if config.group_by_length else "random"
    else:
        out["group_by_length"] = config.group_by_length
    return out


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def step_log(run: Path, collator: Collator):
    """A Trainer callback: each logged step to log.jsonl (rank 0 only), the curve at each save."""
    from transformers import TrainerCallback

    class StepLog(TrainerCallback):
        def __init__(self) -> None:
            self.mark = (time.perf_counter(), 0)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs:
                return
            now, tokens = time.perf_counter(), collator.tokens
            then, before = self.mark
            self.mark = (now, tokens)
            line = {"step": state.global_step, **{k: v for k, v in logs.items() if isinstance(v, (int, float))}}
            if now > then:
                line["tokens_per_s"] = round((tokens - before) / (now - then), 1)
            if collator.tokens:
                line["trained_share"] = round(collator.trained / collator.tokens, 4)
            with open(run / "log.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")

        def on_save(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                plot_loss(run)

    return StepLog()


def plot_loss(run: Path) -> None:
    """loss.png from log.jsonl: training loss (and eval loss) by step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = run / "log.jsonl"
    if not path.is_file():
        return
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label in (("loss", "training loss"), ("eval_loss", "eval loss")):
        points = [(x["step"], x[key]) for x in lines if key in x]
        if points:
            ax.plot(*zip(*points), label=label, marker="." if len(points) < 50 else None)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    ax.set_title(f"dataforge train: {run.name}")
    fig.tight_layout()
    fig.savefig(run / "loss.png", dpi=100)
    plt.close(fig)
