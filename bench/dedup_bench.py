"""Throughput and peak memory of `dataforge dedup`, next to rensa's own bare MinHash speed.

    python bench/dedup_bench.py [--records 1000000] [--keep DIR] [--rounds N]

Writes an Alpaca JSON Lines file of N records (English and Chinese, ~60 words a reply; 2% exact
and 5% near repeats planted), then, each in a fresh process so that its peak RSS is its own:

- baseline: rensa, the MinHash library dedup uses, signing the same records' texts with dedup's
  64 permutations, the texts already in memory and split on whitespace, one MinHash per text
  (rensa's documented usage): the floor any MinHash dedup pays, with no reading, no canonical
  sample, no LSH and no output (its batch call is shown too);
- datasketch: the same signatures with datasketch's MinHash on the first 20,000 texts (the
  library dataforge did not choose), scaled to N;
- dataforge dedup: the command end to end (read, parse, canonical digests, features, signatures,
  banding, verification, writing the kept records and the report).

Goal: dedup at least 0.7x the baseline's records per second, under 1 GB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

BASELINE = """
import json, resource, sys, time
import rensa
from dataforge.dedup import NUM_PERM
texts = []
with open(sys.argv[1], "rb") as f:
    for line in f:
        r = json.loads(line)
        texts.append(r["instruction"] + "\\n" + r["output"])
t0 = time.perf_counter()
for text in texts:  # rensa's documented use: one MinHash per text, its words, its digest
    m = rensa.RMinHash(NUM_PERM, 1)
    m.update(text.split())
    m.digest()
single = time.perf_counter() - t0
t0 = time.perf_counter()
for start in range(0, len(texts), 4096):  # its batch call, digests read out as dedup reads them
    rensa.RMinHash.digest_matrix_from_token_sets([t.split() for t in texts[start:start + 4096]], NUM_PERM, 1).to_rows()
print(json.dumps({"seconds": single, "batch_seconds": time.perf_counter() - t0, "records": len(texts)}))
"""

DATASKETCH = """
import json, sys, time
from datasketch import MinHash
texts = []
with open(sys.argv[1], "rb") as f:
    for line in f:
        r = json.loads(line)
        texts.append(r["instruction"] + "\\n" + r["output"])
        if len(texts) == 20000:
            break
t0 = time.perf_counter()
for t in texts:
    m = MinHash(num_perm=64, seed=1)
    m.update_batch([w.encode() for w in t.split()])
print(json.dumps({"seconds": time.perf_counter() - t0, "records": len(texts)}))
"""

DEDUP = """
import json, resource, sys, time
from dataforge.dedup import dedup_files
t0 = time.perf_counter()
result = dedup_files([sys.argv[1]], sys.argv[2], force=True)
spent = time.perf_counter() - t0
print(json.dumps({"seconds": spent, "records": result.records, "removed": result.repeats.kinds(),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_data(path: Path, n: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             for _ in range(20_000)]
    han = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    planted = {"exact": 0, "near": 0}
    kept: list[dict] = []
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            roll = rng.random()
            if kept and roll < 0.02:
                record = rng.choice(kept)
                planted["exact"] += 1
            elif kept and roll < 0.07:
                source = rng.choice(kept)
                chinese = " " not in source["output"]
                reply = list(source["output"]) if chinese else source["output"].split(" ")
                for _ in range(2):  # two words (characters) changed: similarity stays above 0.8
                    reply[rng.randrange(len(reply))] = rng.choice(han if chinese else words)
                record = {**source, "output": ("" if chinese else " ").join(reply)}
                planted["near"] += 1
            elif rng.random() < 0.3:
                record = {"instruction": "".join(rng.choice(han) for _ in range(20)), "input": "",
                          "output": "".join(rng.choice(han) for _ in range(120))}
            else:
                record = {"instruction": " ".join(rng.choice(words) for _ in range(12)) + "?", "input": "",
                          "output": " ".join(rng.choice(words) for _ in range(60)) + "."}
            if len(kept) < 50_000 and roll >= 0.07:
                kept.append(record)
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return planted


def run(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=HERE.parent)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the data here and keep it")
    parser.add_argument("--rounds", type=int, default=1, help="baseline and dedup runs, interleaved; best of each")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="dedup-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "records.jsonl"
    planted = make_data(data, args.records)
    size = data.stat().st_size / 1e6
    print(f"{args.records:,} records, {size:,.0f} MB; planted {planted['exact']:,} exact, {planted['near']:,} near")
    rate = lambda r: r["records"] / r["seconds"]  # noqa: E731
    base = dedup = None
    for _ in range(args.rounds):  # interleaved, best of each: the machine's load moves both
        b = run(BASELINE, str(data))
        out = folder / "out.jsonl"
        out.unlink(missing_ok=True)  # each run writes a new file, not over the last run's (freeing it is no part of dedup)
        d = run(DEDUP, str(data), str(out))
        base = b if base is None or rate(b) > rate(base) else base
        dedup = d if dedup is None or rate(d) > rate(dedup) else dedup
    try:
        import datasketch  # noqa: F401  (only for the comparison row)
        sketch = run(DATASKETCH, str(data))
    except ImportError:
        sketch = None
    print(f"{'rensa bare MinHash (baseline)':<34} {rate(base):>10,.0f} records/s")
    print(f"{'rensa batch call':<34} {base['records'] / base['batch_seconds']:>10,.0f} records/s")
    if sketch is not None:
        print(f"{'datasketch MinHash (same tokens)':<34} {rate(sketch):>10,.0f} records/s "
              f"({rate(sketch) / rate(base):.3f}x the baseline)")
    else:
        print("datasketch MinHash: not installed (pip install datasketch for this row)")
    print(f"{'dataforge dedup, end to end':<34} {rate(dedup):>10,.0f} records/s "
          f"({rate(dedup) / rate(base):.2f}x the baseline; goal 0.7x)")
    print(f"dedup peak RSS {dedup['peak_mb']:,.0f} MB (goal under 1,024); removed {dedup['removed']}")
    if args.keep is None:
        import shutil

        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
