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

import io
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import TextIO

from dataforge import __version__
from dataforge.errors import DataforgeError
from dataforge.masking.encode import EncodeOptions
from dataforge.masking.session import MaskingSession
from dataforge.templates import default_template_for, get_template

from .config import TrainConfig
from .data import Collator, PackingCollator, load_examples
from .distributed import deepspeed_config, gathered, single_process_env, skip_cpu_shm_build, zero_stage
from .model import apply_method, build_model, numel, parameter_counts, train_tokenizer


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


def memory_estimate(total: int, trained: int, config: TrainConfig, hidden: int, layers: int,
                    ds_config: dict | None = None, processes: int = 1, largest_layer: int = 0) -> dict:
    """Bytes per process: weights, gradients and AdamW's two states (for trainable parameters),
    activations (about 34 x hidden values per token and layer, kept for the backward pass), and
    what ZeRO moves off the device. ZeRO 1 splits optimizer states across processes, 2 also
    gradients, 3 also weights; offload moves them to CPU memory ("offloaded"). For full
    fine-tuning under ZeRO 2 and 3, DeepSpeed's own estimator of model states is given beside."""
    width = 2 if config.precision in ("bf16", "fp16") else 4
    stage = zero_stage(ds_config) or 0
    split = max(processes, 1)
    weights = total * width / (split if stage == 3 else 1)
    # mixed precision keeps an fp32 master copy of each trained weight beside AdamW's two states
    optimizer = trained * (8 + (4 if width == 2 else 0)) / (split if stage >= 1 else 1)
    gradients = trained * width / (split if stage >= 2 else 1)
    estimate = {"weights": weights, "gradients": gradients, "optimizer": optimizer,
                "activations": config.batch_size * config.max_len * hidden * layers * 34 * width}
    zero = (ds_config or {}).get("zero_optimization") or {}
    offloaded = 0
    if (zero.get("offload_optimizer") or {}).get("device") in ("cpu", "nvme"):
        offloaded += estimate.pop("optimizer")
    if stage == 3 and (zero.get("offload_param") or {}).get("device") in ("cpu", "nvme"):
        offloaded += estimate.pop("weights")
    estimate = {k: int(v) for k, v in estimate.items()}
    estimate["total"] = sum(estimate.values())
    if offloaded:
        estimate["offloaded"] = int(offloaded)
    if config.method == "full" and stage in (2, 3):
        estimate["deepspeed_model_states"] = _deepspeed_estimate(stage, total, largest_layer, processes, bool(offloaded))
    return estimate


def _deepspeed_estimate(stage: int, total: int, largest_layer: int, processes: int, offload: bool) -> int:
    """DeepSpeed's estimate of model states on each device (mixed-precision Adam, 1.5x buffers)."""
    import contextlib

    with contextlib.redirect_stdout(io.StringIO()):  # its estimators print tables too
        if stage == 2:
            from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

            _, device = estimate_zero2_model_states_mem_needs(total, processes, 1, offload)
        else:
            from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs

            _, device, _ = estimate_zero3_model_states_mem_needs(total, largest_layer, processes, 1, offload, offload)
    return int(device)


def memory_advice(estimate: dict, config: TrainConfig, available: int | None) -> list[str]:
    """What to change when the estimate is over what the device has (the advice ChatGLM3's demo
    gives: smaller batches with more accumulation, offload, quantized base weights)."""
    if available is None or estimate["total"] <= available:
        return []
    advice = [f"the estimate ({_mb(estimate['total'])}) is over the {_mb(available)} this device has:"]
    if config.batch_size > 1:
        advice.append(f"  batch_size={max(1, config.batch_size // 2)} grad_accum={config.grad_accum * 2}: "
                      "half the activations, the same effective batch")
    if "optimizer" in estimate:
        advice.append("  deepspeed=zero2-offload (or zero3-offload): optimizer states (and weights) in CPU memory")
    if config.method == "full":
        advice.append("  method=lora: only adapter weights get gradients and optimizer states")
    if not config.quantize and config.method != "full":
        advice.append("  quantize=4 (a GPU with bitsandbytes): base weights in 4 bits")
    return advice


def _available_memory() -> int | None:
    """Bytes of memory on this process's device: the GPU's, or the machine's."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return None


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


def train(config: TrainConfig, out: TextIO = sys.stderr, callbacks: list = ()) -> Path:
    """Run ``config``; returns the run folder. ``callbacks``: more Trainer callbacks (a program
    that embeds the trainer watches or stops it with them).

    Under a launcher (torchrun, deepspeed) every process runs this; rank 0 prepares the data
    first (and trains the tokenizer), the others then read what it wrote; only rank 0 prints
    and writes the run folder's files."""
    from transformers import Trainer, TrainingArguments

    from dataforge import preview_output

    ds_config, ds_notes = deepspeed_config(config.deepspeed) if config.deepspeed else (None, [])
    if ds_config is not None:
        single_process_env()
        skip_cpu_shm_build()
        # DeepSpeed calls torch.distributed functions torch has deprecated, a warning per step
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.distributed")
    if config.precision == "fp16" and not _cuda():
        raise DataforgeError("precision fp16 needs a GPU", hint="precision=bf16 or fp32 on CPU")
    run = Path(config.output)
    checkpoints = run / "checkpoints"
    evaluating = config.eval is not None
    args = TrainingArguments(
        output_dir=str(checkpoints), per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size, gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate, num_train_epochs=config.epochs, max_steps=config.max_steps,
        logging_steps=config.logging_steps, save_steps=config.save_steps,
        seed=config.seed, data_seed=config.seed, report_to=[], remove_unused_columns=False,
        eval_strategy="steps" if evaluating else "no", eval_steps=config.save_steps if evaluating else None,
        bf16=config.precision == "bf16", fp16=config.precision == "fp16", deepspeed=ds_config,
        use_cpu=not _cuda(), disable_tqdm=False, **_version_args(TrainingArguments, config))
    if ds_config is not None and not _cuda():
        # On CPU, accelerate starts torch's process group (gloo) but leaves DeepSpeed's own
        # communication layer down; DeepSpeed then counts one process and refuses the batch
        # sizes Trainer worked out for all of them. Started here, it joins the same group.
        import deepspeed

        deepspeed.init_distributed(dist_backend="gloo")
    main = args.process_index == 0
    if not main:
        out = io.StringIO()  # one voice: the other ranks' lines would repeat rank 0's
    for note in ds_notes:
        print(f"note: {note}", file=out)
    run.mkdir(parents=True, exist_ok=True)
    with args.main_process_first(desc="data", local=False):
        masking, examples = prepare(config, out)
    print(f"{len(examples.train):,} training and {len(examples.eval):,} eval examples"
          + (f"; {examples.untrained:,} sample(s) with nothing trained left out" if examples.untrained else ""),
          file=out)
    first = examples.collected.samples[0]
    _, rows, _ = masking.preview(first)
    preview_output.sanity(rows, out)
    model = build_model(config, masking.tokenizer, config.prefix.virtual_tokens)
    if config.packing and not type(model).__module__.startswith("transformers."):
        raise DataforgeError(f"packing needs one of transformers' own model classes, not {type(model).__name__}",
                             hint="its attention must read position ids as example boundaries; drop packing")
    zero3 = zero_stage(ds_config) == 3
    if config.model is None and config.method != "full" and not (run / "base").is_dir():
        # lora and prefix train beside frozen weights: a tiny base is kept for chat and merge
        # (built under ZeRO-3, its weights are already split: gathered to be saved whole)
        with gathered(model, zero3):
            if main:
                model.save_pretrained(str(run / "base"))
    model = apply_method(model, config)
    total, trained = parameter_counts(model)
    base = getattr(model, "base_model", model)
    hidden = getattr(base.config, "hidden_size", 0)
    layers = getattr(base.config, "num_hidden_layers", 0)
    largest = max((sum(numel(p) for p in m.parameters(recurse=False)) for m in model.modules()), default=0)
    estimate = memory_estimate(total, trained, config, hidden, layers, ds_config, args.world_size, largest)
    print(f"parameters {total:,} ({trained:,} trained, method {config.method}"
          + (f", DeepSpeed ZeRO-{zero_stage(ds_config)}" if ds_config else "")
          + f", {args.world_size} process(es)); memory estimate per process "
          + ", ".join(f"{k.replace('_', ' ')} {_mb(v)}" for k, v in estimate.items()), file=out)
    for line in memory_advice(estimate, config, _available_memory()):
        print(line, file=out)
    if main:
        write_json(run / "run.json", {
            "dataforge": __version__, "config": config.as_dict(), "fingerprint": examples.fingerprint(),
            "template": masking.template_name, "tokenizer": masking.tokenizer.name,
            "label_convention": "unshifted", "processes": args.world_size,
            "parameters": total, "trained_parameters": trained, "memory_estimate": estimate,
        })
        if ds_config is not None:
            write_json(run / "deepspeed.json", ds_config)
    pad = masking.tokenizer.hf.pad_token_id
    pad = pad if pad is not None else masking.tokenizer.hf.eos_token_id or 0
    collator = PackingCollator(pad) if config.packing else Collator(pad)
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
    save_final(trainer, final, zero3)
    if main:
        masking.tokenizer.hf.save_pretrained(str(final))
        plot_loss(run)
    print(f"done: {final} (log {run / 'log.jsonl'}, curve {run / 'loss.png'})", file=out)
    return run


def write_json(path: Path, value) -> None:
    """``value`` as indented JSON into ``path``, replaced whole or not at all (a run killed while
    writing keeps the previous file)."""
    from dataforge.jsonio.write import atomic_writer

    with atomic_writer(path) as f:
        f.write((json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def save_final(trainer, folder: Path, zero3: bool) -> None:
    """The trained model (or adapter) into ``folder``, by every process (a ZeRO-3 save gathers
    the weights' pieces from all of them), written by rank 0.

    Under ZeRO-3 an adapter is saved from inside ``GatheredParameters``: peft reads its weights
    straight from the modules, where ZeRO-3 leaves empty placeholders, and would write empty
    tensors with only a warning."""
    model = trainer.model
    if zero3 and hasattr(model, "peft_config"):
        with gathered(model, zero3):
            if trainer.args.process_index == 0:
                model.save_pretrained(str(folder))
        trainer.accelerator.wait_for_everyone()
        return
    trainer.save_model(str(folder))


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
                line["padding_share"] = round(1 - collator.tokens / collator.slots, 4)
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
