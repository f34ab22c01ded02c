"""`dataforge train CONFIG.yaml [key=value ...]`: the bundled trainer's command line."""

from __future__ import annotations

import argparse
import sys

from dataforge.errors import DataforgeError, ExitCode


def add_parsers(sub) -> None:
    train = sub.add_parser("train", help="fine-tune a model on linted data (full, LoRA, P-Tuning v2)",
                           description="Lint the data (errors stop the run), print the sanity check of the "
                                       "first example and a memory estimate, then train with transformers' "
                                       "Trainer. A run folder that holds checkpoints resumes from the last.")
    train.add_argument("config", metavar="CONFIG.yaml")
    train.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="settings over the file's (lora.r=16)")

    chat = sub.add_parser("chat", help="talk to a trained model in the template it was trained with",
                          description="RUN: a folder `dataforge train` wrote (or a model folder, with --template).")
    chat.add_argument("path", metavar="RUN_OR_MODEL")
    chat.add_argument("-m", "--message", help="one message, one answer, then exit")
    chat.add_argument("--template", help="the template (a run's own by default)")
    chat.add_argument("--force", action="store_true", help="use --template although the run was trained with another")
    chat.add_argument("--system", help="a system message first")
    chat.add_argument("--max-new-tokens", type=int, default=200)

    merge = sub.add_parser("merge", help="merge a LoRA run's adapter into its base: a standalone model")
    merge.add_argument("path", metavar="RUN")
    merge.add_argument("-o", "--output", required=True, metavar="DIR")


def train(args: argparse.Namespace) -> int:
    from dataforge.collect import Refused

    try:
        from dataforge.trainer.config import load_config

        config = load_config(args.config, args.overrides)
        from dataforge.trainer.run import train as run_training
    except ImportError as exc:
        raise DataforgeError(f"training needs packages that are not installed ({exc.name})",
                             hint="pip install 'dataforge-sft[train]'") from None
    try:
        run_training(config, sys.stderr)
    except Refused as exc:
        from dataforge.cli_handoff import _refused

        return _refused(exc)
    return ExitCode.OK


def chat(args: argparse.Namespace) -> int:
    try:
        from dataforge.trainer.chat import chat as run_chat
    except ImportError as exc:
        raise DataforgeError(f"chat needs packages that are not installed ({exc.name})",
                             hint="pip install 'dataforge-sft[train]'") from None
    return run_chat(args.path, args.message, args.template, args.force, args.system, sys.stdout, args.max_new_tokens)


def merge(args: argparse.Namespace) -> int:
    try:
        from dataforge.trainer.chat import merge as run_merge
    except ImportError as exc:
        raise DataforgeError(f"merge needs packages that are not installed ({exc.name})",
                             hint="pip install 'dataforge-sft[train]'") from None
    out = run_merge(args.path, args.output)
    print(f"wrote {out} (chat with it: dataforge chat {out})", file=sys.stderr)
    return ExitCode.OK


COMMANDS = {"train": train, "chat": chat, "merge": merge}
