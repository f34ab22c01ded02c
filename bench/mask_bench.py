"""Masked tokenization throughput next to a plain fast-tokenizer batch encode of the same texts.

    python bench/mask_bench.py [--conversations 4000]

Renders a few thousand multi-turn conversations with the qwen template and the built-in Qwen
tokenizer, then measures, each in its own process: dataforge's masked encoding (ids, labels and
messages per token, as the trainer takes them) and `tokenizers`' encode_batch of the very same
rendered texts (no masks). Both run once pinned to one core and once on every core. The token
counts must be equal: masking tokenizes each rendered text whole, as the raw encode does. Compare
the ratio column (raw time / masked time; 1.00 = masking costs nothing beyond tokenizing).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

from conversations import conversation  # noqa: E402  (bench/ is run as a folder of scripts)

HERE = Path(__file__).resolve().parent

CODE = r"""
import json, os, sys, time
if sys.argv[3] == "1":
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    os.environ["RAYON_NUM_THREADS"] = "1"
from dataforge.formats import FORMATS
from dataforge.masking.session import MaskingSession
from dataforge.templates.render import render
fmt = FORMATS["chatglm3"]
samples = [fmt.read(json.loads(line), []) for line in open(sys.argv[1], encoding="utf-8")]
session = MaskingSession.create(template="qwen")
tok = session.tokenizer
texts = ["".join(s.text for s in render(x, session.template, eos=tok.eos, bos=tok.bos)) for x in samples]
session.encode_many(samples[:64]); tok.hf.backend_tokenizer.encode_batch(texts[:64])  # warm up
best = None
for _ in range(3):
    t0 = time.perf_counter()
    if sys.argv[2] == "masked":
        n = sum(len(e) for e in session.encode_many(samples))
    else:
        n = sum(len(e.ids) for e in tok.hf.backend_tokenizer.encode_batch(texts, add_special_tokens=False))
    seconds = time.perf_counter() - t0
    best = seconds if best is None else min(best, seconds)
print(n, best)
"""


def measure(data: Path, method: str, cores: int) -> tuple[int, float]:
    env = dict(os.environ)
    if cores == 1:
        env["RAYON_NUM_THREADS"] = "1"
    out = subprocess.run([sys.executable, "-c", CODE, str(data), method, str(cores)], env=env, check=True,
                         capture_output=True, text=True, cwd=HERE.parent).stdout.split()
    return int(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=4000)
    args = parser.parse_args()
    (HERE / "data").mkdir(exist_ok=True)
    data = HERE / "data" / f"mask_{args.conversations}.jsonl"
    rng = random.Random(1)
    data.write_text("".join(json.dumps(conversation(rng), ensure_ascii=False) + "\n"
                            for _ in range(args.conversations)), encoding="utf-8")
    print(f"{args.conversations} ChatGLM3 conversations, qwen template, built-in Qwen tokenizer\n")
    print(f"{'cores':<6} {'method':<42} {'tokens':>10} {'M tokens/s':>11} {'vs raw':>7}")
    for cores in (1, len(os.sched_getaffinity(0))):
        label = str(cores)
        tokens, raw = measure(data, "raw", cores)
        print(f"{label:<6} {'raw encode_batch (no masks)':<42} {tokens:>10,} {tokens / raw / 1e6:>11.2f} {1:>7.2f}")
        masked_tokens, masked = measure(data, "masked", cores)
        print(f"{label:<6} {'dataforge masked encode (ids, labels, turns)':<42} {masked_tokens:>10,} "
              f"{masked_tokens / masked / 1e6:>11.2f} {raw / masked:>7.2f}")
        if masked_tokens != tokens:
            print(f"       token counts differ: masked {masked_tokens:,} vs whole-text {tokens:,}")


if __name__ == "__main__":
    main()
