"""Lint throughput and memory on a large ChatGLM3 dataset, next to baselines measured in the same run.

    python bench/lint_bench.py [--size-mb 200]

Builds (once, cached under bench/data/) a ChatGLM3-format JSONL of about --size-mb MB and the
same records as one JSON array (pretty-printed, as json.dump(indent=2) writes it) and as a compact
array. Each figure is measured in a fresh subprocess so its peak RSS is its own. The machines are
shared and noisy: compare the ratios printed on one line, not the times across runs.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

ZH = "退货政策规定顾客在收到商品后七天内可以无理由退货但需保持商品完好无损并附带原始包装和发票仓库确认收货后原路退款"
EN = ("the customer asks whether an opened item can still be returned and the assistant explains the policy "
      "refunds arrive within three business days after the warehouse confirms receipt").split()
TOOLS = [{"name": "get_weather", "description": "查询城市天气",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]


def _text(rng: random.Random, n: int) -> str:
    if rng.random() < 0.5:
        return "".join(rng.choice(ZH) for _ in range(n))
    return " ".join(rng.choice(EN) for _ in range(max(1, n // 4)))


def _record(rng: random.Random) -> dict:
    conversation = []
    if rng.random() < 0.4:
        conversation.append({"role": "system", "content": _text(rng, 40)})
    record: dict = {}
    with_tools = rng.random() < 0.25
    if with_tools:
        record["tools"] = TOOLS
    for _ in range(rng.randint(1, 3)):
        conversation.append({"role": "user", "content": _text(rng, rng.randint(20, 120))})
        if with_tools and rng.random() < 0.5:
            conversation.append({"role": "tool", "name": "get_weather", "parameters": {"city": "北京"},
                                 "observation": {"temperature": rng.randint(-10, 35), "condition": "晴"}})
        conversation.append({"role": "assistant", "content": _text(rng, rng.randint(60, 300))})
    if with_tools and conversation[0]["role"] == "system":
        conversation.pop(0)  # keep the data clean: tools with a system prompt is a finding (T008)
    record["conversations"] = conversation
    return record


def build(size_mb: int) -> dict[str, Path]:
    DATA.mkdir(exist_ok=True)
    paths = {"jsonl": DATA / f"chatglm3_{size_mb}mb.jsonl", "array": DATA / f"chatglm3_{size_mb}mb.json",
             "compact array": DATA / f"chatglm3_{size_mb}mb_compact.json"}
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
            record = _record(rng)
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


# Each measurement runs as `python -c CODE path`; it prints "<bytes processed> <seconds> <peak RSS KiB>".
_PRELUDE = "import sys, time, resource, os\npath = sys.argv[1]\nt0 = time.perf_counter()\n"
_REPORT = ("\nprint(n_bytes, time.perf_counter() - t0, "
           "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
MEASURES = {
    "orjson parse only": """
import orjson
n_bytes = os.path.getsize(path)
if path.endswith('.jsonl'):
    with open(path, 'rb') as f:
        for line in f:
            orjson.loads(line)
else:
    import gc
    gc.disable()  # the whole-array parse is otherwise dominated by the collector (MEASURED.md)
    with open(path, 'rb') as f:
        orjson.loads(f.read())
""",
    "dataforge lint, 1 process": """
from dataforge.lint.engine import LintOptions, Linter
linter = Linter(LintOptions(jobs=1))
findings = sum(1 for _ in linter.run([path]))
assert findings == 0, findings
n_bytes = linter.summary.bytes
""",
    "dataforge lint, 2 processes": """
from dataforge.lint.engine import LintOptions, Linter
linter = Linter(LintOptions(jobs=2))
findings = sum(1 for _ in linter.run([path]))
assert findings == 0, findings
n_bytes = linter.summary.bytes
""",
    "jsonschema (Draft 2020-12) on a 4 MB slice": """
import json, jsonschema
from dataforge.schemas import load_schema
validator = jsonschema.Draft202012Validator(load_schema('chatglm3.schema.json'))
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


def measure(name: str, path: Path) -> tuple[float, float]:
    code = _PRELUDE + MEASURES[name] + _REPORT
    out = subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True,
                         cwd=HERE.parent).stdout.split()
    n_bytes, seconds, rss_kib = float(out[0]), float(out[1]), float(out[2])
    return n_bytes / seconds / 1e6, rss_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    args = parser.parse_args()
    t0 = time.perf_counter()
    paths = build(args.size_mb)
    print(f"data: {args.size_mb} MB of ChatGLM3 records (built or reused in {time.perf_counter() - t0:.0f} s)\n")
    print(f"{'file':<14} {'method':<44} {'MB/s':>8} {'peak RSS':>10} {'vs orjson':>10}")
    plan = {"jsonl": ["orjson parse only", "dataforge lint, 1 process", "dataforge lint, 2 processes",
                      "jsonschema (Draft 2020-12) on a 4 MB slice"],
            "array": ["orjson parse only", "dataforge lint, 1 process"],
            "compact array": ["orjson parse only", "dataforge lint, 1 process"]}
    for kind, names in plan.items():
        baseline = None
        for name in names:
            speed, rss = measure(name, paths[kind])
            baseline = baseline or speed
            print(f"{kind:<14} {name:<44} {speed:>8.1f} {rss:>7.0f} MiB {speed / baseline:>9.2f}x")
        print()


if __name__ == "__main__":
    main()
