"""A seeded, longer run of the structure-aware fuzz test, printing what it did.

    python bench/fuzz_long.py [--seed 1] [--examples 3000]

The suite runs the same strategies (tests/test_fuzz_structure.py: a well-formed record of every
layout with a value of any type, size or encoding put at any path) a few hundred times; this
script runs them as long as asked, with a seed so a failure can be replayed, and counts the exit
codes of every command. A traceback is a failure: it is printed with the record that caused it
and the script exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from dataforge.cli import main  # noqa: E402
from tests.test_fuzz_structure import damaged_records  # noqa: E402

COMMANDS = {
    "lint": ["lint", "{data}", "--output-format", "json"],
    "lint-masking": ["lint", "{data}", "--template", "qwen", "--max-len", "64"],
    "preview": ["preview", "{data}"],
    "convert-openai": ["convert", "{data}", "--to", "openai", "-o", "{out}", "--force"],
    "convert-chatglm3": ["convert", "{data}", "--to", "chatglm3", "-o", "{out}", "--force"],
    "fix": ["lint", "{data}", "--fix", "--no-backup", "--output-format", "json"],
}


LAYOUT_KEYS = {"conversations", "tools", "messages", "instruction", "prompt", "conversation"}


def run(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            return main(argv)
        except SystemExit as exc:
            return int(exc.code or 0)


def main_() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--examples", type=int, default=3000)
    args = parser.parse_args()
    exits: dict[str, Counter] = {name: Counter() for name in COMMANDS}
    layouts: Counter = Counter()
    failures: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="dataforge-fuzz-"))
    data, out = folder / "data.jsonl", folder / "out.jsonl"

    @seed(args.seed)
    @settings(max_examples=args.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(record=damaged_records())
    def one(record) -> None:
        text = json.dumps(record, ensure_ascii=False)
        first = next(iter(record), None) if isinstance(record, dict) else None
        layouts[first if first in LAYOUT_KEYS else "other object" if isinstance(record, dict)
                else type(record).__name__] += 1
        for name, template in COMMANDS.items():
            data.write_text(text + "\n", encoding="utf-8")
            argv = [a.format(data=data, out=out) for a in template]
            try:
                exits[name][run(argv)] += 1
            except Exception:  # noqa: BLE001 - what this script looks for
                failures.append(f"{name}: {text[:300]}\n{traceback.format_exc()}")
                raise

    started = time.perf_counter()
    try:
        one()
    except Exception:  # noqa: BLE001 - reported below, with the record
        pass
    elapsed = time.perf_counter() - started
    total = sum(layouts.values())
    print(f"seed {args.seed}: {total} records, {total * len(COMMANDS)} commands in {elapsed:.0f} s")
    print("records by first key: " + ", ".join(f"{k} {v}" for k, v in layouts.most_common()))
    for name, counts in exits.items():
        print(f"  {name:<17} " + ", ".join(f"exit {code}: {n}" for code, n in sorted(counts.items())))
    print(f"tracebacks: {len(failures)}")
    for failure in failures[:3]:
        print(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main_())
