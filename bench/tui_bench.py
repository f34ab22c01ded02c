"""How long the review app takes to show its first screen of a 100,000-record JSONL, next to the
time it takes merely to read the file, measured in the same run.

    python bench/tui_bench.py [--records 100000]

The app runs headless (Textual's test harness) at 120x36; the first screen is shown when the
sample list has its rows and the detail pane its first sample. Lint goes on in the background.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from pathlib import Path

from conversations import conversation  # noqa: E402  (bench/ is run as a folder of scripts)

HERE = Path(__file__).resolve().parent


def build(records: int) -> Path:
    path = HERE / "data" / f"review_{records}.jsonl"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        rng = random.Random(2)
        with open(path, "w", encoding="utf-8") as f:
            for _ in range(records):
                f.write(json.dumps(conversation(rng), ensure_ascii=False) + "\n")
    return path


async def first_screen(path: Path) -> float:
    from dataforge.tui.app import DataforgeApp
    from dataforge.tui.sample_list import SampleList

    started = time.perf_counter()
    app = DataforgeApp([str(path)])
    async with app.run_test(size=(120, 36)) as pilot:
        while not (len(app.query_one(SampleList).rows) and str(app.query_one("#messages").render()).strip()):
            await pilot.pause(0.01)
        shown = time.perf_counter() - started
        app.workers.cancel_all()
    return shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    path = build(args.records)
    size = path.stat().st_size / 1e6
    started = time.perf_counter()
    with open(path, "rb") as f:
        lines = sum(1 for _ in f)
    read = time.perf_counter() - started
    import dataforge.tui.app  # noqa: F401  (imports are not the file's size: leave them out of both)

    shown = asyncio.run(first_screen(path))
    print(f"{lines:,} records, {size:.0f} MB")
    print(f"{'read the file (lines only)':<36} {read:6.2f} s")
    print(f"{'dataforge tui: first screen':<36} {shown:6.2f} s   {shown / read:.1f}x reading the file")


if __name__ == "__main__":
    main()
