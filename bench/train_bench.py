"""What dataforge's data path costs a training step, next to a plain transformers Trainer.

    python bench/train_bench.py [--steps 60] [--samples 800]

Both runs train the same tiny Llama (built from a config, same seed) on the same examples for
the same steps, in the same process one after the other:

- dataforge: `dataforge.trainer` as `dataforge train` runs it (examples from
  MaskingSession.encode_many, its Collator, its step log);
- plain: transformers' Trainer on the same ids and labels with transformers' own
  DataCollatorForSeq2Seq (label pad -100), no callbacks.

Printed: training tokens/s of each, the padding share of the batches (padding costs compute
without teaching), the time to encode the examples once, and the data path's share of a step:
(dataforge step time - plain step time) / dataforge step time. Goal: under 5%. Packing is not
built yet, so there is no packed row.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FILES = [REPO / "samples" / "generated" / "returns_policy_zh.chatglm3.jsonl",
         REPO / "samples" / "generated" / "onboarding_en.alpaca.jsonl",
         REPO / "samples" / "datasets" / "sharegpt.jsonl", REPO / "samples" / "datasets" / "openai.jsonl"]


def make_data(folder: Path, n: int) -> Path:
    """``n`` records cycled from the shipped files, each varied so that none repeats."""
    from dataforge.collect import collect
    from dataforge.formats import get_format

    samples = collect([str(f) for f in FILES], lint=False).samples
    out = folder / "data.jsonl"
    openai = get_format("openai")
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            s = samples[i % len(samples)]
            contents = tuple(c + f" ({i})" if r == "user" else c for r, c in zip(s.roles, s.contents))
            record, _ = openai.write(s._replace(contents=contents, extra=None))
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--samples", type=int, default=800)
    args = parser.parse_args()
    import torch
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from dataforge.trainer.config import TrainConfig
    from dataforge.trainer.data import IGNORE
    from dataforge.trainer.model import build_model
    from dataforge.trainer.run import prepare, train

    torch.set_num_threads(2)
    folder = Path(tempfile.mkdtemp(prefix="train-bench-"))
    data = make_data(folder, args.samples)
    config = TrainConfig(data=[str(data)], output=str(folder / "run"), template="qwen", tokenizer="train",
                         vocab_size=1000, max_len=256, batch_size=8, max_steps=args.steps, save_steps=10**6,
                         logging_steps=10**6, learning_rate=3e-3).check()
    t0 = time.perf_counter()
    masking, examples = prepare(config, open("/dev/null", "w"))
    encode_s = time.perf_counter() - t0
    tokens = sum(len(e["input_ids"]) for e in examples.train)

    run = train(config, open("/dev/null", "w"))
    # Trainer's own clock over its loop, for both runs: model building, lint and saving aside
    ours = next(x["train_runtime"] for x in map(json.loads, (run / "log.jsonl").read_text().splitlines())
                if "train_runtime" in x)

    model = build_model(config, masking.tokenizer)
    plain_args = TrainingArguments(output_dir=str(folder / "plain"), per_device_train_batch_size=8,
                                   max_steps=args.steps, learning_rate=3e-3, report_to=[], save_strategy="no",
                                   logging_steps=10**6, use_cpu=True, disable_tqdm=True, seed=0)
    collator = DataCollatorForSeq2Seq(masking.tokenizer.hf, label_pad_token_id=IGNORE, padding="longest")
    trainer = Trainer(model=model, args=plain_args, train_dataset=examples.train, data_collator=collator)
    plain = trainer.train().metrics["train_runtime"]

    # padding share of the batches both made (same sampler seed: the same batches)
    batch = 8
    lengths = [len(e["input_ids"]) for e in examples.train]
    padded = sum(max(lengths[i:i + batch]) * len(lengths[i:i + batch]) for i in range(0, len(lengths), batch))
    per_token = tokens / len(examples.train)
    fed = args.steps * batch * per_token
    print(f"{len(examples.train):,} examples, {tokens:,} tokens; encoded once in {encode_s:.2f} s "
          f"({encode_s / len(examples.train) * 1e3:.2f} ms an example)")
    print(f"padding share of the batches (no packing): {1 - tokens / padded:.1%}")
    print(f"{'dataforge train':<18} {fed / ours:>10,.0f} tokens/s  ({ours / args.steps * 1e3:.1f} ms a step, "
          "with its collator and step log)")
    print(f"{'plain Trainer':<18} {fed / plain:>10,.0f} tokens/s  ({plain / args.steps * 1e3:.1f} ms a step)")
    print(f"data path and bookkeeping: {(ours - plain) / ours:.1%} of dataforge's step time (goal: under 5%)")


if __name__ == "__main__":
    main()
