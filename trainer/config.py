"""A training run's settings: a YAML file, overridden by key=value arguments, checked before
anything loads (an unknown key is an error that suggests the key meant).

Everything here is plain Python: reading and checking a config never imports torch.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from dataforge.errors import DataforgeError

from .distributed import NAMES as SHIPPED_DEEPSPEED

METHODS = ("full", "lora", "prefix")
PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass
class LoraSettings:
    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])


@dataclass
class PrefixSettings:
    virtual_tokens: int = 16  # P-Tuning v2's PRE_SEQ_LEN


@dataclass
class TinyModel:
    """A model built from a config, no download: what samples/ and the tests train."""

    architecture: str = "llama"  # llama or qwen2
    hidden_size: int = 64
    layers: int = 2
    heads: int = 4
    intermediate_size: int = 128


@dataclass
class TrainConfig:
    data: list[str] = field(default_factory=list)  # dataset files or folders, as lint takes them
    output: str = "runs/run"
    template: str | None = None  # default: the first dataset's format's template
    tokenizer: str | None = None  # a folder, qwen, or "train" (a small BPE trained on the data, offline)
    vocab_size: int = 2000  # for tokenizer: train
    model: str | None = None  # a local model folder; None: tiny (built from the `tiny` settings)
    tiny: TinyModel = field(default_factory=TinyModel)
    method: str = "full"
    lora: LoraSettings = field(default_factory=LoraSettings)
    prefix: PrefixSettings = field(default_factory=PrefixSettings)
    max_len: int = 512
    epochs: float = 1.0
    max_steps: int = -1  # over epochs when above 0
    batch_size: int = 4
    grad_accum: int = 1
    learning_rate: float = 1e-3
    warmup_ratio: float = 0.0
    seed: int = 0
    eval: float | int | None = None  # an eval split, as `dataforge split --eval` takes it
    group_by_length: bool = False  # batches of examples of like length: less padding
    quantize: int | None = None  # 8 or 4: the base weights through bitsandbytes (a GPU only)
    packing: bool = False  # a batch's examples end to end in one row, none attending to another
    deepspeed: str | None = None  # zero0 ... zero3, zero2-offload, zero3-offload, or a JSON config file
    precision: str = "fp32"  # fp32, bf16, or fp16 (fp16 needs a GPU)
    save_steps: int = 50
    logging_steps: int = 1
    trust_remote_code: bool = False

    def check(self) -> TrainConfig:
        if not self.data:
            raise DataforgeError("the config names no data", hint="data: [path/to/set.jsonl, ...]")
        if self.method not in METHODS:
            raise DataforgeError(f"unknown method {self.method!r}", hint="one of: " + ", ".join(METHODS))
        for name in ("max_len", "batch_size", "grad_accum", "save_steps", "logging_steps", "vocab_size"):
            if getattr(self, name) < 1:
                raise DataforgeError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.quantize not in (None, 4, 8):
            raise DataforgeError(f"quantize is 8 or 4 (bits of the base weights), not {self.quantize!r}")
        if self.quantize and self.method == "full":
            raise DataforgeError("quantized base weights cannot be trained in full",
                                 hint="use method: lora (QLoRA) or prefix with quantize")
        if self.precision not in PRECISIONS:
            raise DataforgeError(f"unknown precision {self.precision!r}", hint="one of: " + ", ".join(PRECISIONS))
        if self.packing and self.method == "prefix":
            raise DataforgeError("packing cannot be used with prefix tuning",
                                 hint="the prefix is put before each row, so packed examples would share it")
        if self.learning_rate <= 0:
            raise DataforgeError(f"learning_rate must be above 0, not {self.learning_rate}")
        return self

    def as_dict(self) -> dict:
        return asdict(self)


def load_config(path: str | Path, overrides: list[str] = ()) -> TrainConfig:
    """The config in ``path`` (YAML), with ``key=value`` overrides (dotted keys for sections:
    lora.r=16), checked."""
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise DataforgeError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise DataforgeError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise DataforgeError(f"{path}: a config maps settings to values")
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise DataforgeError(f"{item!r}: overrides are key=value")
        target = raw
        *parents, last = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = yaml.safe_load(value)
    base = Path(path).resolve().parent
    config = _build(TrainConfig, raw, "")
    # paths in the config are relative to the config's folder, as users write them
    config.data = [str(_resolve(base, p)) for p in config.data]
    config.output = str(_resolve(base, config.output))
    for name in ("model", "tokenizer"):
        value = getattr(config, name)
        if value not in (None, "qwen", "train"):
            setattr(config, name, str(_resolve(base, value)))
    if config.deepspeed is not None and config.deepspeed not in SHIPPED_DEEPSPEED:
        config.deepspeed = str(_resolve(base, config.deepspeed))
    return config.check()


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return (path if path.is_absolute() else base / path).resolve()


def _build(cls, raw: dict, prefix: str):
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            raise DataforgeError(f"unknown setting '{prefix}{key}'",
                                 hint=f"did you mean {prefix}{close[0]}?" if close
                                 else "known: " + ", ".join(prefix + k for k in known))
        default = known[key].default_factory() if callable(known[key].default_factory) else known[key].default
        if hasattr(default, "__dataclass_fields__"):
            if not isinstance(value, dict):
                raise DataforgeError(f"{prefix}{key} is a section of settings, not {value!r}")
            values[key] = _build(type(default), value, f"{prefix}{key}.")
            continue
        values[key] = _typed(f"{prefix}{key}", value, default)
    return cls(**values)


def _typed(name: str, value: Any, default: Any) -> Any:
    """``value`` checked against the default's type (ints pass for floats; None where the default
    is None takes anything of the documented kinds)."""
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, list):
        value = [value] if isinstance(value, str) else value
        ok = isinstance(value, list)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise DataforgeError(f"{name} must be {type(default).__name__}, not {value!r}")
    return value
