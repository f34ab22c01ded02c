"""The hand-off commands: export, mix, dedup, split and stats (their arguments and their output).

Exit codes as everywhere: 0 done, 1 the data stopped it (lint errors, records left out on the
user's say-so are not failures), 2 usage or I/O.
"""

from __future__ import annotations

import argparse
import sys

from dataforge.errors import ExitCode


def add_parsers(sub, at_least) -> None:
    export = sub.add_parser("export", help="hand a linted set to a trainer (LLaMA-Factory, Hugging Face, OpenAI, "
                                           "ChatGLM3)",
                            description="Lint DATA (errors stop the export), optionally split off an eval set, and "
                                        "write the target's files and a manifest into DIR.")
    export.add_argument("paths", nargs="+", metavar="DATA")
    export.add_argument("--to", required=True, metavar="TARGET", help="llamafactory, hf, openai, chatglm3, chatglm3-io")
    export.add_argument("-o", "--output", required=True, metavar="DIR")
    export.add_argument("--name", help="dataset name (default: the first input's name)")
    _add_split_arguments(export, required=False)
    export.add_argument("--skip-bad", action="store_true", help="leave out records with lint errors instead of "
                                                                "refusing the set")
    export.add_argument("--template", metavar="NAME", help="the chat template the set is meant for (recorded, and "
                                                           "named in the trainer's config lines)")
    export.add_argument("--parquet", action="store_true", help="hf: Parquet files instead of a save_to_disk folder")
    export.add_argument("--force", action="store_true", help="replace files (and dataset_info.json entries) that exist")

    mix = sub.add_parser("mix", help="several sources, any formats, into one file of one format",
                         description="SOURCE[:WEIGHT]: WEIGHT multiplies the source's records (1: all once, 0.5: "
                                     "half, 2: twice). Fractions are drawn without replacement unless --replacement.")
    mix.add_argument("sources", nargs="+", metavar="SOURCE[:WEIGHT]")
    mix.add_argument("--to", required=True, metavar="FORMAT")
    mix.add_argument("-o", "--output", required=True, metavar="OUT", help=".jsonl or .json")
    mix.add_argument("--seed", type=int, default=0)
    mix.add_argument("--replacement", action="store_true", help="draw round(WEIGHT x records) with replacement")
    mix.add_argument("--no-shuffle", action="store_true", help="keep the sources' order")
    mix.add_argument("--skip-bad", action="store_true", help="leave out records with lint errors")
    mix.add_argument("--force", action="store_true", help="replace OUT if it exists")

    dedup = sub.add_parser("dedup", help="remove exact and near repeats (MinHash), within and across files",
                           description="The first occurrence stays; kept records are copied byte for byte. One "
                                       "input: OUT is a file; several: OUT is a folder.")
    dedup.add_argument("paths", nargs="+", metavar="DATA")
    dedup.add_argument("-o", "--output", required=True, metavar="OUT")
    dedup.add_argument("--threshold", type=_share, default=0.8, help="near-repeat similarity (default 0.8)")
    dedup.add_argument("--exact-only", action="store_true", help="only exact repeats of the canonical sample")
    dedup.add_argument("--report", metavar="FILE", help="JSON Lines report (default: beside OUT)")
    dedup.add_argument("--force", action="store_true", help="replace outputs that exist")
    dedup.add_argument("--jobs", "-j", type=at_least(0), default=0,
                       help="processes for JSON Lines files (default: every core from 32 MB of JSON Lines up, "
                            "else 1)")

    split = sub.add_parser("split", help="train/eval split with no exact or near repeat across it")
    split.add_argument("paths", nargs="+", metavar="DATA")
    split.add_argument("-o", "--output", required=True, metavar="DIR", help="writes train.jsonl and eval.jsonl")
    split.add_argument("--to", metavar="FORMAT", help="format of the outputs (default: the inputs' own, if one)")
    _add_split_arguments(split, required=True)
    split.add_argument("--skip-bad", action="store_true", help="leave out records with lint errors")
    split.add_argument("--force", action="store_true", help="replace outputs that exist")

    stats = sub.add_parser("stats", help="counts, languages and length distributions, with plots",
                           description="Counts over every sample; token lengths (with --tokenizer or --template) "
                                       "over a spread of at most --token-sample samples.")
    stats.add_argument("paths", nargs="+", metavar="DATA")
    stats.add_argument("--tokenizer", metavar="PATH", help="a local tokenizer folder, or qwen (the built-in one)")
    stats.add_argument("--template", metavar="NAME", help="chat template for token counts (default: the format's)")
    stats.add_argument("--max-len", type=at_least(1), metavar="N", help="count samples longer than N tokens")
    stats.add_argument("--trust-remote-code", action="store_true")
    stats.add_argument("--token-sample", type=at_least(1), default=20_000, metavar="N",
                       help="samples tokenized, spread over the set (default 20,000)")
    stats.add_argument("--json", action="store_true", help="print the figures as JSON")
    stats.add_argument("--html", metavar="FILE", help="write a report page with plots")
    stats.add_argument("--png", metavar="FILE", help="write the plots as a PNG")
    stats.add_argument("--jobs", "-j", type=at_least(0), default=0,
                       help="processes for JSON Lines files (default: every core from 32 MB of JSON Lines up, "
                            "else 1)")


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, not {text}")
    return value


def _eval(text: str):
    from dataforge.errors import DataforgeError
    from dataforge.split import eval_size

    try:
        return eval_size(text)
    except DataforgeError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _add_split_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--eval", type=_eval, required=required, metavar="SHARE|COUNT",
                        help="eval split: a share (0.1, 10%%) or a count (500)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    parser.add_argument("--stratify", action="store_true", help="every source file gives eval its share")


def _print_skipped(skipped, limit: int = 20) -> None:
    for s in skipped[:limit]:
        where = f"{s.file}:{s.line}: record {s.record}" if s.record is not None else s.file
        print(f"  left out {where}: {s.why}", file=sys.stderr)
    if len(skipped) > limit:
        print(f"  ... and {len(skipped) - limit} more (the manifest lists every one)", file=sys.stderr)


def _refused(exc) -> int:
    from dataforge.lint.reporters.text import format_finding

    for f in exc.findings:
        print(format_finding(f))
    print(f"dataforge: error: {exc.message}", file=sys.stderr)
    print(f"  hint: {exc.hint}", file=sys.stderr)
    return ExitCode.FINDINGS


def export(args: argparse.Namespace) -> int:
    from dataforge.collect import Refused
    from dataforge.export import export as run_export

    try:
        result = run_export(args.paths, args.to, args.output, name=args.name, eval_size=args.eval, seed=args.seed,
                            stratify=args.stratify, skip_bad=args.skip_bad, template=args.template, force=args.force,
                            options={"parquet": args.parquet})
    except Refused as exc:
        return _refused(exc)
    for output in result.outputs:
        if output.records:
            print(f"wrote {output.records:,} {output.split} sample(s) to {result.folder / output.file}",
                  file=sys.stderr)
    if result.skipped:
        print(f"{len(result.skipped):,} record(s) left out:", file=sys.stderr)
        _print_skipped(result.skipped)
    if result.lost_counts:
        print(f"{result.lossy_records:,} sample(s) lost something {args.to} cannot carry:", file=sys.stderr)
        for message, n in result.lost_counts.most_common(10):
            print(f"  {n:>6,}  {message}", file=sys.stderr)
    print(f"manifest: {result.manifest}", file=sys.stderr)
    if result.config:
        print("\nfor the trainer's config:")
        for line in result.config:
            print(f"  {line}")
    return ExitCode.OK


def mix(args: argparse.Namespace) -> int:
    from dataforge.collect import Refused
    from dataforge.mix import mix as run_mix
    from dataforge.mix import parse_source

    try:
        result = run_mix([parse_source(s) for s in args.sources], args.to, args.output, seed=args.seed,
                         replacement=args.replacement, shuffle=not args.no_shuffle, skip_bad=args.skip_bad,
                         force=args.force)
    except Refused as exc:
        return _refused(exc)
    how = "with replacement" if args.replacement else "without replacement"
    for s in result.sources:
        print(f"  {s.path}: {s.taken:,} of {s.records:,} sample(s) (weight {s.weight:g}, {how})", file=sys.stderr)
    if result.skipped:
        print(f"{len(result.skipped):,} record(s) left out:", file=sys.stderr)
        _print_skipped(result.skipped)
    for note in result.notes[:20]:
        print(f"  {note}", file=sys.stderr)
    print(f"wrote {result.written:,} sample(s) to {args.output} as {args.to} (seed {args.seed}); "
          f"{result.lossy:,} lost something", file=sys.stderr)
    return ExitCode.OK


def dedup(args: argparse.Namespace) -> int:
    from dataforge.dedup import dedup_files

    result = dedup_files(args.paths, args.output, threshold=args.threshold, near=not args.exact_only,
                         report=args.report, force=args.force, jobs=args.jobs)
    kinds = result.repeats.kinds()
    for repeat, gone, first in result.repeats[:20]:
        print(f"  {gone.file}:{gone.line}: record {gone.record} repeats {first.file}:{first.line} "
              f"({repeat.kind}, similarity {repeat.similarity:.2f})", file=sys.stderr)
    if len(result.repeats) > 20:
        print(f"  ... and {len(result.repeats) - 20:,} more in {result.report}", file=sys.stderr)
    unread = f"; {result.unreadable:,} unreadable record(s) kept as they are" if result.unreadable else ""
    print(f"kept {result.kept:,} of {result.records:,} record(s): removed {kinds['exact']:,} exact and "
          f"{kinds['near']:,} near repeat(s){unread}; report: {result.report}", file=sys.stderr)
    return ExitCode.OK


def split(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dataforge.collect import Refused, collect
    from dataforge.errors import DataforgeError
    from dataforge.formats import get_format
    from dataforge.jsonio.layout import RecordWriter
    from dataforge.jsonio.write import atomic_writer, check_output
    from dataforge.split import split_samples

    try:
        collected = collect(args.paths, skip_bad=args.skip_bad)
    except Refused as exc:
        return _refused(exc)
    formats = collected.formats
    if args.to is None and len(formats) != 1:
        raise DataforgeError(f"the inputs hold several formats ({', '.join(formats)})", hint="pass --to FORMAT")
    fmt = get_format(args.to or next(iter(formats)))
    result = split_samples(collected.samples, args.eval, args.seed, args.stratify)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    lossy = 0
    for name, indexes in (("train", result.train), ("eval", result.eval)):
        path = out / f"{name}.jsonl"
        check_output(path, collected.files, args.force)
        with atomic_writer(path) as f:
            writer = RecordWriter(f, True)
            for i in indexes:
                record, losses = fmt.write(collected.samples[i])
                lossy += bool(losses)
                writer.write(record)
            writer.close()
        print(f"wrote {len(indexes):,} sample(s) to {path}", file=sys.stderr)
    if collected.skipped:
        _print_skipped(collected.skipped)
    if result.note:
        print(f"note: {result.note}", file=sys.stderr)
    print(f"{result.clusters_kept_whole:,} group(s) of repeats kept on one side; seed {args.seed}"
          + (f"; {lossy:,} sample(s) lost something {fmt.name} cannot hold" if lossy else ""), file=sys.stderr)
    return ExitCode.OK


def stats(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console

    from dataforge.stats import file_figures
    from dataforge.stats.terminal import figures_table

    masking = None
    if args.tokenizer or args.template or args.max_len:
        from dataforge.masking.encode import EncodeOptions
        from dataforge.masking.session import MaskingSession

        fmt_name = None
        if args.template is None:  # the format's own template, from the first sample's format
            from dataforge.convert import read_samples
            from dataforge.lint.engine import dataset_files

            first = next((s for f in dataset_files(args.paths)[:1] for _, _, s, _ in read_samples(f) if s), None)
            fmt_name = first.meta["format"] if first else None
        masking = MaskingSession.create(args.tokenizer, args.template, fmt_name, args.trust_remote_code,
                                        EncodeOptions(max_len=args.max_len))
    figures = file_figures(args.paths, masking, masking.tokenizer.name if masking else "", args.token_sample,
                           jobs=args.jobs)
    if args.json:
        print(json.dumps(figures.as_dict(), ensure_ascii=False, indent=2))
    else:
        Console(highlight=False).print(figures_table(figures))
    if args.png:
        from dataforge.stats.report import write_png

        write_png(figures, args.png)
        print(f"wrote {args.png}", file=sys.stderr)
    if args.html:
        from dataforge.stats.report import write_html

        write_html(figures, args.html, list(args.paths))
        print(f"wrote {args.html}", file=sys.stderr)
    return ExitCode.OK


COMMANDS = {"export": export, "mix": mix, "dedup": dedup, "split": split, "stats": stats}
