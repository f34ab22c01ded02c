"""What dataforge's data path costs a training step, next to a plain transformers Trainer.

    python bench/train_bench.py [--steps 60] [--samples 800] [--rounds 3]

Both runs train the same tiny Llama (built from a config, same seed) on the same examples for
the same steps, in the same process one after the other:

- dataforge: `dataforge.trainer` as `dataforge train` runs it (examples from
  MaskingSession.encode_many, its Collator, its step log);
- plain: transformers' Trainer on the same ids and labels with transformers' own
  DataCollatorForSeq2Seq (label pad -100), no callbacks.

- dataforge, packed: the same, with `packing: true` (each batch's examples end to end in one
  row, no padding).

Printed: training tokens/s of each (the same examples are fed in the same order by all three, so
tokens/s compare like with like), the padding share of the batches as dataforge's collator counted
them (padding costs compute without teaching), the time to encode the examples once, and the
data path's share of a step: (dataforge step time - plain step time) / dataforge step time.
Goal: under 5%.
"""

from __future__ import annotations

import argparse
import json
import shutil
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
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=64, help="the tiny Llama's width (64: the shipped sample's)")
    parser.add_argument("--layers", type=int, default=2)
    args = parser.parse_args()
    import torch
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from dataforge.trainer.config import TinyModel, TrainConfig
    from dataforge.trainer.data import IGNORE
    from dataforge.trainer.model import build_model
    from dataforge.trainer.run import prepare, train

    torch.set_num_threads(2)
    folder = Path(tempfile.mkdtemp(prefix="train-bench-"))
    data = make_data(folder, args.samples)
    config = TrainConfig(data=[str(data)], output=str(folder / "run"), template="qwen", tokenizer="train",
                         vocab_size=1000, max_len=256, batch_size=8, max_steps=args.steps, save_steps=10**6,
                         logging_steps=10**6, learning_rate=3e-3,
                         tiny=TinyModel(hidden_size=args.hidden, layers=args.layers,
                                        intermediate_size=args.hidden * 2)).check()
    t0 = time.perf_counter()
    masking, examples = prepare(config, open("/dev/null", "w"))
    encode_s = time.perf_counter() - t0
    tokens = sum(len(e["input_ids"]) for e in examples.train)

    def dataforge_run(packing: bool) -> tuple[float, dict]:
        """(Trainer's own clock over its loop, the run's one log line of figures)."""
        import dataclasses

        run = folder / f"run-{packing}"
        shutil.rmtree(run, ignore_errors=True)  # a fresh run each round, not a resumed one
        run = train(dataclasses.replace(config, packing=packing, output=str(run),
                                        logging_steps=args.steps), open("/dev/null", "w"))
        lines = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
        return (next(x["train_runtime"] for x in lines if "train_runtime" in x),
                next(x for x in lines if "padding_share" in x))

    def plain_run() -> float:
        model = build_model(config, masking.tokenizer)
        plain_args = TrainingArguments(output_dir=str(folder / "plain"), per_device_train_batch_size=8,
                                       max_steps=args.steps, learning_rate=3e-3, report_to=[], save_strategy="no",
                                       logging_steps=10**6, use_cpu=True, disable_tqdm=True, seed=0)
        collator = DataCollatorForSeq2Seq(masking.tokenizer.hf, label_pad_token_id=IGNORE, padding="longest")
        trainer = Trainer(model=model, args=plain_args, train_dataset=examples.train, data_collator=collator)
        return trainer.train().metrics["train_runtime"]

    # interleaved rounds, best of each: the first run in a process pays warm-ups the others do not,
    # and this machine is shared
    times: dict[str, list[float]] = {"ours": [], "packed": [], "plain": []}
    for _ in range(args.rounds):
        times["plain"].append(plain_run())
        seconds, figures = dataforge_run(False)
        times["ours"].append(seconds)
        seconds, packed_figures = dataforge_run(True)
        times["packed"].append(seconds)
    ours, packed, plain = (min(times[k]) for k in ("ours", "packed", "plain"))

    per_token = tokens / len(examples.train)
    fed = args.steps * 8 * per_token
    print(f"{len(examples.train):,} examples, {tokens:,} tokens; encoded once in {encode_s:.2f} s "
          f"({encode_s / len(examples.train) * 1e3:.2f} ms an example)")
    print(f"{'run':<26} {'tokens/s':>10} {'ms a step':>10} {'padding':>8}")
    for name, seconds, share in (("dataforge train", ours, figures["padding_share"]),
                                 ("dataforge train, packed", packed, packed_figures["padding_share"]),
                                 ("plain Trainer", plain, figures["padding_share"])):
        print(f"{name:<26} {fed / seconds:>10,.0f} {seconds / args.steps * 1e3:>10.1f} {share:>8.1%}")
    print(f"data path and bookkeeping: {(ours - plain) / ours:.1%} of dataforge's step time (goal: under 5%)")
    print(f"packing: {ours / packed:.2f}x the tokens/s of padded batches")


if __name__ == "__main__":
    main()
