"""Time of `dataforge stats` on a million records, next to parsing the same file with orjson.

    python bench/stats_bench.py [--records 1000000] [--data FILE]

Uses dedup_bench's Alpaca JSON Lines (English and Chinese, ~500 bytes a record) unless --data
names a file. Each measure runs in its own process, after its imports:

- baseline: orjson parsing every line, and nothing else (the floor of any reader);
- dataforge stats, one process;
- dataforge stats as the command runs it (worker processes from 32 MB of JSON Lines up).

Goal: stats on 1,000,000 records in under 10 s on this machine (2 cores).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

BASELINE = """
import json, sys, time
import orjson
t0 = time.perf_counter()
n = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        orjson.loads(line)
        n += 1
print(json.dumps({"seconds": time.perf_counter() - t0, "records": n}))
"""

STATS = """
import json, sys, time
from dataforge.stats import file_figures
if __name__ == "__main__":
    t0 = time.perf_counter()
    figures = file_figures([sys.argv[1]], jobs=int(sys.argv[2]))
    print(json.dumps({"seconds": time.perf_counter() - t0, "records": figures.samples + figures.unreadable}))
"""


def run(code: str, *args: str) -> dict:
    script = Path(tempfile.mkdtemp()) / "measure.py"  # a file: worker processes import the main module
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, cwd=HERE.parent)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path)
    args = parser.parse_args()
    data = args.data
    if data is None:
        from dedup_bench import make_data

        data = Path(tempfile.mkdtemp(prefix="stats-bench-")) / "records.jsonl"
        make_data(data, args.records)
    print(f"{data}: {data.stat().st_size / 1e6:,.0f} MB")
    base = run(BASELINE, str(data))
    one = run(STATS, str(data), "1")
    auto = run(STATS, str(data), "0")
    print(f"{'orjson parse only (baseline)':<30} {base['seconds']:6.1f} s  {base['records']:,} records")
    for label, r in (("dataforge stats, 1 process", one), ("dataforge stats (default)", auto)):
        print(f"{label:<30} {r['seconds']:6.1f} s  ({base['seconds'] / r['seconds']:.2f}x the baseline's speed)")
    print(f"goal: under 10 s for 1,000,000 records; default run: {auto['seconds']:.1f} s")
    if args.data is None:
        import shutil

        shutil.rmtree(data.parent)


if __name__ == "__main__":
    main()
