"""How long the review app takes to put the first rows of a large JSONL on screen, and to filter
and count it, next to baselines measured in the same run.

    python bench/tui_bench.py [--records 100000 1000000]

For each size, in a fresh process each time:
  - baseline: start Python and import Textual (what any Textual app pays before its first frame);
  - first rows: start Python, import the app, open the file and show its first rows and sample
    (headless, Textual's test harness, 120x36);
  - in the same app, a text filter over every record, and the Stats tab (counts by status and
    findings, lengths of the first 5,000 samples), each until its result is on screen.
Reading the file's lines is printed too, as the floor for anything that touches every record.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from conversations import conversation  # noqa: E402  (bench/ is run as a folder of scripts)

HERE = Path(__file__).resolve().parent

_BASELINE = "import time; t0 = time.perf_counter(); import textual.app; print(time.perf_counter() - t0)"
_APP = """
import asyncio, sys, time
t0 = time.perf_counter()
from dataforge.tui.app import DataforgeApp
from dataforge.tui.sample_list import SampleList

async def main():
    app = DataforgeApp([sys.argv[1]])
    async with app.run_test(size=(120, 36)) as pilot:
        while not (len(app.query_one(SampleList).rows) and str(app.query_one("#messages").render()).strip()):
            await pilot.pause(0.005)
        first = time.perf_counter() - t0
        while not app.session.current.linted:  # filters and Stats wait for lint's findings
            await pilot.pause(0.05)
        t1 = time.perf_counter()
        app.query_one("#text").value = "zzz-no-such-text"
        while len(app.query_one(SampleList).rows):
            await pilot.pause(0.005)
        filtered = time.perf_counter() - t1
        t2 = time.perf_counter()
        await pilot.press("4")
        body = app.query_one("#stats-body")

        def stats_text():
            return "".join(seg.text for strip in body.render_lines(body.region.reset_offset) for seg in strip)

        while "samples" not in stats_text():
            await pilot.pause(0.01)
        stats = time.perf_counter() - t2
        app.workers.cancel_all()
    print(first, filtered, stats)

asyncio.run(main())
"""


def build(records: int) -> Path:
    path = HERE / "data" / f"review_{records}.jsonl"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        rng = random.Random(2)
        with open(path, "w", encoding="utf-8") as f:
            for _ in range(records):
                f.write(json.dumps(conversation(rng), ensure_ascii=False) + "\n")
    return path


def run(code: str, *args: str) -> tuple[float, list[float]]:
    """(wall seconds from process start to exit, the numbers the process printed)."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True,
                         cwd=HERE.parent).stdout.split()
    return time.perf_counter() - started, [float(x) for x in out]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[100_000])
    args = parser.parse_args()
    print(f"{'records':>10} {'MB':>6} {'read lines':>11} {'python+textual':>15} {'first rows':>11} "
          f"{'vs baseline':>12} {'filter':>8} {'stats':>8}")
    for n in args.records:
        path = build(n)
        size = path.stat().st_size / 1e6
        started = time.perf_counter()
        with open(path, "rb") as f:
            sum(1 for _ in f)
        read = time.perf_counter() - started
        baseline, _ = run(_BASELINE)
        _, (first_in_process, filtered, stats) = run(_APP, str(path))
        # the app's own clock starts after the interpreter: add the interpreter's start-up, measured
        # by the baseline process, minus its Textual import, which the app's figure includes
        interpreter = baseline - run(_BASELINE)[1][0]
        first = interpreter + first_in_process
        print(f"{n:>10,} {size:>6.0f} {read:>10.2f}s {baseline:>14.2f}s {first:>10.2f}s {first / baseline:>11.1f}x "
              f"{filtered:>7.2f}s {stats:>7.2f}s")


if __name__ == "__main__":
    main()
