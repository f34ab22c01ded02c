"""DeepSpeed and several processes: the shipped ZeRO configs, the environment one process needs,
and who writes.

The configs in ``deepspeed/`` (zero0, zero1, zero2, zero2-offload, zero3, zero3-offload) leave
every value the run already owns as "auto" (batch size, accumulation, clipping, precision), so
transformers' Trainer fills them from the run's settings and the two can never disagree. The
optimizer is the Trainer's own (torch AdamW): DeepSpeed's fused and CPU Adam compile C++ on first
use, and ``zero_allow_untested_optimizer`` lets ZeRO wrap torch's.

ZeRO-3 splits every weight across processes; a save writes the pieces, not a model, unless
``stage3_gather_16bit_weights_on_model_save`` is set. It is set in the shipped configs and forced
on in a user's own ZeRO-3 config (and said), so every run's model/ folder reloads as a model.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dataforge.errors import DataforgeError

SHIPPED = Path(__file__).parent / "deepspeed"
NAMES = tuple(sorted(p.stem for p in SHIPPED.glob("*.json")))


def deepspeed_config(choice: str) -> tuple[dict, list[str]]:
    """(the DeepSpeed config for ``choice``, notes on what was changed): a shipped name
    (zero0 ... zero3-offload) or a path to the user's own JSON."""
    path = SHIPPED / f"{choice}.json" if choice in NAMES else Path(choice)
    if not path.is_file():
        raise DataforgeError(f"deepspeed: {choice!r} is neither a shipped config nor a file",
                             hint="one of: " + ", ".join(NAMES) + ", or a path to a DeepSpeed JSON config")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataforgeError(f"{path}: not a readable DeepSpeed JSON config ({exc})") from None
    if not isinstance(config, dict):
        raise DataforgeError(f"{path}: a DeepSpeed config is a JSON object")
    notes = []
    zero = config.get("zero_optimization") or {}
    if zero.get("stage") == 3 and not zero.get("stage3_gather_16bit_weights_on_model_save"):
        zero["stage3_gather_16bit_weights_on_model_save"] = True
        notes.append("ZeRO-3: turned on stage3_gather_16bit_weights_on_model_save (without it a save holds no weights)")
    if "optimizer" not in config:
        config.setdefault("zero_allow_untested_optimizer", True)
    return config, notes


def zero_stage(config: dict | None) -> int | None:
    return None if config is None else int((config.get("zero_optimization") or {}).get("stage", 0))


def single_process_env() -> None:
    """What ``deepspeed.initialize`` needs to find in one process started without a launcher
    (otherwise it looks for MPI): this process is rank 0 of 1, on a free local port."""
    if "RANK" in os.environ:
        return
    os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def skip_cpu_shm_build() -> None:
    """On a machine without an accelerator, DeepSpeed compiles a shared-memory all-reduce with gcc
    at every first start (24-72 s on two cores) only to speed up collectives between processes on
    one machine. CPU training is for trying a config out; gloo's all-reduce does the same job."""
    import torch

    if torch.cuda.is_available():
        return
    import deepspeed.ops

    compatible = getattr(deepspeed.ops, "__compatible_ops__", None)
    if isinstance(compatible, dict):
        compatible["deepspeed_shm_comm"] = False


def gathered(model, zero3: bool):
    """A context in which every weight of ``model`` is whole: under ZeRO-3 each process holds
    only its piece (the module's tensor is an empty placeholder), so anything that reads weights
    (peft's adapter save, save_pretrained of a base) must run inside it. Every process enters it
    (gathering is collective); one of them writes."""
    from contextlib import nullcontext

    if not zero3:
        return nullcontext()
    import deepspeed

    return deepspeed.zero.GatheredParameters(list(model.parameters()), modifier_rank=None)
