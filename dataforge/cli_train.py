"""`dataforge train CONFIG.yaml [key=value ...]`: the bundled trainer's command line."""

from __future__ import annotations

import argparse
import os
import sys

from dataforge.errors import DataforgeError, ExitCode


def add_parsers(sub) -> None:
    train = sub.add_parser("train", help="fine-tune a model on linted data (full, LoRA, P-Tuning v2)",
                           description="Lint the data (errors stop the run), print the sanity check of the "
                                       "first example and a memory estimate, then train with transformers' "
                                       "Trainer. A run folder that holds checkpoints resumes from the last.")
    train.add_argument("config", metavar="CONFIG.yaml")
    train.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="settings over the file's (lora.r=16)")
    train.add_argument("--nproc", type=int, default=1, metavar="N",
                       help="N processes on this machine, one per GPU (data-parallel; started through torchrun). "
                            "Several machines: see the README's training section")
    # the deepspeed launcher appends --local_rank=N to each process's arguments
    train.add_argument("--local_rank", "--local-rank", type=int, help=argparse.SUPPRESS)

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

    if args.local_rank is not None:
        os.environ.setdefault("LOCAL_RANK", str(args.local_rank))
    try:
        from dataforge.trainer.config import load_config

        config = load_config(args.config, args.overrides)
        from dataforge.trainer.run import train as run_training
    except ImportError as exc:
        raise DataforgeError(f"training needs packages that are not installed ({exc.name})",
                             hint="pip install 'dataforge-sft[train]'") from None
    if args.nproc > 1:  # the config checked once, here, before any process starts
        return _launch(args)
    try:
        run_training(config, sys.stderr)
    except Refused as exc:
        from dataforge.cli_handoff import _refused

        return _refused(exc)
    _leave_process_group()  # after a success only: a failed process must not wait for the others
    return ExitCode.OK


def _leave_process_group() -> None:
    """One of several processes leaves together with the others: a process that exits while its
    peers still talk to it over gloo can take them down with an abort."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        try:
            dist.barrier()
        finally:
            dist.destroy_process_group()


def _launch(args: argparse.Namespace) -> int:
    """This same command in ``--nproc`` processes through torchrun; its exit status is theirs."""
    import subprocess

    from dataforge.trainer.distributed import free_port

    if "RANK" in os.environ:
        raise DataforgeError("--nproc is for starting a run; this process is already one of a launched run")
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(args.nproc),
               "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
               "-m", "dataforge", "train", args.config, *args.overrides]
    print("running: " + " ".join(command[2:]), file=sys.stderr)
    return subprocess.run(command).returncode


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
