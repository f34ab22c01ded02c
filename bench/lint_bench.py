"""Lint throughput and memory on a large dataset, next to baselines measured in the same run.

    python bench/lint_bench.py [--size-mb 200] [--format chatglm3|alpaca|sharegpt]

Builds (once, cached under bench/data/) a JSONL of about --size-mb MB in the format (ChatGLM3
conversations, a quarter with tools, by default) and the same records as one JSON array (pretty-printed, as json.dump(indent=2) writes it) and as a compact
array, and two JSONL files of the same records with findings: a warning on every record, an error
on one record in ten. Those are compared with the clean file's lint speed. Each figure is measured in a fresh subprocess so its peak RSS is its own. The machines are
shared and noisy (the same run varies by a third from minute to minute here): every method is
measured --rounds times, interleaved, and the best speed (the least disturbed run) is shown, with
the highest peak RSS. Compare the ratios printed on one line, not the times across runs.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from conversations import RECORDS  # noqa: E402  (bench/ is run as a folder of scripts)

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

def build(size_mb: int, fmt: str = "chatglm3") -> dict[str, Path]:
    DATA.mkdir(exist_ok=True)
    paths = {"jsonl": DATA / f"{fmt}_{size_mb}mb.jsonl", "array": DATA / f"{fmt}_{size_mb}mb.json",
             "compact array": DATA / f"{fmt}_{size_mb}mb_compact.json"}
    make = RECORDS[fmt]
    if all(p.exists() for p in paths.values()):
        return paths
    rng = random.Random(0)
    target = size_mb * 1_000_000
    written = 0
    with open(paths["jsonl"], "w", encoding="utf-8") as lines, open(paths["array"], "w", encoding="utf-8") as array, \
            open(paths["compact array"], "w", encoding="utf-8") as compact:
        array.write("[\n")
        compact.write("[")
        first = True
        while written < target:
            record = make(rng)
            line = json.dumps(record, ensure_ascii=False)
            lines.write(line + "\n")
            pretty = json.dumps(record, ensure_ascii=False, indent=2).replace("\n", "\n  ")
            array.write(("" if first else ",\n") + "  " + pretty)
            compact.write(("" if first else ", ") + line)
            first = False
            written += len(line.encode()) + 1
        array.write("\n]\n")
        compact.write("]\n")
    return paths


def with_findings(clean: Path) -> dict[str, Path]:
    """The same records with findings: a warning on every record (an unknown key, as FastChat or a
    scraper adds one), and an error on one record in ten (a role nobody knows)."""
    paths = {"jsonl, a warning per record": clean.with_name(clean.stem + "_warned.jsonl"),
             "jsonl, an error per 10 records": clean.with_name(clean.stem + "_errors.jsonl")}
    if all(p.exists() for p in paths.values()):
        return paths
    with open(clean, encoding="utf-8") as source, \
            open(paths["jsonl, a warning per record"], "w", encoding="utf-8") as warned, \
            open(paths["jsonl, an error per 10 records"], "w", encoding="utf-8") as errors:
        for n, line in enumerate(source):
            record = json.loads(line)
            warned.write(json.dumps({**record, "source": "crawl"}, ensure_ascii=False) + "\n")
            if n % 10 == 0:
                messages = next(v for v in record.values() if isinstance(v, list) and v and isinstance(v[0], dict))
                key = "role" if "role" in messages[0] else "from"
                messages[0][key] = "narrator"
            errors.write(json.dumps(record, ensure_ascii=False) + "\n")
    return paths


# Each measurement runs as `python -c CODE path`; it prints "<bytes processed> <seconds> <peak RSS KiB>".
# The clock starts after the imports (t0 in each CODE): throughput, not start-up (about 0.1 s).
_PRELUDE = "import sys, time, resource, os\npath = sys.argv[1]\n"
_REPORT = ("\nprint(n_bytes, time.perf_counter() - t0, "
           "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
_LINT = """
from dataforge.lint.engine import LintOptions, Linter
t0 = time.perf_counter()
linter = Linter(LintOptions(jobs={jobs}))
findings = sum(1 for _ in linter.run([path]))
assert findings == 0, findings
n_bytes = linter.summary.bytes
"""
MEASURES = {
    "orjson parse only": """
import orjson
t0 = time.perf_counter()
n_bytes = os.path.getsize(path)
if path.endswith('.jsonl'):
    with open(path, 'rb') as f:
        for line in f:
            orjson.loads(line)
else:
    import gc
    gc.disable()  # the whole-array parse is otherwise dominated by the collector walking millions of new containers
    with open(path, 'rb') as f:
        orjson.loads(f.read())
""",
    "dataforge lint, 1 process": _LINT.format(jobs=1),
    "dataforge lint, 2 processes": _LINT.format(jobs=2),
    # With findings: the run is what matters, not their number (the text reporter formats each).
    "dataforge lint with findings, 1 process": _LINT.format(jobs=1).replace("assert findings == 0, findings\n", ""),
    "dataforge lint with findings, 2 processes": _LINT.format(jobs=2).replace("assert findings == 0, findings\n", ""),
    "jsonschema (Draft 2020-12) on a 4 MB slice": """
import json, jsonschema
from dataforge.schemas import load_schema
validator = jsonschema.Draft202012Validator(load_schema(sys.argv[2] + '.schema.json'))
t0 = time.perf_counter()
n_bytes = 0
with open(path, 'rb') as f:
    for line in f:
        for error in validator.iter_errors(json.loads(line)):
            raise SystemExit(error.message)
        n_bytes += len(line)
        if n_bytes > 4_000_000:
            break
""",
}


def measure(name: str, path: Path, fmt: str) -> tuple[float, float]:
    code = _PRELUDE + MEASURES[name] + _REPORT
    out = subprocess.run([sys.executable, "-c", code, str(path), fmt], check=True, capture_output=True, text=True,
                         cwd=HERE.parent).stdout.split()
    n_bytes, seconds, rss_kib = float(out[0]), float(out[1]), float(out[2])
    return n_bytes / seconds / 1e6, rss_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--format", choices=sorted(RECORDS), default="chatglm3")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measure everything this many times, interleaved, and keep each one's best")
    args = parser.parse_args()
    t0 = time.perf_counter()
    paths = build(args.size_mb, args.format)
    paths.update(with_findings(paths["jsonl"]))
    print(f"data: {args.size_mb} MB of {args.format} records (built or reused in {time.perf_counter() - t0:.0f} s); "
          f"best of {args.rounds} interleaved rounds\n")
    plan = {"jsonl": ["orjson parse only", "dataforge lint, 1 process", "dataforge lint, 2 processes",
                      "jsonschema (Draft 2020-12) on a 4 MB slice"],
            "array": ["orjson parse only", "dataforge lint, 1 process"],
            "compact array": ["orjson parse only", "dataforge lint, 1 process"],
            "jsonl, a warning per record": ["dataforge lint with findings, 1 process",
                                            "dataforge lint with findings, 2 processes"],
            "jsonl, an error per 10 records": ["dataforge lint with findings, 1 process",
                                               "dataforge lint with findings, 2 processes"]}
    best: dict[tuple[str, str], tuple[float, float]] = {}
    for _ in range(args.rounds):
        # Interleaved, so that a slow spell of the shared machine hurts every method alike.
        for kind, names in plan.items():
            for name in names:
                speed, rss = measure(name, paths[kind], args.format)
                old_speed, old_rss = best.get((kind, name), (0.0, 0.0))
                best[kind, name] = max(speed, old_speed), max(rss, old_rss)
    print(f"{'file':<30} {'method':<44} {'MB/s':>8} {'peak RSS':>10} {'vs base':>8}")
    clean = best["jsonl", "dataforge lint, 1 process"][0]
    for kind, names in plan.items():
        # files with findings are compared with the clean file's lint speed (goal: 0.6x or more);
        # the others with orjson parsing the same file
        baseline = clean if "with findings" in names[0] else best[kind, names[0]][0]
        for name in names:
            speed, rss = best[kind, name]
            print(f"{kind:<30} {name:<44} {speed:>8.1f} {rss:>7.0f} MiB {speed / baseline:>7.2f}x")
        if "with findings" in names[0]:
            one, two = (best[kind, n][0] for n in names)
            print(f"{'':<30} {'2 processes vs 1 (goal: 1.5x or more)':<44} {'':>8} {'':>10} {two / one:>7.2f}x")
        print()


if __name__ == "__main__":
    main()
