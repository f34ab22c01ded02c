"""Memory and time of duplicate detection (D001/D002) as the number of records grows.

    python bench/duplicates_bench.py [--millions 1 4 8]

Feeds N million record digests (one in a thousand repeated) to lint's DigestStore, as lint does
batch by batch, and measures its peak RSS and the time to name the repeats; next to it, in the
same run, the simple way: all digests in one numpy array, sorted. Each figure comes from a fresh
process, so its peak RSS is its own. Digests are made up (no records are parsed): this measures
the dataset rules alone. 1 million records is about 1.4 GB of ChatGLM3 data.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_FEED = """
import random, resource, sys, time
from array import array
n = int(float(sys.argv[1]) * 1_000_000)
rng = random.Random(0)
def batches(size=3000):
    for start in range(0, n, size):
        m = min(size, n - start)
        yield start, array("Q", [12345 if rng.random() < 0.001 else rng.getrandbits(64) for _ in range(m)])
"""
MEASURES = {
    "DigestStore (lint)": _FEED + """
from dataforge.lint.duplicates import DigestStore
store = DigestStore()
spent = 0.0  # in the store only: making up the digests is not timed
for start, digests in batches():
    m = len(digests)
    columns = (digests.tobytes(), array("q", range(start, start + m)).tobytes(),
               array("I", range(start + 1, start + m + 1)).tobytes(), array("I", [1] * m).tobytes())
    t0 = time.perf_counter()
    store.add(0, *columns)
    spent += time.perf_counter() - t0
t0 = time.perf_counter() - spent
found = len(store.repeats())
""",
    "numpy: one array, argsort": _FEED + """
import numpy as np
parts = [np.frombuffer(d, np.uint64) for _, d in batches()]
t0 = time.perf_counter()
digests = np.concatenate(parts)
order = np.argsort(digests, kind="stable")
ordered = digests[order]
found = int(np.count_nonzero(ordered[1:] == ordered[:-1]))
""",
}
_REPORT = "\nprint(found, time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"


def measure(name: str, millions: float) -> tuple[int, float, float]:
    out = subprocess.run([sys.executable, "-c", MEASURES[name] + _REPORT, str(millions)], check=True,
                         capture_output=True, text=True, cwd=HERE.parent).stdout.split()
    return int(out[0]), float(out[1]), float(out[2]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--millions", type=float, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    print(f"{'records':>9} {'method':<28} {'repeats':>8} {'seconds':>8} {'peak RSS':>10}")
    for millions in args.millions:
        for name in MEASURES:
            found, seconds, rss = measure(name, millions)
            print(f"{millions:>8g}M {name:<28} {found:>8} {seconds:>8.2f} {rss:>6.0f} MiB")


if __name__ == "__main__":
    main()
