"""The `dataforge` command: parse arguments, call the core, render what comes back.

stdout carries the data (findings, converted records' summaries, rule docs); stderr carries
diagnostics. Exit codes: 0 clean, 1 findings (or records lost in a conversion), 2 usage or I/O.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dataforge import __version__
from dataforge.errors import DataforgeError, ExitCode


def _at_least(least: int):
    def number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, not {value}")
        return value

    return number


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dataforge", description="Author, validate and preview fine-tuning datasets for chat models.")
    parser.add_argument("--version", action="version", version=f"dataforge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    lint = sub.add_parser("lint", help="check dataset files against their format's rules",
                          description="Check .json/.jsonl dataset files (or directories of them).")
    lint.add_argument("paths", nargs="+", metavar="PATH")
    lint.add_argument("--format", help="read every record as this format (default: auto-detect)")
    lint.add_argument("--select", type=_codes, help="only these rule codes or prefixes, comma-separated (e.g. R,T001)")
    lint.add_argument("--ignore", type=_codes, help="skip these rule codes or prefixes")
    lint.add_argument("--output-format", choices=("text", "json", "github", "sarif"))
    lint.add_argument("--statistics", action="store_true", default=None, help="count findings by rule")
    lint.add_argument("--fail-on", choices=("error", "warning"), help="lowest severity that fails (default: error)")
    lint.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    lint.add_argument("--fix", action="store_true", help="apply safe fixes in place (keeps FILE.orig)")
    lint.add_argument("--no-backup", action="store_true", help="with --fix: do not keep FILE.orig")
    lint.add_argument("--jobs", "-j", type=_at_least(0),
                      help="processes for JSON Lines files (default: every core from 32 MB of JSON Lines up, "
                           "else 1)")
    _add_masking_arguments(lint, for_lint=True)

    rule = sub.add_parser("rule", help="explain a lint rule, with a bad and a good example")
    rule.add_argument("code", nargs="?")
    rule.add_argument("--list", action="store_true", help="list every rule")

    sub.add_parser("formats", help="list the dataset formats dataforge reads and writes")

    convert = sub.add_parser("convert", help="convert a dataset to another format")
    convert.add_argument("input", metavar="IN")
    convert.add_argument("--to", required=True, metavar="FORMAT")
    convert.add_argument("-o", "--output", required=True, metavar="OUT", help=".jsonl or .json")
    convert.add_argument("--from", dest="source", default="auto", metavar="FORMAT")
    convert.add_argument("--force", action="store_true", help="replace OUT if it exists")

    schema = sub.add_parser("schema", help="print the JSON Schema of a format")
    schema.add_argument("format")

    templates = sub.add_parser("templates", help="list the chat templates masking and preview can use")
    templates.add_argument("-v", "--verbose", action="store_true",
                           help="also say which reference each template follows and where it departs from it")

    chunks = sub.add_parser("chunks", help="show how a .docx is cut into chunks for generation")
    chunks.add_argument("docx")
    chunks.add_argument("--budget", type=_at_least(16), default=512, help="tokens per chunk (default 512)")
    chunks.add_argument("--output-format", choices=("text", "json"), default="text")

    generate = sub.add_parser("generate", help="make training records from .docx documents",
                              description="Without an endpoint, records come from the document's own structure "
                                          "(no model, no key). With --base-url and --model, an OpenAI-compatible "
                                          "server writes them.")
    generate.add_argument("docx", nargs="+")
    generate.add_argument("-o", "--output", help="records file, .jsonl or .json (default: <first docx>.<to>.jsonl)")
    generate.add_argument("--to", default="alpaca", choices=("alpaca", "openai", "chatglm3"), help="record format")
    generate.add_argument("--budget", type=_at_least(16), default=512, help="tokens per chunk")
    generate.add_argument("--base-url", help="OpenAI-compatible endpoint (or DATAFORGE_BASE_URL)")
    generate.add_argument("--model", help="model name (or DATAFORGE_MODEL)")
    generate.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the key "
                                                               "(default OPENAI_API_KEY; or DATAFORGE_API_KEY)")
    generate.add_argument("--concurrency", type=_at_least(1), default=8,
                          help="requests in flight at once (default 8)")
    generate.add_argument("--timeout", type=_seconds, default=60.0,
                          help="seconds for a whole request, reply included (default 60)")
    generate.add_argument("--retries", type=_at_least(0), default=5, help="retries on 429, 5xx and timeouts")
    generate.add_argument("--reasks", type=_at_least(0), default=2, help="times a bad reply is asked again, with its errors")
    generate.add_argument("--per-chunk", type=_at_least(1), default=2, help="records asked for per chunk")
    generate.add_argument("--turns", type=_at_least(1), default=1, help="user turns per conversation (openai, chatglm3)")
    generate.add_argument("--tools", action="store_true", help="ask for tool calls where they fit")
    generate.add_argument("--price", nargs=2, type=float, metavar=("PROMPT", "COMPLETION"),
                          help="price per million tokens, for the cost tally")
    generate.add_argument("--fresh", action="store_true", help="ignore the journal of an earlier run")
    generate.add_argument("--force", action="store_true",
                          help="replace an existing output that is not this job's own (no journal beside it)")

    tui = sub.add_parser("tui", help="the review app (also what `dataforge` alone opens)")
    tui.add_argument("paths", nargs="*", metavar="PATH", help=".docx and dataset files, or folders (default: .)")

    serve = sub.add_parser("serve-test-llm", help="run a fake OpenAI-compatible server for tests and CI")
    serve.add_argument("--port", type=_at_least(0), default=0)
    serve.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    serve.add_argument("--script", help="a JSON file: a list of actions, one per request (see its docs)")

    preview = sub.add_parser("preview", help="show a sample's tokens, ids and labels (-100 where not trained)",
                             description="Tokenize one record the way training will, and show what is trained.")
    preview.add_argument("file")
    which = preview.add_mutually_exclusive_group()
    which.add_argument("--record", type=_at_least(0), metavar="N", help="the record with this index (0-based; default 0)")
    which.add_argument("--line", type=_at_least(1), metavar="L", help="the record that starts on line L")
    which.add_argument("--first-with-findings", action="store_true", help="the first record lint has findings on")
    _add_masking_arguments(preview)
    preview.add_argument("--output-format", choices=("table", "json", "sanity"), default="table",
                         help="sanity: the ChatGLM3 demo's 'text': id -> label listing")
    from dataforge import cli_handoff

    cli_handoff.add_parsers(sub, _at_least)
    from dataforge import cli_train

    cli_train.add_parsers(sub)
    return parser


def _add_masking_arguments(parser: argparse.ArgumentParser, for_lint: bool = False) -> None:
    parser.add_argument("--tokenizer", metavar="PATH",
                        help="a local Hugging Face tokenizer folder, or qwen for the built-in one"
                             + (" (turns on the M rules)" if for_lint else " (the default)"))
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="allow a tokenizer that ships its own Python code (ChatGLM3, Baichuan2)")
    parser.add_argument("--template", metavar="NAME",
                        help="a built-in template, or hf for the tokenizer's chat_template (default: from the format)")
    parser.add_argument("--max-len", type=_at_least(1), metavar="N", help="truncate to N tokens")
    if for_lint:
        return
    parser.add_argument("--truncation", choices=("right", "turns", "budget"), default="right",
                        help="right: cut the end; turns: drop the oldest turns; budget: half for the prompt")
    parser.add_argument("--labels", choices=("unshifted", "chatglm3"), default="unshifted",
                        help="label convention (chatglm3: the reference demo's mask shifted by one)")
    parser.add_argument("--train-on-prompt", action="store_true", help="train system, user and tool output too")
    parser.add_argument("--last-turn-only", action="store_true", help="train only the last reply")
    parser.add_argument("--no-train-end-of-turn", action="store_true", help="do not train the token that ends a reply")


def main(argv: Sequence[str] | None = None) -> int:
    from dataforge.jsonio.write import exit_on_sigterm

    exit_on_sigterm()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            args = parser.parse_args(["tui"])
        return _COMMANDS[args.command](args)
    except DataforgeError as exc:
        print(f"dataforge: error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `dataforge lint ... | head`: the reader has seen enough
        sys.stderr.close()
        return ExitCode.OK
    except OSError as exc:  # a full disk, a file taken away mid-run: what the system said, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"dataforge: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return ExitCode.USAGE


def _lint(args: argparse.Namespace) -> int:
    from dataforge.lint.engine import Linter
    from dataforge.lint.findings import Severity
    from dataforge.lint.record import project_options
    from dataforge.lint.reporters import REPORTERS, text
    from dataforge.settings import lint_settings

    conf = lint_settings()

    def setting(name: str, default):
        value = getattr(args, name.replace("-", "_"))
        return value if value is not None else conf.get(name, default)

    # the settings read once: lint's options and the command's own (fail-on, output-format, statistics)
    options = project_options(conf, **{k: getattr(args, k) for k in ("format", "select", "ignore", "jobs",
                                                                      "tokenizer", "template", "max_len",
                                                                      "trust_remote_code")})
    linter = Linter(options)
    threshold = Severity(setting("fail-on", "error"))
    output = setting("output-format", "text")
    failed = False
    fixable = []

    def watched(findings):
        nonlocal failed
        for f in findings:
            failed = failed or f.severity.rank >= threshold.rank
            if f.fixable:
                fixable.append(f)
            yield f

    findings = watched(linter.run(args.paths))
    if output == "text":
        text.report(findings, lambda: linter.summary, sys.stdout, statistics=bool(setting("statistics", False)))
    else:
        REPORTERS[output](findings, lambda: linter.summary, sys.stdout)
    if args.fix and fixable:
        from dataforge.lint.fix import fix_files

        for result in fix_files(fixable, backup=not args.no_backup, format_name=options.format):
            if result.error is not None:
                print(f"dataforge: error: {result.file}: not fixed: {result.error}", file=sys.stderr)
                failed = True
                continue
            n = result.fixed
            kept = f" (original kept as {result.backup})" if result.backup else ""
            print(f"fixed {n} finding{'s' * (n != 1)} in {result.file}{kept}", file=sys.stderr)
    elif fixable:
        print(f"{len(fixable)} finding{'s' * (len(fixable) != 1)} can be fixed with --fix", file=sys.stderr)
    return ExitCode.FINDINGS if failed and not args.exit_zero else ExitCode.OK


def _rule(args: argparse.Namespace) -> int:
    from dataforge.lint.rules import get_rule, load_all

    rules = load_all()
    if args.list or not args.code:
        for code, r in sorted(rules.items()):
            print(f"{code}  {r.name:<24} {r.severity:<8} {r.summary}")
        return ExitCode.OK
    r = get_rule(args.code)
    print(f"{r.code} {r.name} ({r.severity}{', fixable with --fix' if r.fixable else ''})\n")
    print(f"{r.summary}\n\n{r.hint}\n")
    print("Bad:\n" + _indent(r.bad) + "\nGood:\n" + _indent(r.good))
    return ExitCode.OK


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" for line in text.rstrip("\n").split("\n")) if text else "    (an empty file)\n"


def _formats(args: argparse.Namespace) -> int:
    from dataforge.formats import FORMATS

    for name, fmt in FORMATS.items():
        print(f"{name:<20} {fmt.title}")
    return ExitCode.OK


def _convert(args: argparse.Namespace) -> int:
    from dataforge.convert import convert_file

    result = convert_file(args.input, args.to, args.output, args.source, force=args.force)
    for note in result.notes:
        print(f"{args.input}:{note.line}: record {note.record}: {note.message}", file=sys.stderr)
    print(f"wrote {result.written} record(s) to {args.output} as {args.to}; "
          f"{result.lossy} lost something, {result.skipped} not converted", file=sys.stderr)
    return ExitCode.FINDINGS if result.notes else ExitCode.OK


def _schema(args: argparse.Namespace) -> int:
    from dataforge.formats import get_format
    from dataforge.schemas import schema_text

    sys.stdout.write(schema_text(get_format(args.format).schema))
    return ExitCode.OK


def _templates(args: argparse.Namespace) -> int:
    import textwrap

    from dataforge.templates import TEMPLATES

    def detail(label: str, text: str) -> None:
        print(textwrap.fill(text, width=100, initial_indent=f"{'':<15}{label} ", subsequent_indent=" " * 24))

    for name, template in TEMPLATES.items():
        print(f"{name:<14} {template.title}")
        if args.verbose:
            detail("follows:", template.reference)
            for departure in template.departures:
                detail("differs:", departure)
    print(f"{'hf':<14} the tokenizer's own Jinja chat_template (masks from generation markers or rendered prefixes)")
    if args.verbose:
        detail("follows:", "the chat template the tokenizer ships, rendered by transformers and tokenized whole; masks "
                           "equal transformers' return_assistant_tokens_mask where the template has generation markers")
        detail("differs:", "`loss` flags are honoured (transformers trains every assistant turn)")
    return ExitCode.OK


def _preview(args: argparse.Namespace) -> int:
    from dataforge import preview_output
    from dataforge.convert import pick_record
    from dataforge.masking.session import MaskingSession

    index, line, sample, fmt_name = pick_record(args.file, record=args.record, line=args.line,
                                                first_with_findings=args.first_with_findings)
    session = MaskingSession.from_args(args, fmt_name)
    encoded, rows, summary = session.preview(sample)
    where = f"{args.file} record {index} (line {line}, {fmt_name})"
    header = (f"{where}: template {session.template_name}, tokenizer {session.tokenizer.name}, "
              f"labels {encoded.convention}" + (f", max length {args.max_len}" if args.max_len else ""))
    if args.output_format == "json":
        preview_output.as_json(rows, summary, {"file": args.file, "record": index, "line": line, "format": fmt_name,
                                               "template": session.template_name, "tokenizer": session.tokenizer.name,
                                               "label_convention": encoded.convention, "max_len": args.max_len},
                               sys.stdout)
    elif args.output_format == "sanity":
        preview_output.sanity(rows, sys.stdout)
    else:
        preview_output.table(rows, summary, header, sys.stdout)
    return ExitCode.OK


def _chunks(args: argparse.Namespace) -> int:
    import json

    from dataforge.docx_source.chunker import chunk_blocks
    from dataforge.docx_source.reader import read_blocks

    chunks = chunk_blocks(read_blocks(args.docx), args.docx, args.budget)
    for c in chunks:
        if args.output_format == "json":
            print(json.dumps({"index": c.index, "id": c.id, "heading_path": list(c.heading_path),
                              "blocks": [c.first_block, c.last_block], "tokens": c.tokens, "text": c.text},
                             ensure_ascii=False))
        else:
            print(f"── chunk {c.index} · {c.path_text or '(no heading)'} · blocks {c.first_block}-{c.last_block}"
                  f" · {c.tokens} tokens")
            print(c.text + "\n")
    return ExitCode.OK


def _generate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dataforge.generate.job import GenerationJob, JobOptions, default_output
    from dataforge.generate.llm import Endpoint
    from dataforge.generate.progress import ProgressDisplay
    from dataforge.settings import generate_settings

    endpoint = Endpoint.from_settings(args.base_url, args.model, args.api_key_env, args.timeout, generate_settings())
    options = JobOptions(target=args.to, budget=args.budget, concurrency=args.concurrency, max_reasks=args.reasks,
                         per_chunk=args.per_chunk, turns=args.turns, tools=args.tools, retries=args.retries,
                         prices=tuple(args.price) if args.price else None)
    out = Path(args.output) if args.output else default_output(Path(args.docx[0]), args.to)
    with ProgressDisplay(sys.stderr, "offline" if endpoint is None else endpoint.model) as display:
        job = GenerationJob(args.docx, out, options, endpoint, progress=display.update, fresh=args.fresh,
                           force=args.force)
        report = job.run()
    cost = report.cost(options.prices)
    print(f"wrote {report.records} record(s) to {report.out} from {report.chunks} chunk(s)"
          + (f" ({report.resumed} resumed from the journal)" if report.resumed else ""), file=sys.stderr)
    if endpoint is not None:
        print(f"requests {report.requests}, replies reused {report.cached}, retried {report.retried}, "
              f"tokens {report.prompt_tokens} in / {report.completion_tokens} out"
              + (f", cost {cost:.4f}" if cost is not None else ""), file=sys.stderr)
    for change in dict.fromkeys(report.downgrades):
        print(f"note: the server refused a structured-output level: {change}", file=sys.stderr)
    if report.rejects:
        print(f"{report.rejects} rejected record(s) or reply(ies), with the reason, in {report.rejects_path}",
              file=sys.stderr)
    if report.records == 0 and report.chunks:
        print("dataforge: error: no record was made; a re-run asks again for the chunks that failed",
              file=sys.stderr)
    elif report.failed:
        print(f"{report.failed} chunk(s) made no record; a re-run asks again for them", file=sys.stderr)
    return ExitCode.FINDINGS if report.failed or not report.records else ExitCode.OK


def _tui(args: argparse.Namespace) -> int:
    if not sys.stdout.isatty():
        raise DataforgeError("the review app needs a terminal", hint="run it in a terminal, or use the other commands")
    from dataforge.tui.app import run

    return run(args.paths)


def _serve_test_llm(args: argparse.Namespace) -> int:
    import json
    import time

    from dataforge.generate.testserver import FakeLLM

    script = json.loads(open(args.script, encoding="utf-8").read()) if args.script else None
    with FakeLLM(script, args.latency, args.port) as server:
        print(server.base_url, flush=True)
        while True:
            time.sleep(3600)


_COMMANDS = {"lint": _lint, "rule": _rule, "formats": _formats, "convert": _convert, "schema": _schema,
             "templates": _templates, "preview": _preview, "chunks": _chunks, "generate": _generate,
             "serve-test-llm": _serve_test_llm, "tui": _tui}


def _handoff(args: argparse.Namespace) -> int:
    from dataforge import cli_handoff

    return cli_handoff.COMMANDS[args.command](args)


_COMMANDS.update(dict.fromkeys(("export", "mix", "dedup", "split", "stats"), _handoff))


def _train(args: argparse.Namespace) -> int:
    from dataforge import cli_train

    return cli_train.COMMANDS[args.command](args)


_COMMANDS.update(dict.fromkeys(("train", "chat", "merge"), _train))

if __name__ == "__main__":
    sys.exit(main())
